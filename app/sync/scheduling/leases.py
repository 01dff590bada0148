"""Named, expiring claims in the database, so that several processes never run the same thing.

``interface:<id>`` makes an interface run in one process at a time;
``portal:<key>`` makes at most one run write to a HubSpot portal at a time, so
the portal's rate limit is shared rather than fought over. A holder renews its
leases while it works; a lease not renewed within its TTL (the process died)
may be taken over by anyone, and the takeover is reported so the dead run can
be marked ``aborted``.

Acquiring is one conditional UPDATE (free, expired or already ours), or an
INSERT when the name was never leased; a unique constraint settles a race
between two first-time INSERTs. This works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.core.db import SessionFactory, session_scope
from app.models import Lease
from app.models.base import utcnow


@dataclass(frozen=True, slots=True)
class Claim:
    """A lease just acquired; ``took_over_from`` names a previous holder whose lease expired."""

    name: str
    took_over_from: str | None = None


def interface_lease(interface_id: uuid.UUID) -> str:
    """The lease name that makes an interface's runs exclusive."""
    return f"interface:{interface_id}"


def portal_lease(portal_key: str) -> str:
    """The lease name that makes writes to one HubSpot portal exclusive."""
    return f"portal:{portal_key}"


class Leases:
    """The leases of one holder (one process, or one command-line run)."""

    def __init__(
        self,
        sessions: SessionFactory,
        holder: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.holder = holder
        self.ttl = ttl
        self.clock = clock

    async def acquire(self, name: str, run_id: uuid.UUID | None = None) -> Claim | None:
        """Take ``name`` if it is free, expired or ours already; None when another holds it."""
        now = self.clock()
        async with session_scope(self.sessions) as session:
            current = (
                await session.execute(
                    select(Lease.holder, Lease.expires_at).where(Lease.name == name)
                )
            ).first()
            if current is None:
                try:
                    async with session.begin_nested():
                        session.add(self._row(name, now, run_id))
                except IntegrityError:
                    return None  # another process inserted it first
                return Claim(name)
            taken = await session.execute(
                update(Lease)
                .where(
                    Lease.name == name, or_(Lease.expires_at <= now, Lease.holder == self.holder)
                )
                .values(
                    holder=self.holder, acquired_at=now, expires_at=now + self.ttl, run_id=run_id
                )
            )
            if not _rowcount(taken):
                return None
        previous = current.holder if current.holder != self.holder else None
        return Claim(name, took_over_from=previous)

    async def renew(self, names: Collection[str]) -> set[str]:
        """Extend the TTL of ``names`` still held; returns those (a lost lease is not renewed)."""
        if not names:
            return set()
        now = self.clock()
        async with session_scope(self.sessions) as session:
            await session.execute(
                update(Lease)
                .where(Lease.name.in_(list(names)), Lease.holder == self.holder)
                .values(expires_at=now + self.ttl)
            )
            held = await session.execute(
                select(Lease.name).where(Lease.name.in_(list(names)), Lease.holder == self.holder)
            )
            return set(held.scalars())

    async def release(self, names: Collection[str]) -> None:
        """Give ``names`` up at once (only those this holder still holds)."""
        if names:
            async with session_scope(self.sessions) as session:
                await session.execute(
                    delete(Lease).where(Lease.name.in_(list(names)), Lease.holder == self.holder)
                )

    async def live_holders(self, names: Collection[str]) -> dict[str, str]:
        """The holder of each of ``names`` whose lease has not expired."""
        if not names:
            return {}
        async with session_scope(self.sessions) as session:
            rows = await session.execute(
                select(Lease.name, Lease.holder).where(
                    Lease.name.in_(list(names)), Lease.expires_at > self.clock()
                )
            )
            return {row.name: row.holder for row in rows}

    def _row(self, name: str, now: datetime, run_id: uuid.UUID | None) -> Lease:
        return Lease(
            name=name, holder=self.holder, acquired_at=now, expires_at=now + self.ttl, run_id=run_id
        )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
