"""Object mappings and a recording reverse transform for the engine's decision tests."""

from __future__ import annotations

from typing import Any

from app.sync.mapping.model import ConflictRule, Direction, FieldRule, ObjectMapping


def field(
    name: str,
    direction: Direction | None = None,
    conflict: ConflictRule | None = None,
    **extra: Any,
) -> FieldRule:
    """A field ``name`` in HubSpot fed by source field ``src_<name>``."""
    extra.setdefault("source", f"src_{name}")
    return FieldRule(hubspot=name, direction=direction, conflict=conflict, **extra)


def mapping(
    *fields: FieldRule,
    direction: Direction = Direction.both,
    conflict: ConflictRule = ConflictRule.newest,
    key: str = "customer_no",
    **extra: Any,
) -> ObjectMapping:
    """A ``companies`` object mapping with ``fields`` (``name`` when none are given)."""
    return ObjectMapping(
        name="companies",
        source={"object": "customers", "key": key, "updated": "changed_at"},
        hubspot={"object": "companies", "match": "erp_customer_no"},
        direction=direction,
        conflict=conflict,
        fields=list(fields) or [field("name")],
        **extra,
    )


def reverse(rule: FieldRule, value: str | None) -> Any:
    """A visible stand-in for a reverse transform: ``rev:<value>``, None stays None."""
    return None if value is None else f"rev:{value}"


def identity(rule: FieldRule, value: str | None) -> Any:
    """A reverse transform that hands the HubSpot value back unchanged."""
    return value
