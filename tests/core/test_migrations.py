"""Migrations on every backend: head matches the models, down to base and up again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.engine import Connection

from app.core import migrations
from app.core.db import create_engine
from app.models import Base
from tests.databases import BACKENDS, fresh_database

pytestmark = pytest.mark.database


def _schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
    )
    return list(compare_metadata(context, Base.metadata))


def _check_constraints(connection: Connection) -> set[tuple[str, str | None]]:
    inspector = inspect(connection)
    return {
        (table, check["name"])
        for table in inspector.get_table_names()
        if table != "alembic_version"
        for check in inspector.get_check_constraints(table)
    }


def _model_check_constraints() -> set[tuple[str, str | None]]:
    return {
        (table.name, None if check.name is None else str(check.name))
        for table in Base.metadata.sorted_tables
        for check in table.constraints
        if isinstance(check, CheckConstraint)
    }


def _table_names(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


def _postgres_enum_types(connection: Connection) -> list[str]:
    if connection.dialect.name != "postgresql":
        return []
    rows = connection.execute(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typtype = 'e' AND n.nspname = 'public'"
        )
    )
    return [str(name) for (name,) in rows]


async def _inspect(database_url: str, check: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(check)
    finally:
        await engine.dispose()


def test_there_is_exactly_one_head() -> None:
    head = migrations.head_revision()
    assert head is not None
    assert len(head) >= 12


@pytest.mark.parametrize("backend", BACKENDS)
async def test_upgrade_downgrade_upgrade(backend: str, tmp_path: Path) -> None:
    model_tables = set(Base.metadata.tables)
    async with fresh_database(backend, tmp_path) as url:
        assert await migrations.current_revision(url) is None

        await asyncio.to_thread(migrations.upgrade, url)
        assert await migrations.current_revision(url) == migrations.head_revision()
        assert await _inspect(url, _table_names) == model_tables | {"alembic_version"}
        assert await _inspect(url, _schema_differences) == []
        assert await _inspect(url, _check_constraints) == _model_check_constraints()

        await asyncio.to_thread(migrations.downgrade, url, "base")
        assert await migrations.current_revision(url) is None
        assert await _inspect(url, _table_names) <= {"alembic_version"}
        assert await _inspect(url, _postgres_enum_types) == []
        missing = await _inspect(url, _schema_differences)
        added = {diff[1].name for diff in missing if diff[0] == "add_table"}
        assert added == model_tables, "the comparison must see every table missing"

        await asyncio.to_thread(migrations.upgrade, url)
        assert await migrations.current_revision(url) == migrations.head_revision()
        assert await _inspect(url, _table_names) == model_tables | {"alembic_version"}
        assert await _inspect(url, _schema_differences) == []
        assert await _inspect(url, _check_constraints) == _model_check_constraints()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_upgrade_twice_is_a_no_op(backend: str, tmp_path: Path) -> None:
    async with fresh_database(backend, tmp_path) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        await asyncio.to_thread(migrations.upgrade, url)
        assert await migrations.current_revision(url) == migrations.head_revision()
        assert await _inspect(url, _schema_differences) == []
