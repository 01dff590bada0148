"""Connections: one system's settings and encrypted credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TenantOwned, Timestamped, str_enum
from app.models.enums import ConnectionKind


class Connection(TenantOwned, Timestamped, Base):
    """A HubSpot portal or a third-party system; secrets live only in ``secrets_encrypted``."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("tenant_id", "id"),
    )

    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ConnectionKind] = mapped_column(str_enum(ConnectionKind))
    connector: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    secrets_set_at: Mapped[datetime | None]
    hub_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
