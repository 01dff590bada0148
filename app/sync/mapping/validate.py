"""Validating a mapping or interface file as ``hubsync mapping validate`` does.

The file is checked on its own first (format, transforms, templates); an
interface file that names both systems is then checked against their real
schemas (the connector's ``discover()`` and the portal's properties).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.registry import connector_class
from app.sync.mapping.loader import read_interface_file, read_mapping
from app.sync.mapping.model import MappingTable
from app.sync.mapping.problems import Locator, MappingError, MappingProblem
from app.sync.mapping.schema_check import check_against, fetch_schemas

_TOP_LEVEL_MAPPING = re.compile(r"^mapping\s*:", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """A valid table with the problems its systems' schemas revealed, and what was skipped."""

    table: MappingTable
    problems: list[MappingProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def validate_file(
    text: str, *, source_name: str, environ: Mapping[str, str], remote: bool = True
) -> ValidationReport:
    """Check a file; raises ``MappingError`` for problems in the file itself."""
    if not _is_interface_file(text) or not remote:
        table = read_mapping(text, source_name=source_name).table
        return ValidationReport(table, notes=["the systems' schemas were not checked"])
    loaded = read_interface_file(text, environ=environ, source_name=source_name)
    interface = loaded.interface
    if interface.hubspot.access_token is None:
        stored = interface.hubspot.connection
        return ValidationReport(
            interface.mapping, notes=[f"not checked: HubSpot uses the stored connection {stored!r}"]
        )
    problems = await _check_systems(
        interface.mapping,
        loaded.locator.within("mapping"),
        connector=interface.source.connector,
        settings=interface.source.config,
        base_url=interface.hubspot.base_url,
        token=interface.hubspot.access_token.get_secret_value(),
    )
    return ValidationReport(interface.mapping, problems)


def _is_interface_file(text: str) -> bool:
    """Whether the file has a top-level ``mapping:`` key (the loader parses it safely later)."""
    return _TOP_LEVEL_MAPPING.search(text) is not None


async def _check_systems(
    table: MappingTable,
    locator: Locator,
    *,
    connector: str,
    settings: Mapping[str, object],
    base_url: str,
    token: str,
) -> list[MappingProblem]:
    source = connector_class(connector).from_settings(settings)
    async with source, HubSpotClient(StaticTokenProvider(token), base_url=base_url) as client:
        objects, properties = await fetch_schemas(
            table, connector=source, properties=client.properties
        )
    return check_against(
        table, source_objects=objects, hubspot_properties=properties, line_of=locator.line
    )


__all__ = ["MappingError", "ValidationReport", "validate_file"]
