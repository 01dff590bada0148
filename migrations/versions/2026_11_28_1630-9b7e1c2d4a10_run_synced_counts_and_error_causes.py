"""Runs store the records they wrote, failed items their cause's digest; indexes for the pages

Revision ID: 9b7e1c2d4a10
Revises: 704cac1629ca
Create Date: 2026-11-28 16:30:00.000000+00:00

``sync_runs.synced`` (created + updated + deleted of the run's counts) lets the
Übersicht sum activity per hour without unpacking JSON; ``run_items.error_cause``
(``app.sync.error_groups.cause_digest`` of the message) lets the error log group
failures in SQL. Existing rows are backfilled with the same functions the
application uses, a batch at a time.
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from app.models.run import records_written
from app.sync.error_groups import cause_digest

revision: str = "9b7e1c2d4a10"
down_revision: str | None = "704cac1629ca"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000
RUNS = sa.table("sync_runs", sa.column("id", sa.Uuid()), sa.column("counts", sa.JSON()),
                sa.column("synced", sa.Integer()))  # fmt: skip
ITEMS = sa.table("run_items", sa.column("id", sa.Uuid()), sa.column("status", sa.String()),
                 sa.column("error_message", sa.Text()), sa.column("error_cause", sa.String()))  # fmt: skip


def upgrade() -> None:
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("synced", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_sync_runs_started_id", ["started_at", "id"], unique=False)
    with op.batch_alter_table("run_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error_cause", sa.String(length=32), nullable=True))
    _backfill()
    with op.batch_alter_table("run_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_run_items_run_created", ["run_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_run_items_status_cause",
            [
                "status",
                "interface_id",
                "object_name",
                "error_category",
                "http_status",
                "error_cause",
                "created_at",
            ],
            unique=False,
        )


def _backfill() -> None:
    bind = op.get_bind()
    runs = sa.select(RUNS.c.id, RUNS.c.counts)
    for rows in _batches(bind, runs):
        _update(bind, RUNS, "synced", [(i, records_written(c or {})) for i, c in rows])
    failed = sa.select(ITEMS.c.id, ITEMS.c.error_message).where(
        ITEMS.c.status.in_(("failed", "resolved"))
    )
    for rows in _batches(bind, failed):
        _update(bind, ITEMS, "error_cause", [(i, cause_digest(m)) for i, m in rows])


def _batches(bind: Any, statement: Any) -> Iterator[list[Any]]:
    """The rows of ``statement`` a batch at a time, read completely before any update."""
    rows = bind.execute(statement).all()
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def _update(bind: Any, table: Any, column: str, values: list[tuple[Any, Any]]) -> None:
    statement = table.update().where(table.c.id == sa.bindparam("key"))
    statement = statement.values({column: sa.bindparam("value")})
    bind.execute(statement, [{"key": key, "value": value} for key, value in values])


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch copy: recreating
    # sync_runs on SQLite would cascade into run_items and delete every task.
    op.drop_index("ix_run_items_status_cause", table_name="run_items")
    op.drop_index("ix_run_items_run_created", table_name="run_items")
    op.drop_column("run_items", "error_cause")
    op.drop_index("ix_sync_runs_started_id", table_name="sync_runs")
    op.drop_column("sync_runs", "synced")
