"""The rest connector: objects of a JSON API read by page, written by POST, PUT or PATCH."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar

import httpx

from app.connectors.base import (
    CheckResult,
    Connector,
    ConnectorConfig,
    Cursor,
    FieldInfo,
    FieldType,
    Key,
    ObjectInfo,
    Record,
    RecordBatch,
    WriteResult,
    record_key,
)
from app.connectors.clock import SYSTEM_CLOCK, Clock
from app.connectors.errors import ConnectorConfigError, ConnectorError
from app.connectors.rest.auth import make_signer
from app.connectors.rest.config import ObjectSettings, RestConfig
from app.connectors.rest.cursor import CursorState, since_param
from app.connectors.rest.http import HttpClient
from app.connectors.rest.items import read_items
from app.connectors.rest.pagination import Page, PageRequest, paginator_for
from app.connectors.rest.records import coerce, infer_type, records_at
from app.connectors.rest.writer import ObjectWriter


class RestConnector(Connector[RestConfig]):
    """A configurable JSON API: bearer, basic, API-key or OAuth2 auth; four pagination styles."""

    name: ClassVar[str] = "rest"
    Config: ClassVar[type[ConnectorConfig]] = RestConfig

    def __init__(
        self,
        config: RestConfig,
        *,
        clock: Clock = SYSTEM_CLOCK,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        super().__init__(config)
        self._http = HttpClient(config, make_signer(config.auth, clock), clock, transport)

    async def check(self) -> CheckResult:
        """GET the health path (or the first object's path) with the credentials."""
        path = self.config.health_path or next(iter(self.config.objects.values())).path
        try:
            reply = await self._http.request("GET", path)
        except ConnectorError as exc:
            return CheckResult(ok=False, message=exc.message)
        if not 200 <= reply.status < 300:
            return CheckResult(ok=False, message=f"{reply.what}: the API refused the request")
        return CheckResult(ok=True, message=f"{reply.what}: the API answered")

    async def discover(self) -> list[ObjectInfo]:
        """The configured objects; field types as declared, else inferred from a first page."""
        return [await self._describe(name, obj) for name, obj in self.config.objects.items()]

    async def read(self, object_name: str, since: Cursor | None) -> AsyncIterator[RecordBatch]:
        """Yield one batch per page of records changed after ``since`` (see ``cursor.py``).

        Deleted records (``deleted_flag``) are reported only when resuming from a
        cursor: a full read has nothing earlier for them to delete.
        """
        obj = self._object(object_name)
        state = CursorState(obj.cursor, since) if obj.cursor else None
        paginator = paginator_for(obj.pagination, PageRequest(obj.path, _since(obj, state)))
        while paginator.has_more:
            page = await self._fetch(object_name, obj, paginator.request)
            paginator.advance(page)
            batch = self._batch(object_name, obj, page.records, state, since is not None)
            if batch.records or batch.deleted:
                yield batch

    async def read_keys(self, object_name: str, keys: Sequence[Key]) -> AsyncIterator[RecordBatch]:
        """The records with ``keys`` as they are now: a GET of each item where the object
        is written (see ``items.py``), else the base class's full read."""
        obj = self._object(object_name)
        if obj.write is None:
            async for batch in super().read_keys(object_name, keys):
                yield batch
            return
        unique, size = list(dict.fromkeys(keys)), obj.pagination.page_size
        for start in range(0, len(unique), size):
            yield await read_items(self._http, obj, obj.write, unique[start : start + size])

    async def write(self, object_name: str, records: Sequence[Record]) -> list[WriteResult]:
        """Create or update records (see ``writer.py`` for how each is sent)."""
        return await self._writer(object_name).write(records)

    async def delete(self, object_name: str, keys: Sequence[Key]) -> list[WriteResult]:
        """Delete records by key; a 404 is ``unchanged``."""
        return await self._writer(object_name).delete(keys)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self._http.aclose()

    def _object(self, name: str) -> ObjectSettings:
        if name not in self.config.objects:
            known = ", ".join(self.config.objects)
            raise ConnectorConfigError("object", f"unknown object {name!r} (configured: {known})")
        return self.config.objects[name]

    def _writer(self, name: str) -> ObjectWriter:
        return ObjectWriter(name, self._object(name), self._http)

    async def _fetch(self, name: str, obj: ObjectSettings, request: PageRequest) -> Page:
        reply = await self._http.request("GET", request.url, params=request.params or None)
        if reply.status == 404:
            raise ConnectorConfigError(f"objects.{name}.path", f"{reply.what}: not found")
        if not 200 <= reply.status < 300:
            raise ConnectorError(f"{reply.what}: the API refused the request")
        records = records_at(reply.json(), obj.records_path)
        if records is None:
            where = obj.records_path or "the top level"
            raise ConnectorConfigError(
                f"objects.{name}.records_path", f"{reply.what}: no list of records at {where}"
            )
        return Page(reply, records)

    def _batch(
        self,
        name: str,
        obj: ObjectSettings,
        page: list[Record],
        state: CursorState | None,
        report_deletes: bool,
    ) -> RecordBatch:
        records: list[Record] = []
        deleted: list[Key] = []
        for record in page:
            key = _key(name, obj, record)
            if state is not None:
                if not state.is_new(record, key):
                    continue
                state.observe(record, key)
            if not (obj.deleted_flag and record.pop(obj.deleted_flag, None)):
                records.append(coerce(record, obj.fields or {}))
            elif report_deletes:
                deleted.append(key)
        return RecordBatch(records, state.snapshot() if state else None, deleted)

    async def _describe(self, name: str, obj: ObjectSettings) -> ObjectInfo:
        types = dict(obj.fields or await self._sample_types(name, obj))
        types.setdefault(obj.key, FieldType.string)
        if obj.cursor:
            types.setdefault(obj.cursor, FieldType.datetime)
        fields = tuple(
            FieldInfo(
                field,
                kind,
                nullable=field != obj.key,
                is_key=field == obj.key,
                can_be_cursor=field == obj.cursor,
            )
            for field, kind in types.items()
            if field != obj.deleted_flag
        )
        return ObjectInfo(
            name,
            fields,
            key=(obj.key,),
            cursor=obj.cursor,
            writable=obj.write is not None,
            detects_deletes=obj.deleted_flag is not None,
        )

    async def _sample_types(self, name: str, obj: ObjectSettings) -> dict[str, FieldType]:
        first = paginator_for(obj.pagination, PageRequest(obj.path)).request
        records = (await self._fetch(name, obj, first)).records
        names = dict.fromkeys(field for record in records for field in record)
        return {field: infer_type([r.get(field) for r in records]) for field in names}


def _since(obj: ObjectSettings, state: CursorState | None) -> dict[str, str | int]:
    """The ``updated_since`` parameter for a read resuming at ``state``, if configured."""
    if obj.updated_since is None or state is None or state.value is None:
        return {}
    return {obj.updated_since.param: since_param(state.value, obj.updated_since.format)}


def _key(name: str, obj: ObjectSettings, record: dict[str, Any]) -> Key:
    if record.get(obj.key) is None:
        raise ConnectorConfigError(f"objects.{name}.key", f"a record has no {obj.key!r} field")
    return record_key(record, (obj.key,))
