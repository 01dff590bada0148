"""Record links remember the associations they made (a moved contact is re-associated)

Revision ID: 3c9d1e2f4a5b
Revises: 84e120f4701a
Create Date: 2026-11-28 13:10:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c9d1e2f4a5b"
down_revision: str | None = "84e120f4701a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("associations", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record_links", schema=None) as batch_op:
        batch_op.drop_column("associations")
