"""Builders for notification tests: targets, finished runs, deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import session_scope
from app.models import Interface, NotificationDelivery, NotificationTarget, SyncRun
from app.models.base import utcnow
from app.models.enums import ErrorCategory, HealthChange, NotificationKind, RunStatus, RunTrigger
from app.sync.health import apply_run_health
from app.web import WebState
from tests.factories import TenantWorld


async def add_target(
    db: AsyncSession,
    tenant: TenantWorld,
    kind: NotificationKind,
    address: str,
    *,
    changes: Sequence[HealthChange] = (),
    interface: Interface | None = None,
    active: bool = True,
) -> NotificationTarget:
    """A notification target of ``tenant``, committed."""
    target = NotificationTarget(
        tenant_id=tenant.tenant.id, interface_id=interface.id if interface else None, kind=kind,
        address=address, changes=[c.value for c in changes], active=active,
    )  # fmt: skip
    db.add(target)
    await db.commit()
    return target


async def finish_run(
    web: WebState, tenant: TenantWorld, status: RunStatus, **fields: Any
) -> HealthChange | None:
    """Store a finished run of ``tenant``'s interface and apply its health, as the runner does."""
    async with session_scope(web.session_factory) as session:
        interface = await session.get_one(Interface, tenant.interface.id)
        run = SyncRun(
            tenant_id=interface.tenant_id, interface_id=interface.id, trigger=RunTrigger.schedule,
            status=status, finished_at=utcnow(), **fields,
        )  # fmt: skip
        session.add(run)
        await session.flush()
        return await apply_run_health(session, interface, run, public_url=web.settings.public_url)


async def deliveries(db: AsyncSession) -> list[NotificationDelivery]:
    """Every delivery, oldest first, read fresh."""
    rows = await db.execute(
        select(NotificationDelivery)
        .order_by(NotificationDelivery.created_at)
        .execution_options(populate_existing=True)
    )
    return list(rows.scalars())


def failed_summary() -> dict[str, Any]:
    """The fields of a run HubSpot stopped with a revoked token."""
    return {
        "error_summary": "AuthError: HTTP 401: INVALID_AUTHENTICATION: token expired "
        f"(correlationId {uuid.uuid4()})",
        "error_category": ErrorCategory.config,
        "counts": {"companies": {"created": 1, "updated": 0, "failed": 0}},
    }
