"""Interfaces and the immutable versions of their mapping tables."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base, TenantOwned, Timestamped, str_enum, utcnow
from app.models.connection import Connection
from app.models.enums import Health, InterfaceState

MIN_INTERVAL_MINUTES = 10
MAX_INTERVAL_MINUTES = 45


class Interface(TenantOwned, Timestamped, Base):
    """One integration: a source, a HubSpot portal, a mapping table and a schedule."""

    __tablename__ = "interfaces"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint(
            f"interval_minutes BETWEEN {MIN_INTERVAL_MINUTES} AND {MAX_INTERVAL_MINUTES}",
            name="interval_range",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "source_connection_id"],
            ["connections.tenant_id", "connections.id"],
            name="fk_interfaces_source_connection",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "hubspot_connection_id"],
            ["connections.tenant_id", "connections.id"],
            name="fk_interfaces_hubspot_connection",
        ),
        Index("ix_interfaces_state_next_run_at", "state", "next_run_at"),
    )

    name: Mapped[str] = mapped_column(String(100))
    source_connection_id: Mapped[uuid.UUID] = mapped_column()
    hubspot_connection_id: Mapped[uuid.UUID] = mapped_column()
    active_mapping_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey(
            "mapping_versions.id",
            use_alter=True,
            ondelete="SET NULL",
            name="fk_interfaces_active_mapping_version",
        )
    )
    interval_minutes: Mapped[int] = mapped_column(Integer, default=15)
    state: Mapped[InterfaceState] = mapped_column(
        str_enum(InterfaceState), default=InterfaceState.draft
    )
    next_run_at: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    health: Mapped[Health] = mapped_column(str_enum(Health), default=Health.never_run)
    health_reason: Mapped[str | None] = mapped_column(String(500))
    health_changed_at: Mapped[datetime | None]
    notified_health: Mapped[Health | None] = mapped_column(  # the health last notified
        str_enum(Health, "notified_health")
    )

    source_connection: Mapped[Connection] = relationship(
        lazy="raise",
        primaryjoin="and_(foreign(Interface.tenant_id) == Connection.tenant_id, "
        "foreign(Interface.source_connection_id) == Connection.id)",
        viewonly=True,
    )
    hubspot_connection: Mapped[Connection] = relationship(
        lazy="raise",
        primaryjoin="and_(foreign(Interface.tenant_id) == Connection.tenant_id, "
        "foreign(Interface.hubspot_connection_id) == Connection.id)",
        viewonly=True,
    )


class MappingVersion(TenantOwned, Base):
    """An immutable, numbered state of an interface's mapping table and its approval."""

    __tablename__ = "mapping_versions"
    __table_args__ = (UniqueConstraint("interface_id", "number"),)

    interface_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interfaces.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    parsed: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    approved_at: Mapped[datetime | None]
