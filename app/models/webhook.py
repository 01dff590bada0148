"""HubSpot webhook events and the privacy deletions they start."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, str_enum, utcnow
from app.models.enums import DeletionState, WebhookState


class WebhookEvent(Base):
    """A received HubSpot event, deduplicated by (portal, event id); unknown portals too."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("portal_id", "event_id"),
        Index("ix_webhook_events_state_received", "state", "received_at"),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    portal_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[str] = mapped_column(String(64))
    subscription_type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[WebhookState] = mapped_column(
        str_enum(WebhookState), default=WebhookState.received
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)  # retries back off
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DeletionRequest(TenantOwned, Base):
    """A privacy deletion and its outcome per system; holds ids only, no personal data."""

    __tablename__ = "deletion_requests"
    __table_args__ = (Index("ix_deletion_requests_tenant_requested", "tenant_id", "requested_at"),)

    portal_id: Mapped[int] = mapped_column(BigInteger)
    hubspot_object_type: Mapped[str] = mapped_column(String(50))
    hubspot_object_id: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(20))
    state: Mapped[DeletionState] = mapped_column(
        str_enum(DeletionState), default=DeletionState.pending
    )
    outcomes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    webhook_event_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("webhook_events.id", ondelete="SET NULL")
    )
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)  # never personal data
