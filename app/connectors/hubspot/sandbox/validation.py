"""Property values checked as HubSpot does: known, writable, well-typed, among the options."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from app.connectors.hubspot.sandbox.errors import bad_request, detail
from app.connectors.hubspot.sandbox.schema import ObjectType, PropertyDef
from app.connectors.hubspot.sandbox.times import iso, parse_instant

DAY_MS = 86_400_000
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

Issue = dict[str, Any]


def as_text(raw: object) -> str | None:
    """A JSON property value as HubSpot's string form; None for objects and arrays."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return str(raw)
    if raw is None:
        return ""
    return None


def _number(prop: PropertyDef, value: str) -> str | Issue:
    try:
        ok = math.isfinite(float(value))
    except ValueError:
        ok = False
    return (
        value.strip()
        if ok
        else detail(f"{value} was not a valid number.", "INVALID_INTEGER", prop.name)
    )


def _bool(prop: PropertyDef, value: str) -> str | Issue:
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered
    return detail(f"{value} was not a valid boolean.", "INVALID_BOOLEAN", prop.name)


def _datetime(prop: PropertyDef, value: str) -> str | Issue:
    ms = parse_instant(value)
    if ms is None:
        return detail(f"{value} was not a valid datetime.", "INVALID_DATETIME", prop.name)
    return iso(ms)


def _date(prop: PropertyDef, value: str) -> str | Issue:
    ms = parse_instant(value)
    if ms is None:
        return detail(f"{value} was not a valid date.", "INVALID_DATE", prop.name)
    if ms % DAY_MS:
        at = iso(ms)[11:23]
        return detail(f"{value} is at {at} UTC, not midnight!", "INVALID_DATE", prop.name)
    return iso(ms)[:10]


def _enumeration(prop: PropertyDef, value: str) -> str | Issue:
    if prop.external_options:
        return value
    chosen = value.split(";") if prop.field_type == "checkbox" else [value]
    allowed = prop.option_values
    bad = [v for v in chosen if v not in allowed]
    if not bad:
        return value
    message = f"{bad[0]} was not one of the allowed options: {sorted(allowed)}"
    return detail(message, "INVALID_OPTION", prop.name)


def _string(prop: PropertyDef, value: str) -> str | Issue:
    if prop.name == "email":
        if not _EMAIL.match(value.strip()):
            return detail(f"Email address {value} is invalid", "INVALID_EMAIL", prop.name)
        return value.strip().lower()
    return value


_CHECKS: dict[str, Callable[[PropertyDef, str], str | Issue]] = {
    "number": _number,
    "bool": _bool,
    "datetime": _datetime,
    "date": _date,
    "enumeration": _enumeration,
}


def clean_value(prop: PropertyDef, raw: object) -> str | Issue:
    """The stored form of ``raw`` for ``prop``, or an issue saying why it is refused."""
    value = as_text(raw)
    if value is None:
        return detail(f"{prop.name} must be a string value", "INVALID_PROPERTY_VALUE", prop.name)
    if prop.read_only:
        message = f'"{prop.name}" is a read only property; its value cannot be set.'
        return detail(message, "READ_ONLY_VALUE", prop.name)
    if value == "":
        return ""
    return _CHECKS.get(prop.type, _string)(prop, value)


def clean_properties(
    ot: ObjectType, raw: Mapping[str, object]
) -> tuple[dict[str, str], list[Issue]]:
    """Validated, normalised values of a write, plus every problem found."""
    clean: dict[str, str] = {}
    issues: list[Issue] = []
    props = ot.properties
    for name, value in raw.items():
        prop = props.get(name)
        if prop is None:
            issues.append(
                detail(f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST", name)
            )
            continue
        result = clean_value(prop, value)
        if isinstance(result, str):
            clean[name] = result
        else:
            issues.append(result)
    return clean, issues


FIELD_TYPES: dict[str, frozenset[str]] = {
    "string": frozenset({"text", "textarea", "html", "file", "phonenumber"}),
    "number": frozenset({"number", "calculation_equation"}),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "enumeration": frozenset({"select", "radio", "checkbox", "booleancheckbox"}),
    "bool": frozenset({"booleancheckbox"}),
    "phone_number": frozenset({"phonenumber"}),
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_UNIQUE = 10


def _options(raw: object) -> tuple[dict[str, Any], ...]:
    if not isinstance(raw, list) or not all(isinstance(o, dict) for o in raw):
        raise bad_request("options must be a list of objects", "INVALID_OPTIONS", "options")
    options = []
    for i, option in enumerate(raw):
        if not isinstance(option.get("label"), str) or not isinstance(option.get("value"), str):
            raise bad_request("Each option needs a label and a value", "INVALID_OPTIONS", "options")
        entry = {"label": option["label"], "value": option["value"]}
        entry["hidden"] = bool(option.get("hidden", False))
        entry["displayOrder"] = int(option.get("displayOrder", i))
        if isinstance(option.get("description"), str):
            entry["description"] = option["description"]
        options.append(entry)
    return tuple(options)


def _required(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise bad_request(f"{key} is required", "REQUIRED_FIELD", key)
    return value


def property_from_request(ot: ObjectType, body: Mapping[str, Any], now_ms: int) -> PropertyDef:
    """A new custom property from a ``PropertyCreate`` body, checked as HubSpot checks it."""
    name, label = _required(body, "name"), _required(body, "label")
    kind, field_type = _required(body, "type"), _required(body, "fieldType")
    group = _required(body, "groupName")
    if not _NAME.match(name):
        raise bad_request(
            f"Property name {name!r} must be lowercase: a-z, 0-9, _", "INVALID_NAME", "name"
        )
    if kind not in FIELD_TYPES:
        raise bad_request(f"Unknown property type {kind!r}", "INVALID_TYPE", "type")
    if field_type not in FIELD_TYPES[kind]:
        message = f"fieldType {field_type!r} is not valid for type {kind!r}"
        raise bad_request(message, "INVALID_FIELD_TYPE", "fieldType")
    if group not in ot.groups:
        raise bad_request(f"Property group {group} does not exist", "INVALID_GROUP", "groupName")
    options = _options(body.get("options", []))
    if kind == "enumeration" and not options:
        raise bad_request("Enumeration properties need options", "INVALID_OPTIONS", "options")
    unique = bool(body.get("hasUniqueValue", False))
    if unique and len(ot.unique) >= MAX_UNIQUE:
        raise bad_request(f"At most {MAX_UNIQUE} unique properties per object", "TOO_MANY_UNIQUE")
    return PropertyDef(
        name, kind, field_type, label=label, group_name=group,
        description=str(body.get("description", "")), options=options, has_unique_value=unique,
        hubspot_defined=False, external_options=bool(body.get("externalOptions", False)),
        display_order=int(body.get("displayOrder", -1)),
        form_field=bool(body.get("formField", False)), created_ms=now_ms,
    )  # fmt: skip
