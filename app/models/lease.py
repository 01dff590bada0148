"""Leases: which process may run an interface, or write to a HubSpot portal, right now."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Lease(Base):
    """A named, expiring claim held by one ``hubsync serve`` process (not tenant data).

    ``name`` is ``interface:<id>`` or ``portal:<key>``; a holder renews its leases
    while it works, and a lease past ``expires_at`` may be taken over by anyone.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(200), unique=True)
    holder: Mapped[str] = mapped_column(String(100))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    run_id: Mapped[uuid.UUID | None]
