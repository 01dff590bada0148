"""Schema migrations run from code: ``hubsync migrate``, the start-up check and tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from app.core.db import create_engine

_PACKAGE_MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
_SOURCE_MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def _script_location() -> Path:
    return _PACKAGE_MIGRATIONS if _PACKAGE_MIGRATIONS.is_dir() else _SOURCE_MIGRATIONS


def alembic_config(database_url: str) -> Config:
    """An Alembic config for ``database_url`` that works from a checkout and a wheel."""
    config = Config()
    config.set_main_option("script_location", str(_script_location()))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (blocking; run it off the event loop)."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    """Revert migrations down to ``revision`` (``base`` empties the schema)."""
    command.downgrade(alembic_config(database_url), revision)


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(database_url: str) -> str | None:
    """The migration the database is at, or None for an empty database."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(current_revision_of)
    finally:
        await engine.dispose()


def current_revision_of(connection: Connection) -> str | None:
    """The migration the database behind an open connection is at."""
    return MigrationContext.configure(connection).get_current_revision()
