"""Who is told when an interface's health changes, and each message sent."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, str_enum, utcnow
from app.models.enums import DeliveryStatus, Health, HealthChange, NotificationKind


class NotificationTarget(TenantOwned, Base):
    """A recipient (e-mail address or webhook URL) for one interface, or all of a tenant's."""

    __tablename__ = "notification_targets"

    interface_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("interfaces.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[NotificationKind] = mapped_column(str_enum(NotificationKind))
    address: Mapped[str] = mapped_column(String(500))  # e-mail address or https URL
    changes: Mapped[list[str]] = mapped_column(JSON, default=list)  # HealthChange values; [] = all
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationDelivery(TenantOwned, Base):
    """One message about one health change to one target, with its delivery attempts."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),)

    target_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notification_targets.id", ondelete="CASCADE"), index=True
    )
    interface_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interfaces.id", ondelete="CASCADE"), index=True
    )
    run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("sync_runs.id", ondelete="SET NULL")
    )
    change: Mapped[HealthChange] = mapped_column(str_enum(HealthChange))
    health_from: Mapped[Health] = mapped_column(str_enum(Health, "health_from"))
    health_to: Mapped[Health] = mapped_column(str_enum(Health, "health_to"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # no personal data: counts, errors, links
    status: Mapped[DeliveryStatus] = mapped_column(
        str_enum(DeliveryStatus), default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
