"""Database engine and the session boundary.

The caller's outer frame owns the transaction: ``session_scope`` commits when
its block succeeds and rolls back when it raises; services and repositories
only flush.

SQLite runs in WAL mode. By default the commit that grows the WAL past 1,000
pages copies it back into the database file (an *autocheckpoint*), so every
~4 MB written one unlucky request waits for that copy: measured, those commits
made the slowest 1–3 % of webhook acknowledgements. An engine created with
``background_checkpoints`` turns that off; the process must then call
``checkpoint_wal`` periodically (``hubsync serve``'s scheduler does), which
copies what it can without waiting for, or blocking, readers and writers.
Without it (the CLI, tests) SQLite keeps checkpointing by itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SessionFactory = async_sessionmaker[AsyncSession]


JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a WAL is cut back to once checkpointed


def create_engine(database_url: str, *, background_checkpoints: bool = False) -> AsyncEngine:
    """An async engine for ``database_url``, with SQLite made safe for concurrent use;
    ``background_checkpoints``: SQLite's WAL is checkpointed by ``checkpoint_wal`` only,
    never inside a commit (the caller promises to call it)."""
    url = make_url(database_url)
    codec: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, **codec)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **codec)
    pragmas = partial(_sqlite_pragmas, autocheckpoint=not background_checkpoints)
    event.listen(engine.sync_engine, "connect", pragmas)
    return engine


async def checkpoint_wal(engine: AsyncEngine) -> tuple[int, int] | None:
    """Copy SQLite's WAL back into the database file as far as it can without waiting for
    readers or writers (``PASSIVE``); (WAL pages, pages copied), or None for other
    databases. Called periodically for engines with ``background_checkpoints``."""
    if engine.dialect.name != "sqlite":
        return None
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        _busy, pages, copied = map(int, result.one())
    return pages, copied


def json_text(value: Any) -> str:
    """``value`` as JSON text for JSON columns: orjson, several times faster than ``json``
    on the run engine's per-record payloads and baselines."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode("utf-8")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any, *, autocheckpoint: bool) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    if not autocheckpoint:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
