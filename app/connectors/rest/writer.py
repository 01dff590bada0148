"""Writes and deletes of one rest object, one request (or two) per record, one result each.

Without ``upsert`` the writer first GETs the item: 404 → POST to the collection
(created); found with the same values → nothing sent (unchanged); found and
different → the configured method on the item (updated). With ``upsert`` one
request to the item creates or updates (201 → created, else updated). A 4xx
fails that record alone, with its status line as the reason; refused
credentials or an unavailable API stop the whole call.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from app.connectors.base import Key, Record, WriteOutcome, WriteResult, record_key
from app.connectors.errors import ConnectorConfigError
from app.connectors.rest.config import ObjectSettings, WriteSettings, fill_template
from app.connectors.rest.http import HttpClient, Reply
from app.connectors.rest.records import json_default


def _as_json(record: Record) -> dict[str, Any]:
    """``record`` as it looks after a JSON round trip (to compare with what the API holds)."""
    value: dict[str, Any] = json.loads(json.dumps(record, default=json_default))
    return value


def _failed(key: Key, reply: Reply) -> WriteResult:
    return WriteResult(key, WriteOutcome.failed, reply.what)


def _ok(status: int) -> bool:
    return 200 <= status < 300


class ObjectWriter:
    """Creates, updates and deletes the records of one configured object."""

    def __init__(self, name: str, settings: ObjectSettings, http: HttpClient) -> None:
        self.name = name
        self.settings = settings
        self.http = http

    async def write(self, records: Sequence[Record]) -> list[WriteResult]:
        """Create or update each record; one result per record, in order."""
        write = self.settings.write
        if write is None:
            raise ConnectorConfigError(f"objects.{self.name}.write", "the object is read-only")
        return [await self._write_one(write, _as_json(record)) for record in records]

    async def delete(self, keys: Sequence[Key]) -> list[WriteResult]:
        """Delete each key; 404 counts as already deleted (unchanged)."""
        delete = self.settings.delete
        if delete is None:
            raise ConnectorConfigError(f"objects.{self.name}.delete", "deletes are not configured")
        template = self.settings.item_template(delete.item_path)
        results = []
        for key in keys:
            reply = await self.http.request(delete.method, fill_template(template, str(key)))
            results.append(self._deleted(str(key), reply))
        return results

    async def _write_one(self, write: WriteSettings, record: dict[str, Any]) -> WriteResult:
        if self.settings.key not in record:
            return WriteResult("", WriteOutcome.failed, f"no key field {self.settings.key!r}")
        key = record_key(record, (self.settings.key,))
        item = fill_template(self.settings.item_template(write.item_path), key)
        if write.upsert:
            reply = await self.http.request(write.method, item, body=record)
            created = reply.status == 201
            return self._result(key, reply, WriteOutcome.created if created else None)
        current = await self.http.request("GET", item)
        if current.status == 404:
            collection = write.create_path or self.settings.path
            reply = await self.http.request("POST", collection, body=record)
            return self._result(key, reply, WriteOutcome.created)
        if not _ok(current.status):
            return _failed(key, current)
        if self._holds(current, record):
            return WriteResult(key, WriteOutcome.unchanged)
        return self._result(key, await self.http.request(write.method, item, body=record))

    def _holds(self, current: Reply, record: dict[str, Any]) -> bool:
        """Whether the API's item already has every value of ``record`` (the cursor aside)."""
        body = current.json()
        compared = (k for k in record if k != self.settings.cursor)
        return isinstance(body, dict) and all(body.get(k) == record[k] for k in compared)

    @staticmethod
    def _result(key: Key, reply: Reply, outcome: WriteOutcome | None = None) -> WriteResult:
        if not _ok(reply.status):
            return _failed(key, reply)
        return WriteResult(key, outcome or WriteOutcome.updated)

    @staticmethod
    def _deleted(key: Key, reply: Reply) -> WriteResult:
        if reply.status == 404:
            return WriteResult(key, WriteOutcome.unchanged)
        if not _ok(reply.status):
            return _failed(key, reply)
        return WriteResult(key, WriteOutcome.deleted)
