"""Where connectors are found: the ``hubsync.connectors`` entry-point group.

A third party ships a connector as its own package by declaring, in its
``pyproject.toml``::

    [project.entry-points."hubsync.connectors"]
    myerp = "myerp_connector:MyErpConnector"

The registry holds classes; connection rows hold configured instances' settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from app.connectors.base import Connector
from app.connectors.errors import ConnectorConfigError

ENTRY_POINT_GROUP = "hubsync.connectors"


@dataclass(frozen=True, slots=True)
class RegisteredConnector:
    """One installed connector: its key, class and the package that provides it."""

    name: str
    connector: type[Connector[Any]]
    package: str
    version: str


def _load(entry: EntryPoint) -> RegisteredConnector:
    loaded = entry.load()
    if not (isinstance(loaded, type) and issubclass(loaded, Connector)):
        raise TypeError(f"entry point {entry.name!r} ({entry.value}) is not a Connector class")
    if loaded.name != entry.name:
        raise TypeError(f"entry point {entry.name!r} loads a connector named {loaded.name!r}")
    dist = entry.dist
    return RegisteredConnector(
        name=entry.name,
        connector=loaded,
        package=dist.name if dist else "?",
        version=dist.version if dist else "?",
    )


@cache
def installed_connectors() -> dict[str, RegisteredConnector]:
    """Every connector installed in this environment, by name."""
    found = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found[entry.name] = _load(entry)
    return dict(sorted(found.items()))


def connector_class(name: str) -> type[Connector[Any]]:
    """The connector class registered as ``name``; a clear error for an unknown one."""
    installed = installed_connectors()
    if name not in installed:
        known = ", ".join(installed) or "none"
        raise ConnectorConfigError("connector", f"unknown connector {name!r} (installed: {known})")
    return installed[name].connector
