"""Conformance harness of the sql connector on SQLite, PostgreSQL and MariaDB.

Each test gets a fresh database (a temporary SQLite file, or a new database on
the local PostgreSQL / MariaDB server, dropped afterwards) with an empty
``customers`` table. The harness changes rows with its own engine, never
through the connector; "removing" a row sets its soft-delete column and bumps
its cursor, which is how the connector sees deletions. Under CI=true a missing
server fails the run.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    bindparam,
    create_engine,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from app.connectors.base import Key, Record
from app.connectors.sql import SqlConnector
from tests.connectors.conformance.harness import OBJECT, harness
from tests.databases import postgres_admin_url, unavailable

MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
_STAMP = DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
METADATA = MetaData()
CUSTOMERS = Table(
    OBJECT,
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("updated_at", _STAMP, nullable=False),
    Column("deleted_at", _STAMP, nullable=True),
    Index("customers_changes", "updated_at", "id"),
)
OBJECT_SETTINGS = {"table": OBJECT, "cursor": "updated_at", "soft_delete": "deleted_at"}


class SqlHarness:
    """A fresh database with a ``customers`` table, changed through the harness's own engine."""

    connector_name = "sql"
    detects_deletes = True  # through the soft-delete column
    supports_equal_cursor_values = True  # keyset paging on (updated_at, id)

    def __init__(self, url: URL, blackhole: tuple[str, int]) -> None:
        self.url = url
        self.engine: Engine = create_engine(url)
        self.blackhole = blackhole

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Valid connector settings for this database, with ``overrides`` applied."""
        return {
            "url": self.url.render_as_string(hide_password=False),
            "allow_local_files": self.url.get_backend_name() == "sqlite",
            "objects": {OBJECT: OBJECT_SETTINGS},
            **overrides,
        }

    def connector(self, **overrides: Any) -> SqlConnector:
        """A sql connector on this database."""
        return SqlConnector.from_settings(self.settings(**overrides))

    async def execute(self, statement: Any, params: Any = None) -> list[dict[str, Any]]:
        """Run one statement in its own transaction; the rows it returns, as dicts."""

        def run() -> list[dict[str, Any]]:
            with self.engine.begin() as connection:
                result = connection.execute(statement, params)
                return [dict(row) for row in result.mappings()] if result.returns_rows else []

        return await asyncio.to_thread(run)

    async def insert(self, rows: Sequence[Record], at: datetime) -> None:
        """Insert rows stamped ``updated_at = at``."""
        await self.execute(insert(CUSTOMERS), [{**row, "updated_at": at} for row in rows])

    async def update(self, rows: Sequence[Record], at: datetime) -> None:
        """Change rows' name and amount, stamped ``updated_at = at``."""
        statement = (
            update(CUSTOMERS)
            .where(CUSTOMERS.c.id == bindparam("key"))
            .values(name=bindparam("name"), amount=bindparam("amount"), updated_at=at)
        )
        params = [{"key": r["id"], "name": r["name"], "amount": r["amount"]} for r in rows]
        await self.execute(statement, params)

    async def remove(self, keys: Sequence[Key]) -> None:
        """Soft-delete rows: set ``deleted_at`` and move their cursor past every other row."""
        latest = await self.execute(select(func.max(CUSTOMERS.c.updated_at).label("at")))
        stamp = latest[0]["at"] + timedelta(milliseconds=1)
        statement = (
            update(CUSTOMERS)
            .where(CUSTOMERS.c.id.in_(list(keys)))
            .values(deleted_at=stamp, updated_at=stamp)
        )
        await self.execute(statement)

    async def rows(self) -> dict[Key, Record]:
        """The rows not soft-deleted, by key."""
        found = await self.execute(select(CUSTOMERS).where(CUSTOMERS.c.deleted_at.is_(None)))
        return {row["id"]: row for row in found}

    def bad_settings(self) -> tuple[Mapping[str, Any], str]:
        """A URL with a driver outside the allowlist."""
        return self.settings(url="oracle+oracledb://scott:tiger@db.example/erp"), "url"

    def unreachable(self, timeout_s: float) -> SqlConnector:
        """A connector on a port that accepts connections and never says a word."""
        host, port = self.blackhole
        url = self.url.set(host=host, port=port) if self.url.host else self.url.set(database="/")
        timeouts = {"connect_timeout": timeout_s, "query_timeout": timeout_s}
        return self.connector(url=url.render_as_string(hide_password=False), **timeouts)


@contextmanager
def blackhole() -> Iterator[tuple[str, int]]:
    """A loopback port whose listener never accepts: connects complete, answers never come."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        yield listener.getsockname()


@asynccontextmanager
async def sql_harness(url: URL) -> AsyncIterator[SqlHarness]:
    """A harness on ``url`` (an empty database): the table is created, the engine disposed."""
    with blackhole() as silent:
        backing = SqlHarness(url, silent)
        try:
            await asyncio.to_thread(METADATA.create_all, backing.engine)
            yield backing
        finally:
            await asyncio.to_thread(backing.engine.dispose)


def postgres_url() -> URL:
    """The local PostgreSQL (HUBSYNC_TEST_POSTGRES_URL), on the psycopg driver."""
    return make_url(postgres_admin_url()).set(drivername="postgresql+psycopg")


def mariadb_url() -> URL:
    """The local MariaDB (HUBSYNC_TEST_MARIADB_URL), on the pymysql driver."""
    raw = os.environ.get("HUBSYNC_TEST_MARIADB_URL", MARIADB_URL)
    return make_url(raw).set(drivername="mysql+pymysql")


# How each server creates and force-drops a database (names are generated and quoted).
_CREATE = {
    "postgresql": "CREATE DATABASE {}",
    "mariadb": "CREATE DATABASE {} CHARACTER SET utf8mb4",
}
_DROP = {
    "postgresql": "DROP DATABASE IF EXISTS {} WITH (FORCE)",
    "mariadb": "DROP DATABASE IF EXISTS {}",
}


@contextmanager
def server_database(backend: str) -> Iterator[URL]:
    """A new, empty database on the local PostgreSQL or MariaDB server, dropped afterwards."""
    url = postgres_url() if backend == "postgresql" else mariadb_url()
    admin = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"hubsync_sql_{uuid.uuid4().hex[:12]}"
    quoted = admin.dialect.identifier_preparer.quote(name)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(_CREATE[backend].format(quoted))
    except OperationalError as exc:
        admin.dispose()
        unavailable(f"{backend} at {url.host}:{url.port} is unreachable: {exc.orig}")
    try:
        yield url.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(_DROP[backend].format(quoted))
        admin.dispose()


@asynccontextmanager
async def fresh_sql_harness(backend: str) -> AsyncIterator[SqlHarness]:
    """A harness on a fresh database of ``backend`` (sqlite, postgresql or mariadb)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hubsync-sql-") as folder:
            async with sql_harness(make_url(f"sqlite:///{Path(folder) / 'erp.db'}")) as backing:
                yield backing
        return
    with server_database(backend) as url:
        async with sql_harness(url) as backing:
            yield backing


@harness("sql", "sqlite")
def sqlite_harness() -> AbstractAsyncContextManager[SqlHarness]:
    """A temporary SQLite file."""
    return fresh_sql_harness("sqlite")


@harness("sql", "postgresql")
def postgresql_harness() -> AbstractAsyncContextManager[SqlHarness]:
    """A new database on the local PostgreSQL server."""
    return fresh_sql_harness("postgresql")


@harness("sql", "mariadb")
def mariadb_harness() -> AbstractAsyncContextManager[SqlHarness]:
    """A new database on the local MariaDB server."""
    return fresh_sql_harness("mariadb")
