"""The connector SDK: what a third-party system offers hubsync, in a few async calls.

A connector is a class with a ``name``, a pydantic ``Config`` model (secret
fields typed ``SecretStr``: stored encrypted, never rendered) and these hooks:

- ``check()``: can the system be reached, are the credentials right;
- ``discover()``: its objects, their fields and types, keys, change cursors;
- ``read(object, since)``: changed records after a cursor, as an async
  iterator of batches, each carrying the cursor to resume after it;
- ``read_keys(object, keys)``: chosen records as they are now (a retry sends
  the current record, not the one that failed); a default reads everything;
- ``write(object, records)``: create or update, one result per record;
- ``delete(object, keys)``: remove records, one result per key.

Connectors know nothing of hubsync's database or web layer; they get their
configuration and return plain data. A fresh instance serves one run.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from app.connectors.errors import ConnectorConfigError

Record = dict[str, Any]
Key = str
Cursor = dict[str, Any]  # flat, JSON-serialisable; opaque to everyone but its connector


class ConnectorConfig(BaseModel):
    """Base of connector settings: unknown keys are refused, secrets are ``SecretStr``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        """Names of the fields that hold secrets (stored encrypted, never shown)."""
        return frozenset(
            name for name, info in cls.model_fields.items() if info.annotation in _SECRET_TYPES
        )


_SECRET_TYPES = (SecretStr, SecretStr | None)


class FieldType(enum.StrEnum):
    """The value types hubsync maps between systems."""

    string = "string"
    integer = "integer"
    number = "number"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    json = "json"


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of an object as the connector sees it."""

    name: str
    type: FieldType
    nullable: bool = True
    is_key: bool = False
    can_be_cursor: bool = False  # monotonic on change: a timestamp, rowversion or sequence


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object (table, view, file, endpoint) with its fields."""

    name: str
    fields: tuple[FieldInfo, ...]
    key: tuple[str, ...]
    cursor: str | None = None  # the field reads are ordered by, if any
    writable: bool = True
    detects_deletes: bool = False  # whether ``read`` reports deleted keys

    def field(self, name: str) -> FieldInfo | None:
        """The field called ``name``, or None."""
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """A source row that is not a valid record (no key, duplicate key …); it fails alone."""

    reason: str
    raw: Record  # the row's values as read, kept for the error log
    key: Key | None = None


@dataclass(frozen=True, slots=True)
class RecordBatch:
    """Records changed since the last cursor, and the cursor to resume after them."""

    records: list[Record]
    cursor: Cursor | None
    deleted: list[Key] = field(default_factory=list)
    unreadable: list[UnreadableRecord] = field(default_factory=list)


class WriteOutcome(enum.StrEnum):
    """What happened to one record."""

    created = "created"
    updated = "updated"
    deleted = "deleted"
    unchanged = "unchanged"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome for one record (or key), with a reason when it failed."""

    key: Key
    outcome: WriteOutcome
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the record was written (or deleted, or already as asked)."""
        return self.outcome != WriteOutcome.failed


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Whether the system is reachable with these settings, in a sentence."""

    ok: bool
    message: str


ConfigT = TypeVar("ConfigT", bound=ConnectorConfig)


class Connector(ABC, Generic[ConfigT]):
    """Base class of every connector; subclasses set ``name``, ``Config`` and the hooks."""

    name: ClassVar[str]
    Config: ClassVar[type[ConnectorConfig]]

    def __init__(self, config: ConfigT) -> None:
        self.config = config

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Self:
        """Validate raw settings; a bad value raises ``ConnectorConfigError`` naming the field."""
        try:
            config = cls.Config.model_validate(dict(settings))
        except ValidationError as exc:
            first = exc.errors()[0]
            location = ".".join(str(p) for p in first["loc"]) or "config"
            raise ConnectorConfigError(location, first["msg"]) from None
        return cls(config)  # type: ignore[arg-type]

    @abstractmethod
    async def check(self) -> CheckResult:
        """Reach the system with the configured credentials.

        Returns:
            ``CheckResult(ok=False, …)`` with a reason a customer understands when
            it fails; never raises for an unreachable system.
        """

    @abstractmethod
    async def discover(self) -> list[ObjectInfo]:
        """List the objects, their fields, keys and change cursors.

        Raises:
            ConnectorUnavailable: the system did not answer in time.
        """

    @abstractmethod
    def read(self, object_name: str, since: Cursor | None) -> AsyncIterator[RecordBatch]:
        """Yield records changed after ``since`` (all records when None), in batches.

        Each batch's cursor resumes exactly after it: a reader that stops after any
        batch and restarts from its cursor misses nothing and reads nothing twice.

        Raises:
            ConnectorUnavailable: the system did not answer in time.
            ConnectorConfigError: the object does not exist.
        """

    async def read_keys(self, object_name: str, keys: Sequence[Key]) -> AsyncIterator[RecordBatch]:
        """Yield the records with ``keys`` as they are now, in batches without a cursor.

        A key the system no longer has (or reports deleted) comes back in a
        batch's ``deleted``; a row that is there but unusable in ``unreadable``.
        Every key comes back once, in one of these three ways. The default reads
        the whole object until all keys are found: right for any connector, but
        one that can look records up by key should override it.

        Raises:
            ConnectorUnavailable: the system did not answer in time.
            ConnectorConfigError: the object does not exist.
        """
        wanted = set(keys)
        if not wanted:
            return
        key_fields = await self._key_fields(object_name)
        found: set[Key] = set()
        async with _closed_after(self.read(object_name, None)) as batches:
            async for batch in batches:
                chosen = _chosen(batch, wanted, key_fields)
                found.update(batch_keys(chosen, key_fields))
                if chosen.records or chosen.deleted or chosen.unreadable:
                    yield chosen
                if found >= wanted:
                    return
        yield RecordBatch([], None, absent(keys, found))

    async def _key_fields(self, object_name: str) -> tuple[str, ...]:
        """The key fields of ``object_name``, as ``discover`` reports them."""
        info = next((o for o in await self.discover() if o.name == object_name), None)
        if info is None:
            raise ConnectorConfigError("object", f"no object {object_name!r}")
        return info.key

    @abstractmethod
    async def write(self, object_name: str, records: Sequence[Record]) -> list[WriteResult]:
        """Create or update ``records`` by key; one result per record, in order.

        A record that fails gets ``WriteOutcome.failed`` with a reason; the others
        are still written. Writing the same records twice changes nothing.
        """

    @abstractmethod
    async def delete(self, object_name: str, keys: Sequence[Key]) -> list[WriteResult]:
        """Delete records by key; one result per key (a missing key is ``unchanged``)."""

    async def aclose(self) -> None:
        """Release connections and files (the default has nothing to release)."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()


def record_key(record: Mapping[str, Any], key_fields: Sequence[str]) -> Key:
    """The key of ``record`` as one string (composite keys joined by ``|``)."""
    return "|".join(str(record[name]) for name in key_fields)


def batch_keys(batch: RecordBatch, key_fields: Sequence[str]) -> set[Key]:
    """Every key ``batch`` reports: of its records, its deleted keys, its unreadable rows."""
    keys = {record_key(record, key_fields) for record in batch.records} | set(batch.deleted)
    return keys | {bad.key for bad in batch.unreadable if bad.key is not None}


def absent(keys: Sequence[Key], found: Collection[Key]) -> list[Key]:
    """The keys of ``keys`` not in ``found``, each once, in order: gone from the system."""
    return [key for key in dict.fromkeys(keys) if key not in found]


@asynccontextmanager
async def _closed_after(
    batches: AsyncIterator[RecordBatch],
) -> AsyncIterator[AsyncIterator[RecordBatch]]:
    """``batches``, closed when the block ends: a read left early releases what it holds."""
    try:
        yield batches
    finally:
        aclose = getattr(batches, "aclose", None)  # read() is usually an async generator
        if aclose is not None:
            await aclose()


def _chosen(batch: RecordBatch, wanted: Collection[Key], key_fields: Sequence[str]) -> RecordBatch:
    """What ``batch`` holds of the ``wanted`` keys, without its cursor."""
    return RecordBatch(
        [r for r in batch.records if record_key(r, key_fields) in wanted],
        None,
        [key for key in batch.deleted if key in wanted],
        [bad for bad in batch.unreadable if bad.key in wanted],
    )
