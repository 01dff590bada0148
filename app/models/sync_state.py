"""What the sync engine remembers between runs: record identities and read cursors."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, str_enum, utcnow
from app.models.enums import SyncDirection


class RecordLink(TenantOwned, Base):
    """Identity map: a source key and its HubSpot id, with the last synced hash per side."""

    tenant_indexed = False  # queried by run or interface, never by tenant alone

    __tablename__ = "record_links"
    __table_args__ = (
        UniqueConstraint("interface_id", "object_name", "source_key"),
        Index(
            "ix_record_links_interface_object_hubspot", "interface_id", "object_name", "hubspot_id"
        ),
    )

    interface_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(100))
    source_key: Mapped[str] = mapped_column(String(255))
    hubspot_id: Mapped[str | None] = mapped_column(String(64))
    source_hash: Mapped[str | None] = mapped_column(String(64))
    hubspot_hash: Mapped[str | None] = mapped_column(String(64))
    # What each side held after the last successful sync (canonical strings by HubSpot
    # property name): the per-side baseline of the field-by-field merge.
    source_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    hubspot_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The association each rule last made in HubSpot: rule target → that record's source key,
    # so a changed reference is re-associated and the old pair removed.
    associations: Mapped[dict[str, str] | None] = mapped_column(JSON)
    source_modified_at: Mapped[datetime | None]
    hubspot_modified_at: Mapped[datetime | None]
    last_synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class Cursor(TenantOwned, Base):
    """The watermark an object mapping reads changes from, per direction."""

    __tablename__ = "cursors"
    __table_args__ = (UniqueConstraint("interface_id", "object_name", "direction"),)

    interface_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(100))
    direction: Mapped[SyncDirection] = mapped_column(str_enum(SyncDirection))
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
