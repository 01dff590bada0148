"""SQL for notification targets (tenant-scoped) and deliveries (a system job across tenants)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update

from app.core.repository import RepositoryBase, TenantRepository
from app.models import Interface, NotificationDelivery, NotificationTarget, SyncRun
from app.models.enums import DeliveryStatus, HealthChange


class NotificationTargetRepository(TenantRepository[NotificationTarget]):
    """Notification targets in a tenant scope."""

    model = NotificationTarget

    async def list(self) -> Sequence[NotificationTarget]:
        """The scope's targets, oldest first."""
        return await self.get_all(
            self.select().order_by(NotificationTarget.created_at, NotificationTarget.id)
        )

    async def listening(
        self, interface_id: uuid.UUID, change: HealthChange
    ) -> Sequence[NotificationTarget]:
        """Active targets of this interface or of all interfaces that want ``change``."""
        rows = await self.get_all(
            self.select().where(
                NotificationTarget.active.is_(True),
                or_(
                    NotificationTarget.interface_id.is_(None),
                    NotificationTarget.interface_id == interface_id,
                ),
            )
        )
        return [t for t in rows if not t.changes or change in t.changes]  # JSON: filter here

    async def remove(self, target: NotificationTarget) -> None:
        """Delete ``target``; the database deletes its deliveries with it."""
        await self.session.delete(target)
        await self.session.flush()


class DeliveryRepository(RepositoryBase[NotificationDelivery]):
    """Notification deliveries of every tenant, for the dispatcher (a system job)."""

    model = NotificationDelivery

    async def due(self, now: datetime, *, below_attempts: int) -> list[tuple[uuid.UUID, int]]:
        """(id, attempts) of pending deliveries due at ``now``, the longest waiting first."""
        rows = await self.session.execute(
            select(NotificationDelivery.id, NotificationDelivery.attempts)
            .where(
                NotificationDelivery.status == DeliveryStatus.pending,
                NotificationDelivery.next_attempt_at <= now,
                NotificationDelivery.attempts < below_attempts,
            )
            .order_by(NotificationDelivery.next_attempt_at, NotificationDelivery.id)
        )
        return [(delivery_id, attempts) for delivery_id, attempts in rows]

    async def claim(self, delivery_id: uuid.UUID, *, seen: int, retry_at: datetime) -> bool:
        """Count an attempt and schedule the next, if nobody did since ``seen`` attempts."""
        result = await self.session.execute(
            update(NotificationDelivery)
            .where(
                NotificationDelivery.id == delivery_id,
                NotificationDelivery.status == DeliveryStatus.pending,
                NotificationDelivery.attempts == seen,
            )
            .values(attempts=seen + 1, next_attempt_at=retry_at)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(result) == 1

    async def with_context(
        self, delivery_id: uuid.UUID
    ) -> tuple[NotificationDelivery, NotificationTarget, Interface, SyncRun | None]:
        """A delivery with its target, interface and (if still there) run."""
        delivery, target, interface, run = (
            await self.session.execute(
                select(NotificationDelivery, NotificationTarget, Interface, SyncRun)
                .join(NotificationTarget, NotificationTarget.id == NotificationDelivery.target_id)
                .join(Interface, Interface.id == NotificationDelivery.interface_id)
                .outerjoin(SyncRun, SyncRun.id == NotificationDelivery.run_id)
                .where(NotificationDelivery.id == delivery_id)
            )
        ).one()
        return delivery, target, interface, run

    async def mark_sent(self, delivery_id: uuid.UUID, *, attempt: int, at: datetime) -> None:
        """Record that ``attempt`` delivered the message."""
        await self._settle(
            delivery_id, attempt,
            status=DeliveryStatus.sent, sent_at=at, next_attempt_at=None, last_error=None,
        )  # fmt: skip

    async def mark_failed(
        self, delivery_id: uuid.UUID, *, attempt: int, error: str, give_up: bool
    ) -> None:
        """Record that ``attempt`` failed; ``give_up`` ends the retries."""
        if give_up:
            await self._settle(
                delivery_id, attempt,
                status=DeliveryStatus.failed, next_attempt_at=None, last_error=error,
            )  # fmt: skip
        else:
            await self._settle(delivery_id, attempt, last_error=error)

    async def _settle(self, delivery_id: uuid.UUID, attempt: int, **values: object) -> None:
        await self.session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id, NotificationDelivery.attempts == attempt)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
