"""The end of an attempt: a request's failure is told once, whatever states follow."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import DeletionRequest, NotificationDelivery, NotificationTarget
from app.models.base import utcnow
from app.models.enums import DeletionState, NotificationKind
from app.sync.privacy.outcomes import HUBSYNC, NOTIFIED_AT, hubsync_outcome
from app.sync.privacy.settle import Conclusion, settle_attempt
from tests.factories import World
from tests.privacy.kit import PORTAL_ID, only_request

NO_COUNTS = {"record_links": 0, "run_items": 0, "webhook_events": 0}


async def claimed(db: AsyncSession, request: DeletionRequest, number: int) -> DeletionRequest:
    """The request as attempt ``number`` claimed it."""
    await db.execute(
        update(DeletionRequest).where(DeletionRequest.id == request.id).values(attempts=number)
    )
    await db.commit()
    return await only_request(db)


def ending(request: DeletionRequest, interface_id: uuid.UUID, *, fails: bool) -> Conclusion:
    """Attempt ``request.attempts``: failed in the interface, or only waiting."""
    own = hubsync_outcome(request.outcomes.get(HUBSYNC), done=False, at=utcnow(), counts=NO_COUNTS)
    return Conclusion(
        request_id=request.id, tenant_id=request.tenant_id, number=request.attempts,
        now=utcnow(), outcomes={HUBSYNC: own}, policy="delete",
        failures=[(interface_id, "ConnectorUnavailable: the ERP is down")] if fails else [],
        done=False,
    )  # fmt: skip


async def told(db: AsyncSession) -> int:
    return int(await db.scalar(select(func.count()).select_from(NotificationDelivery)) or 0)


async def test_a_failure_after_a_wait_is_not_told_again(db: AsyncSession, world: World) -> None:
    interface_id = world.a.interface.id
    db.add(NotificationTarget(tenant_id=world.a.tenant.id, interface_id=interface_id,
                              kind=NotificationKind.email, address="ops@example.com"))  # fmt: skip
    db.add(DeletionRequest(
        tenant_id=world.a.tenant.id, portal_id=PORTAL_ID, hubspot_object_type="contacts",
        hubspot_object_id="101", policy="delete", state=DeletionState.pending, outcomes={},
        requested_at=utcnow(), attempts=0,
    ))  # fmt: skip
    await db.commit()
    states = []
    for number, fails in ((1, True), (2, False), (3, True)):
        request = await claimed(db, await only_request(db), number)
        states.append(await settle_attempt(db, ending(request, interface_id, fails=fails),
                                           public_url=None))  # fmt: skip
        await db.commit()

    assert states == [DeletionState.failed, DeletionState.pending, DeletionState.failed]
    assert await told(db) == 1
    assert (await only_request(db)).outcomes[HUBSYNC][NOTIFIED_AT]


async def test_a_later_attempt_keeps_an_earlier_one_from_writing(
    db: AsyncSession, world: World
) -> None:
    db.add(DeletionRequest(
        tenant_id=world.a.tenant.id, portal_id=PORTAL_ID, hubspot_object_type="contacts",
        hubspot_object_id="102", policy="delete", state=DeletionState.pending, outcomes={},
        requested_at=utcnow(), attempts=1,
    ))  # fmt: skip
    await db.commit()
    first = ending(await only_request(db), world.a.interface.id, fails=True)
    await claimed(db, await only_request(db), 2)

    state = await settle_attempt(db, first, public_url=None)

    assert state is None
    assert (await only_request(db)).state is DeletionState.pending
    assert await told(db) == 0
