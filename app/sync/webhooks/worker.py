"""The webhook worker: a scheduler job that turns stored events into targeted runs.

Every second or so, in any ``hubsync serve`` process: read the due events,
name the custom objects their interfaces read by type id where an event is
about one (``custom_types.py``, which may ask HubSpot: outside any database
transaction), route them (``routing.py``), mark the ones nothing reads ``ignored`` with the
reason, hand privacy deletions to the privacy flow, and for each interface
start ONE targeted run of the HubSpot ids its events name, once the interface
has been quiet for ``webhook_debounce_seconds`` (a burst of edits becomes one
run; a steady stream still runs every ``MAX_WAIT_FACTOR`` debounce periods).
Events are handled in chunks of ``CHUNK``, each in its own transactions, so
the receiver sharing the process (and, on SQLite, the database lock) is never
held up for long; a burst larger than a chunk becomes one run per chunk.

Events are claimed with an optimistic UPDATE before they are acted on, so two
processes never handle the same event. An interface that is busy (a run of it,
or of its portal, holds the lease) keeps its events for a later tick. A failed
attempt is retried with a growing delay (``next_attempt_at``); after
``MAX_ATTEMPTS`` the event is ``failed`` with its last error.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from app.auth.actor import Actor
from app.core.db import SessionFactory, session_scope
from app.core.errors import HubsyncError
from app.core.secrets_box import SecretBox
from app.models.base import utcnow
from app.models.enums import RunTrigger
from app.sync.engine.state import Selection
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.scheduling.executor import RunStarted
from app.sync.webhooks.custom_types import CustomObjectTypes, HubSpotSchemas, SchemaLookup
from app.sync.webhooks.repository import DueEvent, WebhookEventRepository
from app.sync.webhooks.routing import Plan, Readers, load_portals, plan_events

logger = logging.getLogger(__name__)

WEBHOOKS = Actor.system("webhooks")
CHUNK = 250  # events handled per transaction; requests get the event loop in between
MAX_CHUNKS = 20  # per tick: 5,000 events a second, more than HubSpot sends one portal
CLAIM_TTL = timedelta(minutes=5)  # a claim its process did not settle lapses after this
MAX_ATTEMPTS = 10
RETRY_BASE = timedelta(seconds=10)  # the first retry waits this long, then twice as long…
RETRY_CAP = timedelta(hours=1)  # …but never longer than this (10 attempts ≈ 2.5 h)
MAX_WAIT_FACTOR = 10  # events keep coming: run anyway once the oldest waited this many periods
MIN_MAX_WAIT = timedelta(seconds=10)


class RunStarter(Protocol):
    """What the worker needs of ``RunExecutor``: room for a run, and starting one."""

    @property
    def free_slots(self) -> int:
        """How many more runs this process may start now."""

    async def start(
        self,
        interface_id: uuid.UUID,
        *,
        trigger: RunTrigger,
        actor: Actor = ...,
        planned_at: datetime | None = None,
        only: Selection | None = None,
    ) -> RunStarted:
        """Start a (targeted) run, or say which lease is busy."""


class PrivacyHandler(Protocol):
    """``app.sync.privacy.handle_privacy_deletion``: carries out one privacy deletion event."""

    async def __call__(
        self, sessions: SessionFactory, event_id: uuid.UUID, *, box: SecretBox, public_url: str
    ) -> None:
        """Erase the person the event names everywhere; raises until every system confirmed."""


class Outcome(enum.Enum):
    """How starting an interface's run went."""

    started = "started"
    busy = "busy"
    failed = "failed"


@dataclass(slots=True)
class TickReport:
    """What one tick did."""

    started: list[uuid.UUID] = field(default_factory=list)  # interfaces now running
    processed: int = 0
    ignored: int = 0
    retried: int = 0
    failed: int = 0


class WebhookWorker:
    """Routes due webhook events and starts the targeted runs they call for."""

    def __init__(
        self,
        sessions: SessionFactory,
        runs: RunStarter,
        *,
        box: SecretBox,
        debounce: timedelta,
        privacy: PrivacyHandler,
        public_url: str,
        clock: Callable[[], datetime] = utcnow,
        oauth_app: OAuthConfig | None = None,
        schemas: SchemaLookup | None = None,
    ) -> None:
        """``oauth_app`` is the settings' HubSpot app (token refreshes of schema lookups);
        ``schemas`` reads a connection's custom object types (default: from HubSpot)."""
        self.sessions = sessions
        self.runs = runs
        self.box = box
        self.debounce = debounce
        self.max_wait = max(debounce * MAX_WAIT_FACTOR, MIN_MAX_WAIT)
        self.privacy = privacy
        self.public_url = public_url  # links in messages about a stuck deletion
        self.clock = clock
        self._readers: dict[uuid.UUID, Readers] = {}
        self.custom_types = CustomObjectTypes(
            schemas or HubSpotSchemas(sessions, box, oauth_app=oauth_app)
        )

    async def tick(self, now: datetime | None = None) -> TickReport:
        """Handle what is due at ``now`` (default: the clock), oldest first, chunk by chunk."""
        now = now or self.clock()
        report = TickReport()
        after: DueEvent | None = None
        for _ in range(MAX_CHUNKS):
            after = await self._chunk(now, after, report)
            if after is None:
                break
            await asyncio.sleep(0)  # a chunk costs milliseconds: let waiting requests in
        return report

    async def _chunk(
        self, now: datetime, after: DueEvent | None, report: TickReport
    ) -> DueEvent | None:
        """Handle the next ``CHUNK`` due events after ``after``; the last one if more may follow."""
        async with session_scope(self.sessions) as session:
            repo = WebhookEventRepository.from_session(session)
            events = await repo.due(now, after=after, limit=CHUNK)
            if not events:
                return None
            portals = await load_portals(repo, {e.portal_id for e in events}, self._readers)
        portals = await self.custom_types.resolve(portals, events, now)
        plan = plan_events(events, portals)
        async with session_scope(self.sessions) as session:
            repo = WebhookEventRepository.from_session(session)
            for reason, ids in plan.ignored.items():
                await repo.ignore(ids, now, reason=reason)
                report.ignored += len(ids)
            for tenant_id, ids in plan.tenants.items():
                await repo.assign_tenant(ids, tenant_id)
        due = {event.id: event for event in events}
        await self._privacy(plan.privacy, due, now, report)
        await self._changes(plan, due, now, report)
        return events[-1] if len(events) == CHUNK else None

    async def _privacy(
        self, ids: list[uuid.UUID], due: Mapping[uuid.UUID, DueEvent], now: datetime,
        report: TickReport,
    ) -> None:  # fmt: skip
        claimed = await self._claim(ids, now)
        for event_id in (e for e in ids if e in claimed):  # oldest first
            try:
                await self.privacy(
                    self.sessions, event_id, box=self.box, public_url=self.public_url
                )
            except Exception as exc:  # the flow failed: retry this event later
                logger.warning("privacy deletion of event %s failed", event_id, exc_info=True)
                await self._failed([event_id], due, _message(exc), now, report)
            else:
                await self._settle([event_id], now, report)

    async def _changes(
        self, plan: Plan, due: Mapping[uuid.UUID, DueEvent], now: datetime, report: TickReport
    ) -> None:
        ripe = self._ripe(plan, due, now)
        wanted = [e for e, routes in plan.changes.items() if routes.keys() <= ripe]
        claimed = await self._claim(wanted, now)
        outcomes = {
            interface_id: await self._start(interface_id, selection)
            for interface_id, selection in _selections(plan, claimed).items()
        }
        report.started += [i for i, (outcome, _) in outcomes.items() if outcome is Outcome.started]
        done, busy, errors = _sort_events(plan, claimed, outcomes)
        await self._settle(done, now, report)
        await self._release(busy, now)
        for error, ids in errors.items():
            await self._failed(ids, due, error, now, report)

    def _ripe(self, plan: Plan, due: Mapping[uuid.UUID, DueEvent], now: datetime) -> set[uuid.UUID]:
        """Interfaces whose events are quiet for a debounce period, or have waited too long."""
        newest: dict[uuid.UUID, datetime] = {}
        oldest: dict[uuid.UUID, datetime] = {}
        for event_id, routes in plan.changes.items():
            at = due[event_id].received_at
            for interface_id in routes:
                newest[interface_id] = max(at, newest.get(interface_id, at))
                oldest[interface_id] = min(at, oldest.get(interface_id, at))
        return {
            interface_id
            for interface_id, at in newest.items()
            if now - at >= self.debounce or now - oldest[interface_id] >= self.max_wait
        }

    async def _start(
        self, interface_id: uuid.UUID, selection: Mapping[str, set[str]]
    ) -> tuple[Outcome, str]:
        if self.runs.free_slots <= 0:
            return Outcome.busy, "no free run slot in this process"
        only = Selection(hubspot_ids={name: frozenset(ids) for name, ids in selection.items()})
        try:
            started = await self.runs.start(
                interface_id, trigger=RunTrigger.webhook, actor=WEBHOOKS, only=only
            )
        except Exception as exc:  # the run could not start: the events are retried later
            logger.warning("webhook run of interface %s did not start", interface_id,
                           exc_info=True)  # fmt: skip
            return Outcome.failed, _message(exc)
        if started.run is None:
            return Outcome.busy, f"{started.busy} busy"
        logger.info("webhook run %s of interface %s started (%d records)", started.run.id,
                    interface_id, sum(len(ids) for ids in selection.values()))  # fmt: skip
        return Outcome.started, ""

    async def _claim(self, ids: list[uuid.UUID], now: datetime) -> set[uuid.UUID]:
        if not ids:
            return set()
        async with session_scope(self.sessions) as session:
            repo = WebhookEventRepository.from_session(session)
            return await repo.claim(ids, now, until=_lapse(now))

    async def _settle(self, ids: list[uuid.UUID], now: datetime, report: TickReport) -> None:
        if ids:
            async with session_scope(self.sessions) as session:
                repo = WebhookEventRepository.from_session(session)
                await repo.settle(ids, claim=_lapse(now))
            report.processed += len(ids)

    async def _release(self, ids: list[uuid.UUID], now: datetime) -> None:
        if ids:
            async with session_scope(self.sessions) as session:
                repo = WebhookEventRepository.from_session(session)
                await repo.release(ids, claim=_lapse(now), at=now)

    async def _failed(
        self, ids: Iterable[uuid.UUID], due: Mapping[uuid.UUID, DueEvent], error: str,
        now: datetime, report: TickReport,
    ) -> None:  # fmt: skip
        by_attempts: dict[int, list[uuid.UUID]] = {}
        for event_id in ids:
            by_attempts.setdefault(due[event_id].attempts + 1, []).append(event_id)
        async with session_scope(self.sessions) as session:
            repo = WebhookEventRepository.from_session(session)
            for tried, group in by_attempts.items():
                if tried >= MAX_ATTEMPTS:
                    await repo.fail(group, claim=_lapse(now), attempts=tried, error=error)
                    report.failed += len(group)
                else:
                    await repo.retry(group, claim=_lapse(now), attempts=tried,
                                     at=now + retry_delay(tried), error=error)  # fmt: skip
                    report.retried += len(group)


def _lapse(now: datetime) -> datetime:
    """When a claim made at ``now`` lapses; also the token its claimer settles it by."""
    return now + CLAIM_TTL


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: doubling, capped."""
    delay: timedelta = RETRY_BASE * 2 ** (attempts - 1)
    return min(delay, RETRY_CAP)


def _selections(plan: Plan, claimed: set[uuid.UUID]) -> dict[uuid.UUID, dict[str, set[str]]]:
    """Per interface, the HubSpot ids per object mapping that the claimed events name."""
    selections: dict[uuid.UUID, dict[str, set[str]]] = {}
    for event_id in claimed:
        for interface_id, selection in plan.changes[event_id].items():
            merged = selections.setdefault(interface_id, {})
            for name, ids in selection.items():
                merged.setdefault(name, set()).update(ids)
    return selections


def _sort_events(
    plan: Plan, claimed: set[uuid.UUID], outcomes: Mapping[uuid.UUID, tuple[Outcome, str]]
) -> tuple[list[uuid.UUID], list[uuid.UUID], dict[str, list[uuid.UUID]]]:
    """Claimed events by outcome: every run started (done), one busy, or one failed (by error).

    An event several interfaces read is done only once all of their runs started;
    a run that did start runs its records again when the event comes back.
    """
    done: list[uuid.UUID] = []
    busy: list[uuid.UUID] = []
    errors: dict[str, list[uuid.UUID]] = {}
    for event_id in claimed:
        results = [outcomes[interface_id] for interface_id in plan.changes[event_id]]
        failure = next((message for outcome, message in results if outcome is Outcome.failed), None)
        if failure is not None:
            errors.setdefault(failure, []).append(event_id)
        elif any(outcome is Outcome.busy for outcome, _ in results):
            busy.append(event_id)
        else:
            done.append(event_id)
    return done, busy, errors


def _message(exc: Exception) -> str:
    """A failure as the error log shows it: hubsync's own messages carry no personal data;
    others may (a driver quoting a value), so only their type is kept (the log has the rest)."""
    if isinstance(exc, HubsyncError):
        return exc.message[:1000]
    return f"unexpected error ({type(exc).__name__}); the process log has the details"
