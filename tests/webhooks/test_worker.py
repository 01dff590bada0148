"""The webhook worker on SQLite and PostgreSQL: routing, debounce, claims, retries, privacy."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.hubspot.errors import ScopeError
from app.connectors.hubspot.schemas import ObjectSchema
from app.core.db import SessionFactory, session_scope
from app.core.errors import Conflict
from app.core.secrets_box import SecretBox
from app.models import Interface, WebhookEvent
from app.models.enums import InterfaceState, RunTrigger, WebhookState
from app.sync.privacy.handler import handle_privacy_deletion
from app.sync.webhooks.events import parse_events
from app.sync.webhooks.repository import WebhookEventRepository
from app.sync.webhooks.store import store_events
from app.sync.webhooks.worker import (
    CHUNK,
    CLAIM_TTL,
    MAX_ATTEMPTS,
    PrivacyHandler,
    WebhookWorker,
    retry_delay,
)
from app.web import WebState, build_scheduler
from tests.webhooks.kit import (
    MAPPING_YAML,
    PORTAL,
    FakeRuns,
    FakeSchemas,
    add_portal_interface,
    batch,
    event,
    stored,
)

pytestmark = pytest.mark.database
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
DEBOUNCE = timedelta(seconds=2)


async def receive(sessions: SessionFactory, *events: dict[str, Any], at: datetime = T0) -> None:
    """Store ``events`` as the receiver does, received at ``at``."""
    async with session_scope(sessions) as session:
        await store_events(session, events=parse_events(batch(*events)), received_at=at)


def worker(
    web: WebState,
    runs: FakeRuns,
    privacy: PrivacyHandler | None = None,
    schemas: FakeSchemas | None = None,
) -> WebhookWorker:
    """A worker over the test database and ``runs`` (and the real privacy flow by default)."""
    return WebhookWorker(
        web.session_factory, runs, box=web.secret_box, debounce=DEBOUNCE,
        privacy=privacy or handle_privacy_deletion, public_url=web.settings.public_url,
        schemas=schemas,
    )  # fmt: skip


def states(events: Sequence[WebhookEvent]) -> dict[str, WebhookState]:
    """Event id → state."""
    return {e.event_id: e.state for e in events}


@pytest.fixture
async def interface(db: AsyncSession, web: WebState) -> Interface:
    """An active interface on ``PORTAL`` reading companies from HubSpot."""
    return await add_portal_interface(db)


async def test_a_burst_of_changes_becomes_one_targeted_run(
    web: WebState, interface: Interface
) -> None:
    runs = FakeRuns()
    hooks = worker(web, runs)
    for n in range(10):  # ten edits within a second
        await receive(
            web.session_factory, event(n, 100 + n % 5), at=T0 + n * timedelta(seconds=0.1)
        )
    newest = T0 + timedelta(seconds=0.9)
    assert (await hooks.tick(newest + DEBOUNCE / 2)).started == []  # still coming in
    assert set(states(await stored(web.session_factory)).values()) == {WebhookState.received}
    report = await hooks.tick(newest + DEBOUNCE)
    assert report.started == [interface.id]
    assert report.processed == 10
    ((interface_id, trigger, only),) = runs.calls
    assert (interface_id, trigger) == (interface.id, RunTrigger.webhook)
    assert only is not None
    assert only.hubspot_ids == {"companies": frozenset({"100", "101", "102", "103", "104"})}
    events = await stored(web.session_factory)
    assert set(states(events).values()) == {WebhookState.processed}
    assert {e.tenant_id for e in events} == {interface.tenant_id}
    assert (await hooks.tick(newest + DEBOUNCE * 2)).started == []  # nothing left


async def test_a_steady_stream_still_runs_after_the_longest_wait(
    web: WebState, interface: Interface
) -> None:
    runs = FakeRuns()
    hooks = worker(web, runs)
    at = T0
    while at - T0 < hooks.max_wait:
        await receive(web.session_factory, event(int((at - T0).total_seconds()), 100), at=at)
        assert (await hooks.tick(at)).started == []  # never quiet for a debounce period
        at += DEBOUNCE / 2
    assert (await hooks.tick(at)).started == [interface.id]


async def test_what_nothing_reads_is_ignored_with_a_reason(
    web: WebState, interface: Interface
) -> None:
    await receive(
        web.session_factory,
        event(1, portal=999),
        event(2, kind="deal.propertyChange"),
        event(3, kind="contact.propertyChange"),  # contacts only flow to HubSpot here
        event(4, kind="conversation.newMessage"),
        event(5, kind="object.creation", objectTypeId="2-777"),
        event(6, None),
        event(7, kind="company.creation"),
        event(
            8,
            None,
            kind="company.associationChange",
            associationType="COMPANY_TO_CONTACT",
            fromObjectId=100,
            toObjectId=200,
        ),  # companies declare no association here
    )
    report = await worker(web, FakeRuns()).tick(T0 + DEBOUNCE)
    assert report.ignored == 7
    found = {e.event_id: e for e in await stored(web.session_factory)}
    reasons = {key: e.last_error for key, e in found.items() if e.state == WebhookState.ignored}
    assert reasons == {
        "1": "no HubSpot connection for portal 999",
        "2": f"no active interface on portal {PORTAL} reads 0-3",
        "3": f"no active interface on portal {PORTAL} reads 0-1",
        "4": "conversation.newMessage is not a record change hubsync acts on",
        "5": f"no active interface on portal {PORTAL} reads 2-777",
        "6": "the event names no record",
        "8": f"no active interface on portal {PORTAL} reads associations of 0-2 and 0-1",
    }
    assert found["7"].state == WebhookState.processed
    assert found["1"].tenant_id is None  # an unknown portal belongs to no tenant
    assert found["2"].tenant_id == interface.tenant_id


CUSTOM_YAML = (
    MAPPING_YAML
    + """\
  - name: cars
    source: {object: vehicles, key: vin}
    hubspot: {object: p_cars, match: vin}
    direction: from_hubspot
    fields:
      - {source: vin, hubspot: vin}
    associations:
      - {field: customer_no, to: companies}
"""
)
CARS = ObjectSchema(id="9", object_type_id="2-4711", name="cars", fully_qualified_name="p1_cars")


async def test_custom_object_and_association_changes_run_the_mappings_that_read_them(
    db: AsyncSession, web: WebState
) -> None:
    interface = await add_portal_interface(db, mapping_yaml=CUSTOM_YAML)
    runs, schemas = FakeRuns(), FakeSchemas(CARS)
    await receive(
        web.session_factory,
        event(1, 7, kind="object.propertyChange", objectTypeId="2-4711", propertyName="vin"),
        event(2, None, kind="object.associationChange", fromObjectTypeId="0-2",
              toObjectTypeId="2-4711", fromObjectId=100, toObjectId=8),
        event(3, 100, kind="company.propertyChange"),
    )  # fmt: skip
    report = await worker(web, runs, schemas=schemas).tick(T0 + DEBOUNCE)
    assert (report.started, report.processed, report.ignored) == ([interface.id], 3, 0)
    assert runs.ids("cars") == [{"7", "8"}]
    assert runs.ids("companies") == [{"100"}]  # the change, not the association
    hubspot_connection = interface.hubspot_connection_id
    assert schemas.calls == [hubspot_connection]


async def test_custom_object_events_are_ignored_when_the_lookup_fails(
    db: AsyncSession, web: WebState
) -> None:
    await add_portal_interface(db, mapping_yaml=CUSTOM_YAML)
    schemas = FakeSchemas(error=ScopeError("This app hasn't been granted all required scopes",
                                           status=403))  # fmt: skip
    await receive(web.session_factory, event(1, 7, kind="object.creation", objectTypeId="2-4711"))
    report = await worker(web, FakeRuns(), schemas=schemas).tick(T0 + DEBOUNCE)
    assert report.ignored == 1
    (found,) = await stored(web.session_factory)
    assert found.state == WebhookState.ignored
    assert found.last_error == (
        "the custom object types could not be looked up in HubSpot (HTTP 403: This app hasn't "
        "been granted all required scopes); the scheduled run picks the change up"
    )


async def test_a_paused_interface_reads_nothing(
    db: AsyncSession, web: WebState, interface: Interface
) -> None:
    interface.state = InterfaceState.paused
    db.add(interface)
    await db.commit()
    await receive(web.session_factory, event(1))
    await worker(web, FakeRuns()).tick(T0 + DEBOUNCE)
    (found,) = await stored(web.session_factory)
    assert found.state == WebhookState.ignored
    assert found.last_error == f"no active interface on portal {PORTAL} reads 0-2"


async def test_a_merge_names_every_record_involved(web: WebState, interface: Interface) -> None:
    runs = FakeRuns()
    merge = event(1, 10, kind="company.merge", primaryObjectId=10, mergedObjectIds=[11, 12],
                  newObjectId=13)  # fmt: skip
    await receive(web.session_factory, merge, event(2, 20, kind="company.deletion"))
    await worker(web, runs).tick(T0 + DEBOUNCE)
    assert runs.ids() == [{"10", "11", "12", "13", "20"}]


async def test_a_busy_interface_keeps_its_events_for_a_later_tick(
    web: WebState, interface: Interface
) -> None:
    runs = FakeRuns(busy={interface.id})
    hooks = worker(web, runs)
    await receive(web.session_factory, event(1), event(2, 200))
    report = await hooks.tick(T0 + DEBOUNCE)
    assert (report.started, report.processed, report.retried) == ([], 0, 0)
    events = await stored(web.session_factory)
    assert set(states(events).values()) == {WebhookState.received}
    assert {e.attempts for e in events} == {0}  # waiting is not failing
    runs.busy.clear()
    assert (await hooks.tick(T0 + DEBOUNCE * 2)).started == [interface.id]
    assert runs.ids()[-1] == {"100", "200"}
    assert set(states(await stored(web.session_factory)).values()) == {WebhookState.processed}


async def test_no_free_run_slot_counts_as_busy(web: WebState, interface: Interface) -> None:
    runs = FakeRuns(free_slots=0)
    await receive(web.session_factory, event(1))
    await worker(web, runs).tick(T0 + DEBOUNCE)
    assert runs.calls == []
    assert states(await stored(web.session_factory)) == {"1": WebhookState.received}


async def test_an_event_two_interfaces_read_waits_for_both(
    db: AsyncSession, web: WebState, interface: Interface
) -> None:
    second = await add_portal_interface(db, slug="webhooks-2", name="erp-2")
    runs = FakeRuns(busy={second.id})
    hooks = worker(web, runs)
    await receive(web.session_factory, event(1))
    report = await hooks.tick(T0 + DEBOUNCE)
    assert report.started == [interface.id]
    assert states(await stored(web.session_factory)) == {"1": WebhookState.received}
    runs.busy.clear()
    report = await hooks.tick(T0 + DEBOUNCE * 2)
    assert set(report.started) == {interface.id, second.id}  # the first reads it again
    assert states(await stored(web.session_factory)) == {"1": WebhookState.processed}


async def test_a_run_that_cannot_start_is_retried_with_backoff_then_failed(
    web: WebState, interface: Interface
) -> None:
    runs = FakeRuns(refuse=Conflict("the interface no longer exists"))
    hooks = worker(web, runs)
    await receive(web.session_factory, event(1))
    now = T0 + DEBOUNCE
    for attempt in range(1, MAX_ATTEMPTS):
        report = await hooks.tick(now)
        assert report.retried == 1
        (found,) = await stored(web.session_factory)
        assert (found.state, found.attempts) == (WebhookState.received, attempt)
        assert found.next_attempt_at == now + retry_delay(attempt)
        assert found.last_error == "the interface no longer exists"
        assert (await hooks.tick(now + retry_delay(attempt) / 2)).retried == 0  # not yet
        now += retry_delay(attempt)
    assert (await hooks.tick(now)).failed == 1
    (found,) = await stored(web.session_factory)
    assert (found.state, found.attempts) == (WebhookState.failed, MAX_ATTEMPTS)
    assert found.last_error == "the interface no longer exists"
    assert found.next_attempt_at is None
    assert retry_delay(1) == timedelta(seconds=10)
    assert retry_delay(MAX_ATTEMPTS) == timedelta(hours=1)


async def test_an_unexpected_error_is_recorded_without_its_text(
    web: WebState, interface: Interface
) -> None:
    runs = FakeRuns(refuse=RuntimeError("value 'ann@example.ch' violates a constraint"))
    await receive(web.session_factory, event(1))
    await worker(web, runs).tick(T0 + DEBOUNCE)
    (found,) = await stored(web.session_factory)
    assert found.last_error is not None
    assert "RuntimeError" in found.last_error
    assert "ann@" not in found.last_error


async def test_two_workers_handle_each_event_once(web: WebState, interface: Interface) -> None:
    first, second = FakeRuns(), FakeRuns()
    workers = [worker(web, first), worker(web, second)]
    for round_ in range(5):
        at = T0 + round_ * DEBOUNCE * 2
        await receive(web.session_factory, *(event(round_ * 100 + n, 1000 + round_ * 100 + n)
                                             for n in range(20)), at=at)  # fmt: skip
        await asyncio.gather(*(w.tick(at + DEBOUNCE) for w in workers))
    handled = [ids for runs in (first, second) for ids in runs.ids()]
    every_id = [record for ids in handled for record in ids]
    assert len(every_id) == len(set(every_id)) == 100
    assert set(states(await stored(web.session_factory)).values()) == {WebhookState.processed}


async def test_a_claim_is_exclusive_until_it_lapses(web: WebState, interface: Interface) -> None:
    await receive(web.session_factory, event(1))
    (found,) = await stored(web.session_factory)
    async with session_scope(web.session_factory) as session:
        repo = WebhookEventRepository.from_session(session)
        assert await repo.claim([found.id], T0, until=T0 + CLAIM_TTL) == {found.id}
        assert await repo.claim([found.id], T0, until=T0 + CLAIM_TTL) == set()
    runs = FakeRuns()  # the first claimer died: another process takes over once it lapses
    assert (await worker(web, runs).tick(T0 + CLAIM_TTL / 2)).started == []
    assert (await worker(web, runs).tick(T0 + CLAIM_TTL)).started == [interface.id]
    async with session_scope(web.session_factory) as session:  # too late for the first
        await WebhookEventRepository.from_session(session).settle([found.id], claim=T0 + CLAIM_TTL)
    (found,) = await stored(web.session_factory)
    assert found.state == WebhookState.processed


class Privacy:
    """A privacy flow that records the events it was handed, failing while told to."""

    def __init__(self, failures: int = 0) -> None:
        self.handled: list[uuid.UUID] = []
        self.failures = failures

    async def __call__(
        self, sessions: SessionFactory, event_id: uuid.UUID, *, box: SecretBox, public_url: str
    ) -> None:
        self.handled.append(event_id)
        if self.failures:
            self.failures -= 1
            raise Conflict("the ERP did not answer")


async def test_privacy_deletions_are_handed_to_the_privacy_flow(
    web: WebState, interface: Interface
) -> None:
    privacy = Privacy(failures=1)  # the first attempt fails
    hooks = worker(web, FakeRuns(), privacy)
    later = T0 + timedelta(milliseconds=1)
    await receive(web.session_factory, event(1, 55, kind="contact.privacyDeletion"))
    await receive(web.session_factory, event(2, 56, kind="contact.privacyDeletion", portal=999),
                  at=later)  # fmt: skip
    known, unknown = await stored(web.session_factory)
    report = await hooks.tick(later)  # not debounced
    assert (report.retried, report.processed) == (1, 1)
    assert privacy.handled == [known.id, unknown.id]  # an unknown portal's events are purged
    assert (await hooks.tick(later + retry_delay(1))).processed == 1
    assert privacy.handled == [known.id, unknown.id, known.id]
    known, unknown = await stored(web.session_factory)
    assert (known.state, known.attempts, known.tenant_id) == (
        WebhookState.processed,
        1,
        interface.tenant_id,
    )
    assert (unknown.state, unknown.tenant_id) == (WebhookState.processed, None)


async def test_the_real_privacy_flow_takes_an_event_of_a_portal_no_one_connects(
    web: WebState,
) -> None:
    await receive(web.session_factory, event(1, 55, kind="contact.privacyDeletion", portal=999))
    assert (await worker(web, FakeRuns()).tick(T0)).processed == 1
    (found,) = await stored(web.session_factory)
    assert found.state == WebhookState.processed


async def test_a_tick_goes_through_its_events_chunk_by_chunk(
    web: WebState, interface: Interface
) -> None:
    runs = FakeRuns()
    count = CHUNK + 10  # 2 × that in all: three chunks, all received at the same moment
    await receive(web.session_factory, *(event(n, 1000 + n) for n in range(count)))
    await receive(web.session_factory, *(event(n, portal=999) for n in range(count)))
    report = await worker(web, runs).tick(T0 + DEBOUNCE)
    assert (report.ignored, report.processed) == (count, count)
    handled = [record for ids in runs.ids() for record in ids]  # one run per chunk, at most
    assert sorted(handled) == sorted(str(1000 + n) for n in range(count))
    assert len(runs.calls) <= -(-2 * count // CHUNK)
    found = [e.state for e in await stored(web.session_factory)]
    assert sorted(found) == sorted([WebhookState.processed, WebhookState.ignored] * count)


def test_every_serve_process_runs_the_worker_every_second(web: WebState) -> None:
    scheduler = build_scheduler(web)
    job, seconds = scheduler.jobs["webhooks"]
    assert seconds == 1.0
    assert isinstance(getattr(job, "__self__", None), WebhookWorker)
