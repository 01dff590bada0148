"""The failures' index covers failed items only: partial on error_cause IS NOT NULL

Revision ID: e651d405b1f9
Revises: c3e5a7f9b1d2
Create Date: 2026-11-28 19:10:00.000000+00:00

Only failed items (and resolved ones, which keep it) carry a cause digest, so
``ix_run_items_status_cause`` (seven columns: the error log's grouping and a
cause's records) is no longer maintained for the succeeded items that make up
nearly every run. SQLite and PostgreSQL both support partial indexes; the error
log's queries and the sync's look-up of open failures repeat the term (SQLite
uses a partial index only then), so ``ix_run_items_interface_status``, which
served that look-up, goes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e651d405b1f9"
down_revision: str | None = "c3e5a7f9b1d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HAS_CAUSE = sa.text("error_cause IS NOT NULL")
NAME = "ix_run_items_status_cause"
INTERFACE_STATUS = "ix_run_items_interface_status"
COLUMNS = [
    "status",
    "interface_id",
    "object_name",
    "error_category",
    "http_status",
    "error_cause",
    "created_at",
]


def upgrade() -> None:
    op.drop_index(NAME, table_name="run_items")
    op.create_index(NAME, "run_items", COLUMNS, sqlite_where=HAS_CAUSE, postgresql_where=HAS_CAUSE)
    op.drop_index(INTERFACE_STATUS, table_name="run_items")


def downgrade() -> None:
    op.create_index(INTERFACE_STATUS, "run_items", ["interface_id", "status"])
    op.drop_index(NAME, table_name="run_items")
    op.create_index(NAME, "run_items", COLUMNS)
