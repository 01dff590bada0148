"""The privacy suppression list: who must not come back to HubSpot after a privacy deletion."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, utcnow

ACTIVE = "lifted_at IS NULL"  # the partial unique index: one active entry per key


class PrivacySuppression(TenantOwned, Base):
    """One keyed hash (HMAC-SHA256, never the value) of a privacy-deleted person's source key
    or match value; while not lifted, the to-HubSpot sync of that interface and object
    mapping skips the record. Lifting keeps the row (who lifted it, when and why)."""

    __tablename__ = "privacy_suppressions"
    __table_args__ = (
        Index(
            "uq_privacy_suppressions_active",
            "interface_id",
            "object_name",
            "key_hash",
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        ),
        Index("ix_privacy_suppressions_request", "deletion_request_id"),
    )

    interface_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # "source_key" or "match"
    key_hash: Mapped[str] = mapped_column(String(64))
    deletion_request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("deletion_requests.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lifted_at: Mapped[datetime | None]
    lifted_by: Mapped[str | None] = mapped_column(String(255))  # the actor's label
    lift_reason: Mapped[str | None] = mapped_column(Text)
