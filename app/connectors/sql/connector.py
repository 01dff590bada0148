"""The sql connector: tables, views and SELECTs of any allowlisted SQL database.

Settings (``SqlConfig``): ``url`` (a secret; PostgreSQL, MySQL/MariaDB, SQL
Server, and SQLite only with ``allow_local_files``), ``objects`` (name →
``table`` or ``query``, ``key``, ``cursor``, ``soft_delete``; without it every
table and view is exposed), ``batch_size``, ``connect_timeout``,
``query_timeout``, ``read_only``, ``timezone`` (of timestamps stored without
one). Reads page by (cursor, key) in read-only transactions; a row whose
``soft_delete`` column is set is reported as deleted, which is the only way
deletions are seen. ``read_keys`` looks rows up with ``key IN (…)``, at most
``batch_size`` (and ``KEYS_PER_QUERY``) keys a query. Writes upsert by key
on PostgreSQL, MySQL/MariaDB and SQLite (SQL Server is read-only here);
``delete`` removes rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from typing import TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from app.connectors.base import (
    CheckResult,
    Connector,
    Cursor,
    Key,
    ObjectInfo,
    Record,
    RecordBatch,
    WriteResult,
)
from app.connectors.errors import ConnectorConfigError, ConnectorError
from app.connectors.sql.calls import Connected, Deadline
from app.connectors.sql.config import SqlConfig
from app.connectors.sql.engine import build_engine, describe, driver_message, guard, translate
from app.connectors.sql.reader import keyed_batch, next_batch, position_of
from app.connectors.sql.schema import SqlObject, discover, resolve
from app.connectors.sql.writer import UPSERT_DIALECTS, delete_keys, write_records

T = TypeVar("T")
_WORK_MARGIN_S = 2.0  # for the server's timeout error to come back
KEYS_PER_QUERY = 500  # bind parameters of one IN list: well below every dialect's limit


class SqlConnector(Connector[SqlConfig]):
    """A SQL database through SQLAlchemy: keyset reads by a cursor column, upsert writes."""

    name = "sql"
    Config = SqlConfig

    def __init__(self, config: SqlConfig) -> None:
        super().__init__(config)
        self._engine = build_engine(config)
        self._objects: dict[str, SqlObject] = {}

    async def check(self) -> CheckResult:
        """Connect and run SELECT 1 within connect_timeout."""
        budget = self.config.connect_timeout
        try:
            await self._run(_ping, read=True, field="url", work_s=budget)
        except ConnectorError as exc:
            return CheckResult(ok=False, message=exc.message)
        return CheckResult(ok=True, message=f"connected to {describe(self._engine.url)}")

    async def discover(self) -> list[ObjectInfo]:
        """The configured objects, or every table and view, by inspection."""
        found = await self._run(partial(discover, config=self.config), read=True, field="objects")
        self._objects.update((obj.info.name, obj) for obj in found)
        return [obj.info for obj in found]

    async def read(self, object_name: str, since: Cursor | None) -> AsyncIterator[RecordBatch]:
        """Batches after ``since`` by keyset paging, each in its own read-only transaction."""
        obj = await self._object(object_name)
        after = position_of(obj, since, self.config.zone())
        size = self.config.batch_size
        while True:
            fetch = partial(next_batch, obj=obj, after=after, limit=size)
            page = await self._run(fetch, read=True, field=f"objects.{object_name}")
            if page is None:
                if obj.info.cursor is None and after is not None:
                    yield RecordBatch([], None)  # a resumed full read is over: start over next time
                return
            batch, after, more = page
            yield batch
            if not more:
                return

    async def read_keys(self, object_name: str, keys: Sequence[Key]) -> AsyncIterator[RecordBatch]:
        """The rows with ``keys`` as they are now, one ``key IN (…)`` query per batch."""
        obj = await self._object(object_name)
        unique = list(dict.fromkeys(keys))
        size = min(self.config.batch_size, KEYS_PER_QUERY)
        for start in range(0, len(unique), size):
            chunk = unique[start : start + size]
            fetch = partial(keyed_batch, obj=obj, keys=chunk, zone=self.config.zone())
            yield await self._run(fetch, read=True, field=f"objects.{object_name}")

    async def write(self, object_name: str, records: Sequence[Record]) -> list[WriteResult]:
        """Upsert by key in one transaction: created, updated, unchanged or failed per record."""
        obj = await self._writable(object_name)
        if not records:
            return []
        write = partial(
            write_records,
            obj=obj,
            records=list(records),
            zone=self.config.zone(),
            explain=self._explain,
        )
        return await self._run(write, read=False, field=f"objects.{object_name}")

    async def delete(self, object_name: str, keys: Sequence[Key]) -> list[WriteResult]:
        """Delete rows by key in one transaction: deleted, unchanged (absent) or failed."""
        obj = await self._writable(object_name)
        if not keys:
            return []
        remove = partial(
            delete_keys, obj=obj, keys=list(keys), zone=self.config.zone(), explain=self._explain
        )
        return await self._run(remove, read=False, field=f"objects.{object_name}")

    async def aclose(self) -> None:
        """Close the engine's pooled connections."""
        await asyncio.to_thread(self._engine.dispose)

    async def _object(self, name: str) -> SqlObject:
        """The object called ``name``, resolved once; it must have a key to be paged or written."""
        if name not in self._objects:
            lookup = partial(resolve, config=self.config, name=name)
            self._objects[name] = await self._run(lookup, read=True, field=f"objects.{name}")
        obj = self._objects[name]
        if not obj.info.key:
            raise ConnectorConfigError(f"objects.{name}.key", "no primary key: set key columns")
        return obj

    async def _writable(self, name: str) -> SqlObject:
        if self.config.read_only:
            raise ConnectorConfigError("read_only", "this connection is read-only: no writes")
        dialect = self._engine.dialect.name
        if dialect not in UPSERT_DIALECTS:
            raise ConnectorConfigError("url", f"writes to {dialect} are not supported, only reads")
        obj = await self._object(name)
        if obj.table is None:
            raise ConnectorConfigError(f"objects.{name}", "a view or a query cannot be written")
        return obj

    def _explain(self, error: Exception) -> str:
        return driver_message(error, self.config)

    async def _run(
        self,
        work: Callable[[Connection], T],
        *,
        read: bool,
        field: str,
        work_s: float | None = None,
    ) -> T:
        """Run ``work`` in a guarded transaction in a worker thread, within the timeouts."""
        budget = self.config.query_timeout + _WORK_MARGIN_S if work_s is None else work_s
        deadline = Deadline(self.config.connect_timeout, budget)
        try:
            return await deadline.run(partial(self._transaction, work, read=read))
        except (SQLAlchemyError, OSError) as exc:  # TimeoutError is an OSError
            raise translate(exc, self.config, field=field) from None

    def _transaction(
        self, work: Callable[[Connection], T], connected: Connected, *, read: bool
    ) -> T:
        with self._engine.connect() as connection:
            if not connected():
                raise TimeoutError("the caller stopped waiting")
            with connection.begin():
                guard(connection, self.config, read=read)
                return work(connection)


def _ping(connection: Connection) -> None:
    connection.execute(text("SELECT 1"))
