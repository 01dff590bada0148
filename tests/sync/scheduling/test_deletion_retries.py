"""The scheduler's tick retries the privacy deletion requests that are due, and only those.

A GDPR delete HubSpot refused during a run leaves a failed request; ticks
before its next attempt leave it alone, the first tick after it completes it.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import DeletionState
from app.sync.scheduling.executor import RunExecutor
from app.sync.scheduling.leases import Leases
from app.sync.scheduling.scheduler import Scheduler
from app.web import WebState
from tests.factories import World
from tests.privacy.conftest import persons_erp
from tests.privacy.kit import only_request, sync
from tests.privacy.test_gdpr_delete import contact_status, hubspot, synced_and_erased
from tests.sync.scheduling.test_scheduler import TTL, Clock
from tests.test_cli_run import sandbox_url

__all__ = ["hubspot", "persons_erp", "sandbox_url"]  # fixtures used by name


def scheduler(web: WebState, clock: Clock) -> Scheduler:
    """A process's scheduler on the shared database, on the test's clock."""
    leases = Leases(web.session_factory, "deletions", TTL, clock)
    executor = RunExecutor(
        web.session_factory, web.secret_box, leases, web.settings.public_url, clock=clock
    )
    return Scheduler(web.session_factory, executor, tick_seconds=1, clock=clock)


async def test_a_tick_retries_a_due_deletion_request_until_it_completes(
    db: AsyncSession,
    web: WebState,
    world: World,
    persons_erp: str,
    sandbox_url: str,
    hubspot: httpx.AsyncClient,
) -> None:
    interface_id, hubspot_id = await synced_and_erased(db, web, world, persons_erp, sandbox_url)
    await hubspot.put("/_sandbox/faults", json={"error_rate": 1.0, "error_status": 403})
    await sync(web, interface_id)
    await hubspot.put("/_sandbox/faults", json={"error_rate": 0.0})
    failed = await only_request(db)
    assert (failed.state, failed.attempts) == (DeletionState.failed, 1)
    assert failed.next_attempt_at is not None
    clock = Clock()
    process = scheduler(web, clock)

    clock.now = failed.next_attempt_at - timedelta(seconds=1)
    early = await process.tick()
    clock.now = failed.next_attempt_at
    due = await process.tick()

    assert (early.deletions, due.deletions) == (0, 1)
    request = await only_request(db)
    assert (request.state, request.attempts) == (DeletionState.completed, 2)
    assert await contact_status(hubspot, hubspot_id) == (404, 404)
