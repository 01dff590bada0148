"""SQLite's WAL checkpoints leave the commits of ``hubsync serve`` to its scheduler.

An engine with ``background_checkpoints`` never checkpoints inside a commit
(the write that fills the WAL returns without copying it back), and
``checkpoint_wal`` copies the whole WAL back when nothing holds it. Other
engines keep SQLite's autocheckpoint.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.db import checkpoint_wal, create_engine
from app.core.settings import Settings
from app.web import WebState, build_scheduler
from tests.databases import DEFAULT_POSTGRES_URL

PAGES = 1_500  # more than SQLite's autocheckpoint threshold of 1,000 pages
ROW = "x" * 3_000  # about one page per row


async def filled(engine: AsyncEngine) -> None:
    """Write about ``PAGES`` pages, one commit per 100 rows (as the webhook receiver does)."""
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, v TEXT)"))
    for _ in range(PAGES // 100):
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO filler (v) VALUES (:v)"), [{"v": ROW}] * 100)


@pytest.fixture
async def engines(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """A default engine and one with background checkpoints, each on its own SQLite file."""
    default = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'default.db'}")
    background = create_engine(
        f"sqlite+aiosqlite:///{tmp_path / 'background.db'}", background_checkpoints=True
    )
    yield default, background
    await default.dispose()
    await background.dispose()


async def test_commits_leave_the_wal_to_the_background_checkpoint(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    default, background = engines
    await filled(default)
    await filled(background)

    left_by_commits = await checkpoint_wal(background)  # what the commits left in the WAL
    again = await checkpoint_wal(background)
    by_autocheckpoint = await checkpoint_wal(default)

    assert left_by_commits is not None
    assert left_by_commits[0] > PAGES  # no commit checkpointed
    assert left_by_commits[0] == left_by_commits[1]  # and the checkpoint copied all of it
    assert again == (left_by_commits[0], left_by_commits[0])  # nothing new to copy
    assert by_autocheckpoint is not None
    assert by_autocheckpoint[0] < 1_000 + 110  # SQLite checkpointed inside the commits


async def test_other_databases_need_no_checkpoint() -> None:
    engine = create_engine(DEFAULT_POSTGRES_URL)
    try:
        assert await checkpoint_wal(engine) is None
    finally:
        await engine.dispose()


@pytest.mark.parametrize("scheduler", [True, False])
async def test_serve_checkpoints_in_the_background_only_with_its_scheduler(
    tmp_path: Path, scheduler: bool
) -> None:
    settings = Settings.model_validate({
        "env": "development", "database_url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}",
        "secret_key": "test-secret-key-0123456789abcdef", "var_dir": str(tmp_path / "var"),
        "scheduler_enabled": scheduler,
    })  # fmt: skip
    state = WebState.build(settings)
    try:
        async with state.engine.connect() as connection:
            pages = (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
    finally:
        await state.engine.dispose()

    assert pages == (0 if scheduler else 1_000)
    assert "wal_checkpoint" in build_scheduler(state).jobs
