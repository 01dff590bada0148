"""CRM search as HubSpot answers it: ORed filter groups, one sort, offset paging, the 10k cap."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from app.connectors.hubspot.sandbox.errors import bad_request
from app.connectors.hubspot.sandbox.schema import ObjectType, PropertyDef
from app.connectors.hubspot.sandbox.store import Record
from app.connectors.hubspot.sandbox.times import parse_instant

MAX_GROUPS, MAX_FILTERS, MAX_TOTAL, MAX_LIMIT = 5, 6, 18, 200
_TOKEN = re.compile(r"[^\W_]+")
_NUMERIC = frozenset({"number", "date", "datetime"})
_SINGLE = frozenset({"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"})
_MULTI = frozenset({"IN", "NOT_IN"})
_PRESENCE = frozenset({"HAS_PROPERTY", "NOT_HAS_PROPERTY"})
OPERATORS = _SINGLE | _MULTI | _PRESENCE | {"BETWEEN"}

Key = float | str
Test = Callable[[Record], bool]


def value_of(ot: ObjectType, record: Record, name: str) -> str | None:
    """A record's value of ``name``, the derived system properties included."""
    if name == "hs_object_id":
        return str(record.id)
    if name == "createdate":
        return str(record.created_ms)
    if name == ot.lastmodified:
        return str(record.updated_ms)
    return record.props.get(name)


def sort_key(prop: PropertyDef, value: str) -> Key:
    """How values of ``prop`` compare: numbers and instants numerically, text case-blind."""
    if prop.type in _NUMERIC:
        number = parse_instant(value) if prop.type != "number" else _float(value)
        return float("nan") if number is None else float(number)
    return value.lower()


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


@dataclass(slots=True)
class Query:
    """A parsed search request."""

    test: Test
    sort: Callable[[Record], tuple[int, Key, int]] | None
    descending: bool
    properties: list[str] | None
    limit: int
    offset: int
    since_ms: int | None = None  # every match was modified at or after this (pushed to SQL)


def _compare(op: str, key: Key, want: Key) -> bool:
    if isinstance(key, float) != isinstance(want, float):
        return False
    match op:
        case "EQ":
            return key == want
        case "NEQ":
            return key != want
        case "LT":
            return key < want  # type: ignore[operator]
        case "LTE":
            return key <= want  # type: ignore[operator]
        case "GT":
            return key > want  # type: ignore[operator]
        case _:
            return key >= want  # type: ignore[operator]


def _tokens_match(value: str, pattern: str) -> bool:
    pattern = pattern.lower()
    if "*" in pattern:
        return fnmatch.fnmatchcase(value.lower(), pattern) or any(
            fnmatch.fnmatchcase(t, pattern) for t in _TOKEN.findall(value.lower())
        )
    have = set(_TOKEN.findall(value.lower()))
    return all(t in have for t in _TOKEN.findall(pattern))


def _string(raw: object, name: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise bad_request(f"Filter on {name} needs a value", "INVALID_FILTER", name)
    return str(raw)


def _filter(ot: ObjectType, spec: Any) -> Test:
    if not isinstance(spec, dict):
        raise bad_request("Each filter must be an object", "INVALID_FILTER")
    name, op = spec.get("propertyName"), spec.get("operator")
    prop = ot.properties.get(name) if isinstance(name, str) else None
    if prop is None:
        raise bad_request(f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST", str(name))
    if op not in OPERATORS:
        raise bad_request(f"Unknown filter operator {op}", "INVALID_OPERATOR", prop.name)
    get = _getter(ot, prop)
    if op in _PRESENCE:
        present = op == "HAS_PROPERTY"
        return lambda r: (get(r) is not None) == present
    if op in _MULTI:
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise bad_request(f"{op} on {prop.name} needs values", "INVALID_FILTER", prop.name)
        wanted = {sort_key(prop, _string(v, prop.name)) for v in values}
        inside = op == "IN"
        return lambda r: ((v := get(r)) is not None and sort_key(prop, v) in wanted) == inside
    value = _string(spec.get("value"), prop.name)
    if op == "BETWEEN":
        low, high = sort_key(prop, value), sort_key(prop, _string(spec.get("highValue"), prop.name))
        return lambda r: (
            (v := get(r)) is not None
            and _compare("GTE", k := sort_key(prop, v), low)
            and _compare("LTE", k, high)
        )
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        inside = op == "CONTAINS_TOKEN"
        return lambda r: ((v := get(r)) is not None and _tokens_match(v, value)) == inside
    want = sort_key(prop, value)
    if op == "NEQ":
        return lambda r: (v := get(r)) is None or _compare(op, sort_key(prop, v), want)
    return lambda r: (v := get(r)) is not None and _compare(op, sort_key(prop, v), want)


def _getter(ot: ObjectType, prop: PropertyDef) -> Callable[[Record], str | None]:
    name = prop.name
    return lambda r: value_of(ot, r, name)


def _groups(ot: ObjectType, raw: object) -> Test:
    groups = raw if isinstance(raw, list) else []
    filters = [g.get("filters", []) if isinstance(g, dict) else [] for g in groups]
    if len(groups) > MAX_GROUPS or any(len(f) > MAX_FILTERS for f in filters):
        raise bad_request(
            f"Too many filters: at most {MAX_GROUPS} groups of {MAX_FILTERS} filters",
            "TOO_MANY_FILTERS",
        )
    if sum(map(len, filters)) > MAX_TOTAL:
        raise bad_request(f"Too many filters: at most {MAX_TOTAL} in total", "TOO_MANY_FILTERS")
    tests = [[_filter(ot, spec) for spec in group] for group in filters if group]
    if not tests:
        return lambda r: True
    return lambda r: any(all(t(r) for t in group) for group in tests)


def _since(ot: ObjectType, raw: object) -> int | None:
    """The earliest last-modified time any group allows, if every group bounds it from below."""
    groups = [g.get("filters") for g in raw if isinstance(g, dict)] if isinstance(raw, list) else []
    bounds = []
    for group in groups:
        lows = [
            parse_instant(str(f.get("value")))
            for f in group or []
            if isinstance(f, dict)
            and f.get("propertyName") == ot.lastmodified
            and f.get("operator") in ("GT", "GTE", "BETWEEN")
        ]
        known = [low for low in lows if low is not None]
        if not known:
            return None
        bounds.append(max(known))
    return min(bounds, default=None)


def _sort(
    ot: ObjectType, raw: object
) -> tuple[Callable[[Record], tuple[int, Key, int]] | None, bool]:
    sorts = raw if isinstance(raw, list) else []
    if not sorts:
        return None, False
    first = sorts[0]
    name: object
    if isinstance(first, str):
        name, descending = first.lstrip("-"), first.startswith("-")
    elif isinstance(first, dict):
        name, descending = first.get("propertyName"), first.get("direction") == "DESCENDING"
    else:
        raise bad_request("Invalid sort", "INVALID_SORT")
    prop = ot.properties.get(name) if isinstance(name, str) else None
    if prop is None:
        raise bad_request(f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST", str(name))
    get = _getter(ot, prop)

    def key(r: Record) -> tuple[int, Key, int]:
        value = get(r)
        return (1, "", r.id) if value is None else (0, sort_key(prop, value), r.id)

    return key, descending


def _int(raw: object, default: int, name: str) -> int:
    if raw is None or raw == "":
        return default
    try:
        return int(str(raw))
    except ValueError:
        raise bad_request(f"{name} must be a number", "INVALID_INTEGER", name) from None


def parse(ot: ObjectType, body: dict[str, Any], cap: int) -> Query:
    """Check a ``PublicObjectSearchRequest`` against HubSpot's limits and compile it."""
    limit = _int(body.get("limit"), 10, "limit")
    offset = _int(body.get("after"), 0, "after")
    if not 0 < limit <= MAX_LIMIT:
        raise bad_request(f"limit must be between 1 and {MAX_LIMIT}", "INVALID_LIMIT", "limit")
    if offset >= cap:
        message = f"Paging past {cap} results is not allowed; narrow the search instead"
        raise bad_request(message, "SEARCH_RESULT_LIMIT", "after")
    test = _groups(ot, body.get("filterGroups"))
    query_text = body.get("query")
    if isinstance(query_text, str) and query_text.strip():
        words = query_text.strip()
        base = test
        test = lambda r: base(r) and any(_tokens_match(v, words + "*") for v in r.props.values())  # noqa: E731
    sort, descending = _sort(ot, body.get("sorts"))
    props = body.get("properties")
    wanted = [p for p in props if isinstance(p, str)] if isinstance(props, list) and props else None
    since = _since(ot, body.get("filterGroups"))
    return Query(test, sort, descending, wanted, limit, offset, since)


def run(
    query: Query, candidates: Iterable[Record], cap: int
) -> tuple[int, list[Record], int | None]:
    """Total matches, the requested page, and the next offset if there is one within the cap."""
    matches = [r for r in candidates if query.test(r)]
    if query.sort is not None:
        key = query.sort
        present = sorted((r for r in matches if key(r)[0] == 0), key=key, reverse=query.descending)
        matches = present + [r for r in matches if key(r)[0] == 1]
    end = min(query.offset + query.limit, cap)
    page = matches[query.offset : end]
    more = end < min(len(matches), cap)
    return len(matches), page, end if more else None
