"""Fehlerprotokoll logic: failed tasks grouped by cause, hints, and what was to be sent.

The same error on many records shows once. A message is normalised by masking
what belongs to one record (e-mail addresses, ids, numbers, the refused value,
HubSpot's correlation id) and grouped with its interface, object, category and
HTTP status. HubSpot's ``Property values were not valid: [...]`` is reduced to
the property names and error codes it lists; a digest of that cause is stored
on each failed item (``run_items.error_cause``) so the database groups them.
The hint table maps known causes to what the customer can do (msgids: the UI
translates them, German default). Pure functions only: the SQL is in
``app.sync.runs.failures`` and ``app.sync.runs.causes``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.models.enums import ErrorCategory

MAX_CAUSE_CHARS = 1000
MAX_VALUE_CHARS = 500
MAX_SAMPLE_KEYS = 5
DIGEST_CHARS = 32  # hex characters of a cause's digest (run_items.error_cause)
PROPERTY_ERRORS = "Property values were not valid: "


def mark(message: str) -> str:
    """Mark ``message`` for the UI catalog (``history.po``); the UI translates it."""
    return message


_CORRELATION = re.compile(r"\s*\(correlation ?id:? [^)]*\)", re.IGNORECASE)
_HUBSPOT_CATEGORY = re.compile(r"^(?:HTTP \d{3}: )?([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|CONFLICT): ")
_VALUES = (  # HubSpot and connector phrasings whose variable part is the record's value
    ("is invalid", re.compile(r"(Email address ).+?( is invalid)", re.I), r"\1<value>\2"),
    (
        "allowed options",
        re.compile(r"(^|: |\")[^:\"]+?( was not one of the allowed options)"),
        r"\1<value>\2",
    ),
    ("was not a valid", re.compile(r"(^|: |\")[^:\"]+?( was not a valid )"), r"\1<value>\2"),
    (
        "not midnight",
        re.compile(r"(^|: |\")[^:\"]+?( is at )\S+( UTC, not midnight)"),
        r"\1<value>\2<time>\3",
    ),
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_HEX_ID = re.compile(r"\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{12,}\b")
_NUMBER = re.compile(r"(?<![A-Za-z_<])\d+(?:[.,']\d+)*(?![A-Za-z_>])")
_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


def hubspot_category(message: str | None) -> str | None:
    """HubSpot's error category at the start of a stored message (``VALIDATION_ERROR``)."""
    found = _HUBSPOT_CATEGORY.match(message or "")
    return found.group(1) if found else None


def normalise(message: str | None) -> str:
    """``message`` with record-specific values masked, so equal causes compare equal."""
    text = message or ""
    if "orrelation" in text:
        text = _CORRELATION.sub("", text)
    text = _property_errors(text)
    for marker, pattern, replacement in _VALUES:  # the marker spares most messages the regex
        if marker in text:
            text = pattern.sub(replacement, text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    if _DIGIT.search(text):
        text = _NUMBER.sub("<n>", _HEX_ID.sub("<id>", _UUID.sub("<id>", text)))
    return _SPACE.sub(" ", text).strip()[:MAX_CAUSE_CHARS]


def cause_digest(message: str | None) -> str:
    """What ``run_items.error_cause`` stores for a failed item: its normalised message's
    digest, short and fixed-size so the database can index and group by it."""
    return _digest(normalise(message))


def _digest(cause: str) -> str:
    return hashlib.sha256(cause.encode()).hexdigest()[:DIGEST_CHARS]


def _property_errors(text: str) -> str:
    """HubSpot's legacy issue list reduced to ``name (CODE)`` per property."""
    head, found, tail = text.partition(PROPERTY_ERRORS)
    if not found or not tail.startswith("["):
        return text
    try:
        issues = json.loads(tail)
    except ValueError:
        return text
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        return text
    named = sorted({f"{i.get('name', '?')} ({i.get('error', '?')})" for i in issues})
    return head + PROPERTY_ERRORS + ", ".join(named)


@dataclass(frozen=True, slots=True)
class Hint:
    """A known cause in plain words and what to do about it (both msgids)."""

    code: str
    cause: str
    action: str


@dataclass(frozen=True, slots=True)
class _Rule:
    hint: Hint
    pattern: re.Pattern[str]
    statuses: frozenset[int] = frozenset()

    def matches(self, message: str, http_status: int | None) -> bool:
        return bool(self.pattern.search(message)) or http_status in self.statuses


def _rule(code: str, cause: str, action: str, pattern: str, *statuses: int) -> _Rule:
    return _Rule(Hint(code, cause, action), re.compile(pattern, re.IGNORECASE), frozenset(statuses))


HINT_RULES: tuple[_Rule, ...] = (  # first match wins: specific phrasings before status codes
    _rule(
        "missing_scope",
        mark("The HubSpot connection lacks a permission (scope)."),
        mark("Reconnect HubSpot and grant the missing scope; then retry."),
        r"MISSING_SCOPES|missing scopes|required scopes",
    ),
    _rule(
        "invalid_option",
        mark("The value is not one of the property's options in HubSpot."),
        mark("Add the option to the property in HubSpot, or translate the value in the mapping."),
        r"INVALID_OPTION|not one of the allowed options",
    ),
    _rule(
        "invalid_email",
        mark("The email address is not valid."),
        mark("Correct the email address in the source system; the next run sends it again."),
        r"INVALID_EMAIL|Email address .* is invalid|invalid email",
    ),
    _rule(
        "duplicate_value",
        mark("Another HubSpot record already has this unique value."),
        mark("Merge the duplicates in HubSpot or correct the key in the source system."),
        r"already exists|Existing ID|already has that value|duplicate|unique value",
        409,
    ),
    _rule(
        "property_missing",
        mark("The HubSpot property does not exist."),
        mark("Create the property in HubSpot (hubsync properties create) or fix the mapping."),
        r"PROPERTY_DOESNT_EXIST|Property \S+ does not exist|unknown property",
    ),
    _rule(
        "read_only",
        mark("The HubSpot property is read-only."),
        mark("Remove the property from the mapping or map it in the other direction."),
        r"READ_ONLY_VALUE|read only property",
    ),
    _rule(
        "invalid_date",
        mark("A date value is not valid for HubSpot."),
        mark("Send dates as YYYY-MM-DD; date properties take midnight UTC only."),
        r"INVALID_DATE|not a valid date|not midnight",
    ),
    _rule(
        "invalid_number",
        mark("A number value is not valid for HubSpot."),
        mark("Check the number format in the source system or add a transform to the field."),
        r"INVALID_(?:INTEGER|LONG|DOUBLE|NUMBER)|not a valid number",
    ),
    _rule(
        "rate_limit",
        mark("HubSpot's request limit was reached."),
        mark("Nothing to do: the next run sends the records again."),
        r"RATE_LIMIT|rate.?limit|secondly limit|daily limit|ten_secondly",
        429,
    ),
    _rule(
        "revoked_token",
        mark("The credentials were refused, expired or revoked."),
        mark("Reconnect the connection and check it (Test connection)."),
        r"INVALID_AUTHENTICATION|revoked|refused the credentials|refresh (?:was )?refused|"
        r"credentials not found|expired authentication",
        401,
    ),
    _rule(
        "hubspot_down",
        mark("HubSpot had a temporary problem."),
        mark("Nothing to do: the next run sends the records again."),
        r"INTERNAL_ERROR|Service unavailable",
        500,
        502,
        503,
        504,
    ),
    _rule(
        "source_unreachable",
        mark("The source system could not be reached."),
        mark("Check that the system is online and reachable from the hub; the next run retries."),
        r"unreachable|did not answer|timed out|timeout|connection refused|unavailable",
    ),
    _rule(
        "not_found",
        mark("The HubSpot record no longer exists (deleted or merged)."),
        mark("Check the record in HubSpot; the next run re-creates or re-links it."),
        r"OBJECT_NOT_FOUND|resource not found|Object \S+ does not exist",
        404,
    ),
    _rule(
        "forbidden",
        mark("HubSpot refused the call for lack of permission."),
        mark("Reconnect HubSpot with an account that may edit these records."),
        r"FORBIDDEN",
        403,
    ),
)


def hint_for(message: str | None, http_status: int | None) -> Hint | None:
    """The hint for a failure, if its message or HTTP status is a known cause."""
    text = message or ""
    return next((r.hint for r in HINT_RULES if r.matches(text, http_status)), None)


@dataclass(frozen=True, slots=True)
class GroupKey:
    """What makes failures one group: where they happened and their cause's stored digest."""

    interface_id: uuid.UUID
    object_name: str
    category: ErrorCategory | None
    http_status: int | None
    digest: str
    cause: str = field(default="", compare=False)  # the normalised message, for display

    @property
    def id(self) -> str:
        """A stable id for URLs (no user text in links): the interface's id, then a digest."""
        parts = (self.object_name, self.category, self.http_status, self.digest)
        rest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()
        return self.interface_id.hex + rest[:DIGEST_CHARS]


def interface_of(group_id: str) -> uuid.UUID | None:
    """The interface a group id made by ``GroupKey.id`` belongs to (None: no such id)."""
    if len(group_id) != 2 * DIGEST_CHARS:
        return None
    try:
        return uuid.UUID(hex=group_id[:DIGEST_CHARS])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class CauseCount:
    """Failed tasks with one stored cause: how many and when (one row of the SQL grouping)."""

    interface_id: uuid.UUID
    object_name: str
    category: ErrorCategory | None
    http_status: int | None
    digest: str | None
    count: int
    first_at: datetime
    last_at: datetime


@dataclass(slots=True)
class ErrorGroup:
    """Failed tasks with one cause: how many, since when, the newest full message, a hint."""

    key: GroupKey
    count: int
    first_at: datetime
    last_at: datetime
    message: str
    hubspot_category: str | None
    hint: Hint | None
    sample_keys: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        """The group's URL id."""
        return self.key.id

    @property
    def keys(self) -> list[str]:
        """Some of the affected records' source keys, sorted."""
        return sorted(self.sample_keys)


def key_of(
    interface_id: uuid.UUID,
    object_name: str,
    category: ErrorCategory | None,
    http_status: int | None,
    message: str | None,
) -> GroupKey:
    """The group a failed task with ``message`` belongs to."""
    cause = normalise(message)
    return GroupKey(interface_id, object_name, category, http_status, _digest(cause), cause)


def group_of(row: CauseCount, message: str | None, keys: Iterable[str | None]) -> ErrorGroup:
    """A counted cause as a group, worded by its newest ``message``, with sample ``keys``."""
    text = message or ""
    key = GroupKey(
        row.interface_id,
        row.object_name,
        row.category,
        row.http_status,
        row.digest or "",
        normalise(text),
    )
    samples = {k for k in keys if k}
    return ErrorGroup(
        key=key,
        count=row.count,
        first_at=row.first_at,
        last_at=row.last_at,
        message=text,
        hubspot_category=hubspot_category(text),
        hint=hint_for(text, row.http_status),
        sample_keys=set(sorted(samples)[:MAX_SAMPLE_KEYS]),
    )


@dataclass(frozen=True, slots=True)
class PayloadRow:
    """One line of the payload view: a source field and value beside what was sent."""

    source_field: str | None
    source_value: str | None
    hubspot_property: str | None
    sent_value: str | None


_SOURCE_KEYS = ("record", "source")
_SENT_KEYS = ("properties", "values")


def field_pairs(parsed_mapping: Mapping[str, Any] | None, object_name: str) -> dict[str, str]:
    """HubSpot property → source field of one object in a stored mapping version."""
    objects = (parsed_mapping or {}).get("objects") or []
    for mapped in objects:
        if isinstance(mapped, dict) and mapped.get("name") == object_name:
            fields = mapped.get("fields") or []
            return {
                str(f["hubspot"]): str(f["source"])
                for f in fields
                if isinstance(f, dict) and f.get("hubspot") and f.get("source")
            }
    return {}


def payload_rows(payload: Mapping[str, Any] | None, pairs: Mapping[str, str]) -> list[PayloadRow]:
    """The payload as rows: each sent property next to the source field and value it came from."""
    if not payload:
        return []
    source = _first_dict(payload, _SOURCE_KEYS)
    sent = _first_dict(payload, _SENT_KEYS)
    if source is None and sent is None:
        return [PayloadRow(None, None, str(k), _text(v)) for k, v in payload.items()]
    source, sent = source or {}, sent or {}
    rows: list[PayloadRow] = []
    used: set[str] = set()
    for prop, value in sent.items():
        field_name = pairs.get(prop)
        source_value = None
        if field_name is not None and field_name in source:
            used.add(field_name)
            source_value = _text(source[field_name])
        rows.append(PayloadRow(field_name, source_value, str(prop), _text(value)))
    rows.extend(
        PayloadRow(str(k), _text(v), None, None) for k, v in source.items() if k not in used
    )
    return rows


def _first_dict(payload: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any] | None:
    for key in keys:
        value = payload.get(key)
        if isinstance(value, dict):
            return value
    return None


def _text(value: Any) -> str:
    if value is None:
        return "–"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def payload_json(payload: Mapping[str, Any] | None) -> str:
    """The raw payload, pretty-printed (escaped by the template)."""
    return json.dumps(payload or {}, ensure_ascii=False, indent=2, sort_keys=True, default=str)
