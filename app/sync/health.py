"""An interface's health after a run, said so a customer understands it, and who is told.

``health_after`` turns a finished run into a health and a short German reason
(the UI's language; Swiss orthography). Failed runs are classified by the
``FAILURE_REASONS`` table, first match wins; the detailed error stays on the
run. ``apply_run_health`` records the outcome on the interface and, when the
health changed in a way worth telling, queues one message per listening target:
one message per change, not per run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import SessionFactory, session_scope
from app.core.errors import NotFound
from app.core.tenancy import TenantScope
from app.models import Interface, NotificationDelivery, SyncRun
from app.models.base import utcnow
from app.models.enums import DeliveryStatus, ErrorCategory, Health, HealthChange, RunStatus
from app.notify.messages import change_message
from app.notify.repository import DeliveryRepository, NotificationTargetRepository
from app.sync.repositories import TenantsRepository

SUCCEEDED_REASON = "Letzter Lauf erfolgreich"
ABORTED_REASON = "Der letzte Lauf wurde unterbrochen; der nächste Lauf setzt fort"
FAILED_REASON = "Der letzte Lauf ist fehlgeschlagen; die Fehlermeldung steht beim Lauf"
_ANY = re.compile("")


@dataclass(frozen=True, slots=True)
class FailureReason:
    """The reason for a failed run whose error summary matches ``pattern`` (and ``category``)."""

    reason: str
    pattern: re.Pattern[str] = _ANY
    category: ErrorCategory | None = None

    def matches(self, run: SyncRun) -> bool:
        """Whether this reason explains ``run``'s failure."""
        if self.category is not None and run.error_category != self.category:
            return False
        return self.pattern.search(run.error_summary or "") is not None


# Summaries read "<ErrorClass>: <message>" (app.sync.engine.runner); the order matters.
FAILURE_REASONS: tuple[FailureReason, ...] = (
    FailureReason(
        "Das Quellsystem hat nicht geantwortet",
        re.compile(r"^ConnectorUnavailable\b"),
    ),
    FailureReason(
        "Das Quellsystem hat die Zugangsdaten abgelehnt – Verbindung zum Quellsystem prüfen",
        re.compile(r"^ConnectorAuthError\b"),
    ),
    FailureReason(
        "Eine Einstellung der Verbindung zum Quellsystem ist ungültig – Verbindung prüfen",
        re.compile(r"^ConnectorConfigError\b"),
    ),
    FailureReason(
        "Der Zugriff auf HubSpot wurde widerrufen oder ist abgelaufen – HubSpot neu verbinden",
        re.compile(r"\b401\b|unauthori[sz]ed|expired|revoked|^(AuthError|RefreshFailed)\b", re.I),
        ErrorCategory.config,
    ),
    FailureReason(
        "Der HubSpot-Verbindung fehlt eine Berechtigung – HubSpot neu verbinden "
        "und alle angefragten Berechtigungen erteilen",
        re.compile(r"\b403\b|forbidden|missing scopes|^ScopeError\b", re.I),
        ErrorCategory.config,
    ),
    FailureReason(
        "Das Tageslimit für HubSpot-API-Aufrufe ist aufgebraucht; "
        "der erste Lauf nach Mitternacht setzt fort",
        re.compile(r"^DailyLimitExceeded\b|daily limit", re.I),
    ),
    FailureReason(
        "Ein System war vorübergehend nicht erreichbar; der nächste Lauf versucht es erneut",
        category=ErrorCategory.transient,
    ),
)


def _failed_reason(run: SyncRun) -> str:
    return next((r.reason for r in FAILURE_REASONS if r.matches(run)), FAILED_REASON)


def _failed_records_reason(run: SyncRun) -> str:
    failed = sum(int(per_object.get("failed", 0)) for per_object in run.counts.values())
    if failed == 1:
        return "1 Datensatz ist im letzten Lauf fehlgeschlagen"
    return f"{failed} Datensätze sind im letzten Lauf fehlgeschlagen"


_BY_STATUS: Mapping[RunStatus, tuple[Health, Callable[[SyncRun], str]]] = {
    RunStatus.succeeded: (Health.ok, lambda _run: SUCCEEDED_REASON),
    RunStatus.warning: (Health.warning, _failed_records_reason),
    RunStatus.aborted: (Health.warning, lambda _run: ABORTED_REASON),  # nothing lost: resumes
    RunStatus.failed: (Health.error, _failed_reason),
}
_CHANGE_TO: Mapping[Health, HealthChange] = {
    Health.error: HealthChange.failed,
    Health.warning: HealthChange.warning,
    Health.ok: HealthChange.recovered,
}


def health_after(run: SyncRun) -> tuple[Health, str]:
    """An interface's health after ``run`` (finished) and a short reason a customer understands."""
    if run.status not in _BY_STATUS:
        raise ValueError(f"a {run.status} run has no outcome yet")
    health, reason = _BY_STATUS[run.status]
    return health, reason(run)


def change_worth_telling(told: Health | None, health: Health) -> HealthChange | None:
    """The change to tell when the health is now ``health`` and was last told as ``told``.

    ``None`` for "never told" counts as fine: a first successful run tells nobody.
    Recovery is news only after a warning or an error was told.
    """
    change = _CHANGE_TO.get(health)
    if change is None or health == told:
        return None
    if change is HealthChange.recovered and told not in (Health.warning, Health.error):
        return None
    return change


async def apply_run_health(
    session: AsyncSession, interface: Interface, run: SyncRun, *, public_url: str
) -> HealthChange | None:
    """Record ``run``'s outcome on ``interface`` and queue messages if its health changed.

    Call it for real runs only: a dry run writes nothing and never changes health.
    Each active target of the tenant listening to this interface (or to all of
    them) and to the change gets one pending delivery, sent by
    ``app.notify.dispatcher.deliver_due``. Only flushes; the caller commits.
    Returns the change told, or None.
    """
    previous = interface.health
    health, reason = health_after(run)
    interface.health_reason = reason
    interface.last_run_at = run.finished_at or run.started_at
    if health != previous:
        interface.health = health
        interface.health_changed_at = run.finished_at or utcnow()
    change = change_worth_telling(interface.notified_health, health)
    if change is not None:
        told = interface.notified_health or previous
        interface.notified_health = health
        await _queue_messages(session, interface, run, change=change, health_from=told,
                              public_url=public_url)  # fmt: skip
    return change


async def _queue_messages(
    session: AsyncSession,
    interface: Interface,
    run: SyncRun,
    *,
    change: HealthChange,
    health_from: Health,
    public_url: str,
) -> None:
    scope = TenantScope.only(interface.tenant_id)
    targets = await NotificationTargetRepository.scoped(session, scope).listening(
        interface.id, change
    )
    if not targets:
        return
    tenant = await TenantsRepository.from_session(session).get_by_id(interface.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found")
    message = change_message(interface=interface, tenant_name=tenant.name, run=run, change=change,
                             health_from=health_from, public_url=public_url)  # fmt: skip
    deliveries = DeliveryRepository.from_session(session)
    for target in targets:
        await deliveries.create(NotificationDelivery(
            tenant_id=interface.tenant_id, target_id=target.id, interface_id=interface.id,
            run_id=run.id, change=change, health_from=health_from, health_to=interface.health,
            subject=message.subject, body=message.body, status=DeliveryStatus.pending,
            attempts=0, next_attempt_at=utcnow(),
        ))  # fmt: skip
    await session.flush()


async def record_reaped_run(sessions: SessionFactory, run: SyncRun, *, public_url: str) -> None:
    """The health of an interface whose run was aborted because its process died."""
    async with session_scope(sessions) as session:
        interface = await session.get(Interface, run.interface_id)
        if interface is not None:
            await apply_run_health(session, interface, run, public_url=public_url)
