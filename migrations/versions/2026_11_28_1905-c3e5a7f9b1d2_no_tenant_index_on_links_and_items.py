"""No index on the tenant alone for record links and run items

Revision ID: c3e5a7f9b1d2
Revises: b8d2f4a61c05
Create Date: 2026-11-28 19:05:00.000000+00:00

Every query on these two large tables names the interface or the run, which have
their own indexes. The tenant-only index cost every insert of a sync run, and
SQLite's planner (no statistics) chose it over the unique source-key index for a
batch's link lookup, scanning all of a tenant's links per batch.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c3e5a7f9b1d2"
down_revision: str | None = "b8d2f4a61c05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("record_links", "run_items")


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"])
