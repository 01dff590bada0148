"""CRM objects v3: read one, list pages, batch read/create/update/upsert/archive, GDPR delete.

Batch writes go in chunks of 100 with an ``objectWriteTraceId`` on every input,
so HubSpot answers 207 with per-input errors instead of failing the batch.
Creates are not idempotent: they are retried only when HubSpot provably did not
apply them (see ``retry``); updates, upserts, reads and archives are.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.connectors.hubspot.batch import (
    BatchResult,
    BatchSuccess,
    Matcher,
    Send,
    chunks,
    collect,
    split_on_rejection,
)
from app.connectors.hubspot.models import CrmObject, parse, parse_list, results
from app.connectors.hubspot.pagination import AfterPaginator
from app.connectors.hubspot.paths import ApiPaths
from app.connectors.hubspot.transport import Call, Transport

LIST_LIMIT = 100


@dataclass(frozen=True, slots=True)
class RecordInput:
    """One record for a batch write; ``id``/``id_property`` for update and upsert."""

    properties: Mapping[str, str] = field(default_factory=dict)
    id: str | None = None
    id_property: str | None = None
    associations: Sequence[Mapping[str, Any]] = ()
    trace_id: str | None = None  # objectWriteTraceId; generated when absent


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list call and the cursor to resume after it."""

    results: list[CrmObject]
    after: str | None


def _props(properties: Sequence[str]) -> dict[str, str]:
    return {"properties": ",".join(properties)} if properties else {}


@dataclass(frozen=True, slots=True)
class _Traced:
    """An input with the trace id this call sent for it."""

    item: RecordInput
    trace: str

    def keys(self) -> Iterable[str]:
        yield f"trace:{self.trace}"
        if self.item.id is not None:
            yield f"{'uid' if self.item.id_property else 'id'}:{self.item.id}"

    def wire(self, action: str) -> dict[str, Any]:
        """The input as HubSpot's batch ``action`` takes it (create requires ``associations``)."""
        body: dict[str, Any] = {"properties": dict(self.item.properties)}
        body["objectWriteTraceId"] = self.trace
        if self.item.id is not None:
            body["id"] = self.item.id
        if self.item.id_property:
            body["idProperty"] = self.item.id_property
        if self.item.associations or action == "create":
            body["associations"] = list(self.item.associations)
        return body


def _result_keys(id_properties: set[str]) -> Callable[[CrmObject], Iterable[str]]:
    def keys(record: CrmObject) -> Iterable[str]:
        if record.object_write_trace_id:
            yield f"trace:{record.object_write_trace_id}"
        yield f"id:{record.id}"
        for name in id_properties:
            if record.properties.get(name) is not None:
                yield f"uid:{record.properties[name]}"

    return keys


def _parse_object(raw: Any) -> CrmObject:
    return parse(CrmObject, raw)


class ObjectsApi:
    """CRM object endpoints for any object type (``contacts``, ``0-3``, ``2-123``, ``p_x``)."""

    def __init__(self, transport: Transport, paths: ApiPaths) -> None:
        self._transport = transport
        self._paths = paths

    async def get(
        self,
        object_type: str,
        object_id: str,
        *,
        properties: Sequence[str] = (),
        id_property: str | None = None,
        archived: bool = False,
    ) -> CrmObject:
        """One record by id or by a unique property (``id_property``)."""
        params = _props(properties) | {"archived": str(archived).lower()}
        if id_property:
            params["idProperty"] = id_property
        path = self._paths.object_item(object_type, object_id)
        return parse(CrmObject, await self._transport.call(Call("GET", path, params=params)))

    async def iter_pages(
        self,
        object_type: str,
        *,
        properties: Sequence[str] = (),
        limit: int = LIST_LIMIT,
        after: str | None = None,
        archived: bool = False,
    ) -> AsyncIterator[Page]:
        """Every page of the list endpoint (no 10k cap), resumable from ``after``."""
        paginator = AfterPaginator(after)
        path = self._paths.object_collection(object_type)
        base = _props(properties) | {"limit": str(min(limit, LIST_LIMIT))}
        base["archived"] = str(archived).lower()
        while paginator.has_more:
            cursor = {"after": paginator.after} if paginator.after else {}
            body = await self._transport.call(Call("GET", path, params=base | cursor))
            paginator.advance(body)
            yield Page(parse_list(CrmObject, results(body)), paginator.after)

    async def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        *,
        properties: Sequence[str] = (),
        id_property: str | None = None,
        archived: bool = False,
    ) -> BatchResult[str, CrmObject]:
        """Records by id (or unique property); missing ones are per-input failures."""
        prefix = "uid" if id_property else "id"
        out: BatchResult[str, CrmObject] = BatchResult()
        for chunk in chunks(ids):
            body: dict[str, Any] = {"inputs": [{"id": i} for i in chunk]}
            body["properties"] = list(properties)
            body["propertiesWithHistory"] = []
            if id_property:
                body |= {"idProperty": id_property}
            call = Call(
                "POST", self._paths.object_batch(object_type, "read"),
                params={"archived": str(archived).lower()}, json=body,
            )  # fmt: skip
            matcher = Matcher(chunk, lambda i: [f"{prefix}:{i}"])
            keys = _result_keys({id_property} if id_property else set())
            out.extend(collect(matcher, await self._transport.call(call), _parse_object, keys))
        return out

    async def batch_create(
        self, object_type: str, inputs: Sequence[RecordInput]
    ) -> BatchResult[RecordInput, CrmObject]:
        """Create records; never blindly retried after an ambiguous failure."""
        return await self._write(object_type, "create", inputs, idempotent=False)

    async def batch_update(
        self, object_type: str, inputs: Sequence[RecordInput]
    ) -> BatchResult[RecordInput, CrmObject]:
        """Update records by ``id`` (or per-input ``id_property``)."""
        return await self._write(object_type, "update", inputs, idempotent=True)

    async def batch_upsert(
        self, object_type: str, inputs: Sequence[RecordInput]
    ) -> BatchResult[RecordInput, CrmObject]:
        """Create or update by a unique ``id_property`` per input; results carry ``new``."""
        return await self._write(object_type, "upsert", inputs, idempotent=True)

    async def batch_archive(self, object_type: str, ids: Sequence[str]) -> BatchResult[str, str]:
        """Move records to the recycle bin (HubSpot answers 204 for the whole chunk)."""
        out: BatchResult[str, str] = BatchResult()
        for chunk in chunks(ids):
            out.extend(await split_on_rejection(chunk, self._archive(object_type), _id_key))
        return out

    async def gdpr_delete(self, object_id: str, *, id_property: str | None = None) -> None:
        """Permanently delete a contact and its content (GDPR erasure)."""
        body = {"objectId": object_id} | ({"idProperty": id_property} if id_property else {})
        await self._transport.call(Call("POST", self._paths.gdpr_delete(), json=body))

    async def _write(
        self, object_type: str, action: str, inputs: Sequence[RecordInput], *, idempotent: bool
    ) -> BatchResult[RecordInput, CrmObject]:
        run = uuid.uuid4().hex[:12]
        traced = [
            _Traced(item, item.trace_id or f"hubsync-{run}-{n}") for n, item in enumerate(inputs)
        ]
        id_properties = {i.id_property for i in inputs if i.id_property}
        out: BatchResult[_Traced, CrmObject] = BatchResult()
        path = self._paths.object_batch(object_type, action)

        async def send(chunk: Sequence[_Traced]) -> BatchResult[_Traced, CrmObject]:
            call = Call(
                "POST",
                path,
                json={"inputs": [t.wire(action) for t in chunk]},
                idempotent=idempotent,
            )
            body = await self._transport.call(call)
            matcher = Matcher(chunk, _Traced.keys)
            return collect(matcher, body, _parse_object, _result_keys(id_properties))

        for chunk in chunks(traced):
            out.extend(await split_on_rejection(chunk, send, _Traced.keys))
        return out.map_inputs(_item)

    def _archive(self, object_type: str) -> Send[str, str]:
        path = self._paths.object_batch(object_type, "archive")

        async def send(chunk: Sequence[str]) -> BatchResult[str, str]:
            await self._transport.call(
                Call("POST", path, json={"inputs": [{"id": i} for i in chunk]})
            )
            return BatchResult(succeeded=[BatchSuccess(i, i) for i in chunk])

        return send


def _id_key(object_id: str) -> list[str]:
    return [f"id:{object_id}"]


def _item(traced: _Traced) -> RecordInput:
    return traced.item
