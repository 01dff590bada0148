"""Record links keep each side's values after the last sync (the merge baseline)

Revision ID: 84e120f4701a
Revises: 5ebe74867854
Create Date: 2026-11-28 11:59:24.874944+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "84e120f4701a"
down_revision: str | None = "5ebe74867854"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_values", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("hubspot_values", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_column("hubspot_values")
        batch_op.drop_column("source_values")
