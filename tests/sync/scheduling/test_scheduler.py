"""The scheduler with a fake clock against the PostgreSQL ERP and the sandbox over loopback.

Each test drives ``Scheduler.tick(now)`` by hand: a due interface runs once and
is planned an interval after its slot; a second process ticking at the same
moment starts nothing; pause and resume; a run whose process died is reaped as
``aborted`` and resumed; a run stopped between batches ends ``aborted`` and the
next run completes it without duplicates.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.metrics import METRICS
from app.models import Interface, SyncRun
from app.models.enums import InterfaceState, RunStatus, RunTrigger
from app.sync.engine.state import RunHooks
from app.sync.interface_control import activate_interface, pause_interface, resume_interface
from app.sync.running import run_now
from app.sync.scheduling.executor import RunExecutor
from app.sync.scheduling.leases import Leases
from app.sync.scheduling.scheduler import Scheduler
from app.web import WebState
from tests.api.test_run_now import applied_interface
from tests.factories import World, bearer
from tests.test_cli_run import erp_url, sandbox_url

__all__ = ["erp_url", "sandbox_url"]  # fixtures used by name
pytestmark = pytest.mark.database
TTL = timedelta(seconds=60)
OPERATOR = Actor.system("test")
URL = "http://hubsync.test"


RUNS, CALLS = "hubsync_runs_total", "hubsync_hubspot_calls_total"
SCHEDULED_OK = {"status": "succeeded", "trigger": "schedule"}


def sample(name: str, labels: dict[str, str]) -> float:
    """A value of the process's metrics (0 before the first observation)."""
    return METRICS.registry.get_sample_value(name, labels) or 0.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def process(web: WebState, clock: Clock, name: str) -> Scheduler:
    """One scheduler process: its own lease holder and executor on the shared database."""
    leases = Leases(web.session_factory, name, TTL, clock)
    executor = RunExecutor(
        web.session_factory, web.secret_box, leases, web.settings.public_url, clock=clock
    )
    return Scheduler(web.session_factory, executor, tick_seconds=1, clock=clock)


async def settled(*schedulers: Scheduler) -> None:
    """Wait until the runs the schedulers started have finished."""
    tasks = [e.task for s in schedulers for e in s.executor.active.values() if e.task]
    await asyncio.gather(*tasks)


async def scheduled(
    db: AsyncSession, web: WebState, world: World, erp: str, sandbox: str, clock: Clock
) -> uuid.UUID:
    """The approved ERP interface of tenant A, activated at the clock's time."""
    interface_id = uuid.UUID(await applied_interface(db, web, world, erp, sandbox))
    await activate_interface(db, actor=OPERATOR, interface_id=interface_id, now=clock.now)
    await db.commit()
    return interface_id


async def runs(web: WebState, interface_id: uuid.UUID) -> list[SyncRun]:
    async with web.session_factory() as session:
        found = await session.scalars(
            select(SyncRun).where(SyncRun.interface_id == interface_id).order_by(SyncRun.started_at)
        )
        return list(found)


async def interface(web: WebState, interface_id: uuid.UUID) -> Interface:
    async with web.session_factory() as session:
        found = await session.get(Interface, interface_id)
        assert found is not None
        return found


async def test_a_due_interface_runs_once_per_slot(
    db: AsyncSession, web: WebState, world: World, erp_url: str, sandbox_url: str
) -> None:
    clock = Clock()
    interface_id = await scheduled(db, web, world, erp_url, sandbox_url, clock)
    one = process(web, clock, "one")
    slot = clock.now
    runs_before, calls_before = sample(RUNS, SCHEDULED_OK), sample(CALLS, {"status_class": "2xx"})
    assert (await one.tick()).started == [interface_id]
    await settled(one)
    first = await interface(web, interface_id)
    assert first.next_run_at == slot + timedelta(minutes=15)
    clock.now += timedelta(minutes=14)
    assert (await one.tick()).started == []
    clock.now += timedelta(minutes=1)
    assert (await one.tick()).started == [interface_id]
    await settled(one)
    done = await runs(web, interface_id)
    assert [(r.trigger, r.status) for r in done] == [(RunTrigger.schedule, RunStatus.succeeded)] * 2
    assert done[0].planned_at == slot
    assert done[0].worker is not None
    assert done[0].worker.startswith("one")
    assert sample(RUNS, SCHEDULED_OK) == runs_before + 2
    assert sample(CALLS, {"status_class": "2xx"}) > calls_before
    assert sample("hubsync_runs_in_progress", {}) == 0


async def test_two_processes_ticking_together_start_one_run(
    db: AsyncSession, web: WebState, world: World, erp_url: str, sandbox_url: str
) -> None:
    clock = Clock()
    interface_id = await scheduled(db, web, world, erp_url, sandbox_url, clock)
    one, two = process(web, clock, "one"), process(web, clock, "two")
    reports = await asyncio.gather(one.tick(), two.tick())
    await settled(one, two)
    assert sum(len(r.started) for r in reports) == 1
    again = await asyncio.gather(one.tick(), two.tick())  # the slot is served: nothing more
    assert sum(len(r.started) for r in again) == 0
    assert len(await runs(web, interface_id)) == 1


async def test_a_paused_interface_waits_for_resume(
    db: AsyncSession, web: WebState, world: World, erp_url: str, sandbox_url: str
) -> None:
    clock = Clock()
    interface_id = await scheduled(db, web, world, erp_url, sandbox_url, clock)
    await pause_interface(db, actor=OPERATOR, interface_id=interface_id, now=clock.now)
    await db.commit()
    one = process(web, clock, "one")
    clock.now += timedelta(hours=2)
    assert (await one.tick()).started == []
    paused = await interface(web, interface_id)
    assert (paused.state, paused.health, paused.next_run_at) == (
        InterfaceState.paused, "paused", None,
    )  # fmt: skip
    await resume_interface(db, actor=OPERATOR, interface_id=interface_id, now=clock.now)
    await db.commit()
    assert (await one.tick()).started == [interface_id]
    await settled(one)


async def test_a_run_whose_process_died_is_aborted_and_resumed(
    db: AsyncSession, web: WebState, world: World, erp_url: str, sandbox_url: str
) -> None:
    clock = Clock()
    interface_id = await scheduled(db, web, world, erp_url, sandbox_url, clock)
    orphan = SyncRun(
        tenant_id=world.a.tenant.id, interface_id=interface_id, trigger=RunTrigger.schedule,
        status=RunStatus.running, worker="gone:1",
    )  # fmt: skip
    db.add(orphan)
    await db.commit()
    one = process(web, clock, "one")
    report = await one.tick()
    assert report.aborted == [orphan.id]
    assert report.started == [interface_id]
    await settled(one)
    statuses = {r.id: r.status for r in await runs(web, interface_id)}
    assert statuses.pop(orphan.id) is RunStatus.aborted
    assert list(statuses.values()) == [RunStatus.succeeded]


async def test_a_run_stopped_between_batches_is_aborted_and_the_next_completes_it(
    db: AsyncSession, web: WebState, world: World, erp_url: str, sandbox_url: str
) -> None:
    interface_id = uuid.UUID(await applied_interface(db, web, world, erp_url, sandbox_url))
    stop = RunHooks(should_stop=lambda: True)
    stopped = await run_now(web.session_factory, actor=OPERATOR, box=web.secret_box,
                            interface_id=interface_id, hooks=stop, public_url=URL)  # fmt: skip
    assert stopped.status is RunStatus.aborted
    assert "resumes" in (stopped.error_summary or "")
    resumed = await run_now(web.session_factory, actor=OPERATOR, box=web.secret_box,
                            interface_id=interface_id, public_url=URL)  # fmt: skip
    assert resumed.status is RunStatus.succeeded
    assert resumed.counts["companies"]["created"] == 0  # the stopped run's batch was committed
    async with httpx.AsyncClient(base_url=sandbox_url) as portal:
        found = await portal.get("/crm/v3/objects/companies", params={"limit": 100},
                                 headers={"Authorization": "Bearer run-token"})  # fmt: skip
    assert len(found.json()["results"]) == 3


@pytest.mark.parametrize("minutes", [9, 46])
async def test_an_interval_outside_the_range_is_refused_naming_it(
    client: httpx.AsyncClient, world: World, minutes: int
) -> None:
    path = f"/api/v1/interfaces/{world.a.interface.id}"
    response = await client.patch(path, json={"interval_minutes": minutes},
                                  headers=bearer(world.a.admin_token))  # fmt: skip
    assert response.status_code == 422
    assert "between 10 and 45 minutes" in response.text


async def test_a_new_interval_reschedules_an_active_interface_at_once(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    interface_id = world.a.interface.id
    await activate_interface(db, actor=OPERATOR, interface_id=interface_id)
    await db.commit()
    headers = bearer(world.a.admin_token)
    path = f"/api/v1/interfaces/{interface_id}"
    changed = await client.patch(path, json={"interval_minutes": 30}, headers=headers)
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["interval_minutes"] == 30
    assert body["next_run_at"] is not None
    viewer = await client.patch(path, json={"interval_minutes": 20},
                                headers=bearer(world.a.viewer_token))  # fmt: skip
    assert viewer.status_code == 403
