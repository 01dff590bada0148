"""The contract between the connector conformance suite and each connector's test set-up.

Every registered connector must have a ``Harness``: it owns a real backing
system (a database, a folder, a test API over loopback), puts rows into it
behind the connector's back, and builds connectors configured against it.
The suite (``test_conformance.py``) then checks the connector only through
the SDK calls. Harness factories register themselves in ``HARNESSES`` under
the connector's entry-point name; a connector without one fails the suite.

The object under test is called ``OBJECT`` and has the fields of ``FIELDS``:
``id`` (string key), ``name`` (string), ``amount`` (number) and
``updated_at`` (timezone-aware datetime, the change cursor, set by the harness).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol

from app.connectors.base import Connector, Key, Record

OBJECT = "customers"
FIELDS = ("id", "name", "amount", "updated_at")


class Harness(Protocol):
    """One connector's backing system, driven from outside the connector."""

    connector_name: str
    detects_deletes: bool  # whether ``read`` reports keys removed behind its back
    supports_equal_cursor_values: bool  # whether many rows can share one cursor value

    def connector(self, **overrides: Any) -> Connector[Any]:
        """A connector configured against the system (``batch_size`` etc. as overrides)."""

    async def insert(self, rows: Sequence[Record], at: datetime) -> None:
        """Add rows (id, name, amount) with ``updated_at = at``, bypassing the connector."""

    async def update(self, rows: Sequence[Record], at: datetime) -> None:
        """Change existing rows' name/amount and set ``updated_at = at``."""

    async def remove(self, keys: Sequence[Key]) -> None:
        """Delete rows, bypassing the connector."""

    async def rows(self) -> dict[Key, Record]:
        """Everything in the system now, by key (to check writes and deletes)."""

    def bad_settings(self) -> tuple[Mapping[str, Any], str]:
        """Settings with one invalid value, and the field name the error must name."""

    def unreachable(self, timeout_s: float) -> Connector[Any]:
        """A connector whose system does not answer, configured with ``timeout_s``."""


# An async context manager factory yielding a fresh, empty harness (one per test).
HarnessFactory = Callable[[], AbstractAsyncContextManager[Harness]]
# Connector name → its harness factories (several when one connector has several
# backends, e.g. sql on SQLite, PostgreSQL and MariaDB), keyed by a short label.
HARNESSES: dict[str, dict[str, HarnessFactory]] = {}


def harness(connector_name: str, label: str) -> Callable[[HarnessFactory], HarnessFactory]:
    """Register a harness factory for ``connector_name`` under ``label`` (e.g. "postgresql")."""

    def register(factory: HarnessFactory) -> HarnessFactory:
        HARNESSES.setdefault(connector_name, {})[label] = factory
        return factory

    return register
