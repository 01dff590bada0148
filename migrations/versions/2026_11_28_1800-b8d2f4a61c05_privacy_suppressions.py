"""The privacy suppression list: keyed hashes of privacy-deleted people, per interface and object

Revision ID: b8d2f4a61c05
Revises: 9b7e1c2d4a10
Create Date: 2026-11-28 18:00:00.000000+00:00

One row per keyed hash (``app.sync.privacy.suppressions``); at most one active
(not lifted) row per interface, object mapping and hash: a partial unique index,
which SQLite and PostgreSQL both support.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.models.base

revision: str = "b8d2f4a61c05"
down_revision: str | None = "9b7e1c2d4a10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("lifted_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "privacy_suppressions",
        sa.Column("interface_id", sa.Uuid(), nullable=False),
        sa.Column("object_name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("deletion_request_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lifted_at", app.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=255), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deletion_request_id"],
            ["deletion_requests.id"],
            name=op.f("fk_privacy_suppressions_deletion_request_id_deletion_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["interface_id"],
            ["interfaces.id"],
            name=op.f("fk_privacy_suppressions_interface_id_interfaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_privacy_suppressions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_suppressions")),
    )
    with op.batch_alter_table("privacy_suppressions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_privacy_suppressions_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            "ix_privacy_suppressions_request", ["deletion_request_id"], unique=False
        )
        batch_op.create_index(
            "uq_privacy_suppressions_active",
            ["interface_id", "object_name", "key_hash"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table("privacy_suppressions", schema=None) as batch_op:
        batch_op.drop_index("uq_privacy_suppressions_active")
        batch_op.drop_index("ix_privacy_suppressions_request")
        batch_op.drop_index(batch_op.f("ix_privacy_suppressions_tenant_id"))
    op.drop_table("privacy_suppressions")
