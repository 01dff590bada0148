"""Health after a run: the reasons table, which changes are told, and what is recorded."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Interface, SyncRun
from app.models.enums import ErrorCategory, Health, HealthChange, NotificationKind, RunStatus
from app.sync.health import change_worth_telling, health_after
from app.web import WebState
from tests.factories import World
from tests.notify.builders import add_target, deliveries, failed_summary, finish_run

REVOKED = "Der Zugriff auf HubSpot wurde widerrufen oder ist abgelaufen – HubSpot neu verbinden"
CONFIG = ErrorCategory.config
TRANSIENT = ErrorCategory.transient


def run_of(status: RunStatus, summary: str | None = None, category: ErrorCategory | None = None,
           counts: dict[str, Any] | None = None) -> SyncRun:  # fmt: skip
    return SyncRun(status=status, error_summary=summary, error_category=category,
                   counts=counts or {})  # fmt: skip


@pytest.mark.parametrize(
    ("run", "health", "reason"),
    [
        (run_of(RunStatus.succeeded), Health.ok, "Letzter Lauf erfolgreich"),
        (run_of(RunStatus.warning, counts={"companies": {"created": 4, "failed": 2},
                                           "contacts": {"failed": 1}}),
         Health.warning, "3 Datensätze sind im letzten Lauf fehlgeschlagen"),
        (run_of(RunStatus.warning, counts={"companies": {"failed": 1}}),
         Health.warning, "1 Datensatz ist im letzten Lauf fehlgeschlagen"),
        (run_of(RunStatus.failed, "AuthError: HTTP 401: INVALID_AUTHENTICATION: expired", CONFIG),
         Health.error, REVOKED),
        (run_of(RunStatus.failed, "RefreshFailed: invalid_grant", CONFIG), Health.error, REVOKED),
        (run_of(RunStatus.failed, "ScopeError: HTTP 403: MISSING_SCOPES [missing scopes: "
                                  "crm.objects.companies.write]", CONFIG),
         Health.error, "Der HubSpot-Verbindung fehlt eine Berechtigung – HubSpot neu verbinden "
                       "und alle angefragten Berechtigungen erteilen"),
        (run_of(RunStatus.failed, "ConnectorUnavailable: erp.example.com: timed out", TRANSIENT),
         Health.error, "Das Quellsystem hat nicht geantwortet"),
        (run_of(RunStatus.failed, "ConnectorAuthError: HTTP 401 Unauthorized", CONFIG),
         Health.error, "Das Quellsystem hat die Zugangsdaten abgelehnt – "
                       "Verbindung zum Quellsystem prüfen"),
        (run_of(RunStatus.failed, "ConnectorConfigError: url: unknown host", CONFIG),
         Health.error, "Eine Einstellung der Verbindung zum Quellsystem ist ungültig – "
                       "Verbindung prüfen"),
        (run_of(RunStatus.failed, "DailyLimitExceeded: HTTP 429: You have reached your daily "
                                  "limit.", TRANSIENT),
         Health.error, "Das Tageslimit für HubSpot-API-Aufrufe ist aufgebraucht; "
                       "der erste Lauf nach Mitternacht setzt fort"),
        (run_of(RunStatus.failed, "ServerError: HTTP 502: Bad Gateway", TRANSIENT),
         Health.error, "Ein System war vorübergehend nicht erreichbar; "
                       "der nächste Lauf versucht es erneut"),
        (run_of(RunStatus.failed, "KeyError: 'customer_no'", ErrorCategory.system),
         Health.error, "Der letzte Lauf ist fehlgeschlagen; die Fehlermeldung steht beim Lauf"),
        (run_of(RunStatus.failed), Health.error,
         "Der letzte Lauf ist fehlgeschlagen; die Fehlermeldung steht beim Lauf"),
        (run_of(RunStatus.aborted), Health.warning,
         "Der letzte Lauf wurde unterbrochen; der nächste Lauf setzt fort"),
    ],
)  # fmt: skip
def test_health_after_a_run(run: SyncRun, health: Health, reason: str) -> None:
    assert health_after(run) == (health, reason)
    assert len(reason) <= 500
    assert "ß" not in reason


def test_a_running_run_has_no_health_yet() -> None:
    with pytest.raises(ValueError, match="no outcome"):
        health_after(run_of(RunStatus.running))


@pytest.mark.parametrize(
    ("told", "health", "change"),
    [
        (None, Health.error, HealthChange.failed),
        (Health.ok, Health.error, HealthChange.failed),
        (Health.warning, Health.error, HealthChange.failed),
        (Health.error, Health.error, None),
        (None, Health.warning, HealthChange.warning),
        (Health.error, Health.warning, HealthChange.warning),
        (Health.warning, Health.warning, None),
        (Health.error, Health.ok, HealthChange.recovered),
        (Health.warning, Health.ok, HealthChange.recovered),
        (Health.ok, Health.ok, None),
        (None, Health.ok, None),
        (Health.never_run, Health.ok, None),
        (Health.error, Health.paused, None),
    ],
)
def test_change_worth_telling(
    told: Health | None, health: Health, change: HealthChange | None
) -> None:
    assert change_worth_telling(told, health) == change


async def interface_of(db: AsyncSession, world: World) -> Interface:
    return await db.get_one(Interface, world.a.interface.id, populate_existing=True)


async def test_the_run_is_recorded_on_the_interface(
    db: AsyncSession, web: WebState, world: World
) -> None:
    assert await finish_run(web, world.a, RunStatus.succeeded) is None  # never told: no news
    interface = await interface_of(db, world)
    assert (interface.health, interface.health_reason) == (Health.ok, "Letzter Lauf erfolgreich")
    assert interface.notified_health is None
    changed_at = interface.health_changed_at
    assert changed_at is not None
    assert await finish_run(web, world.a, RunStatus.succeeded) is None
    interface = await interface_of(db, world)
    assert interface.health_changed_at == changed_at  # same health: the change time stays
    assert interface.last_run_at is not None
    assert interface.last_run_at > changed_at


async def test_one_delivery_per_listening_target_and_change(
    db: AsyncSession, web: WebState, world: World
) -> None:
    wanted = [
        await add_target(db, world.a, NotificationKind.email, "ops@tenant-a.example.com"),
        await add_target(
            db,
            world.a,
            NotificationKind.email,
            "it@tenant-a.example.com",
            interface=world.a.interface,
        ),
    ]
    await add_target(db, world.a, NotificationKind.email, "off@tenant-a.example.com", active=False)
    await add_target(db, world.b, NotificationKind.email, "ops@tenant-b.example.com")
    await add_target(db, world.a, NotificationKind.email, "rec@tenant-a.example.com",
                     changes=[HealthChange.recovered])  # fmt: skip
    assert await finish_run(web, world.a, RunStatus.failed, **failed_summary()) == (
        HealthChange.failed
    )
    assert await finish_run(web, world.a, RunStatus.failed, **failed_summary()) is None
    rows = await deliveries(db)
    assert {d.target_id for d in rows} == {t.id for t in wanted}
    assert {(d.change, d.health_from, d.health_to) for d in rows} == {
        (HealthChange.failed, Health.warning, Health.error)
    }
    interface = await interface_of(db, world)
    assert (interface.health, interface.notified_health) == (Health.error, Health.error)
    assert interface.health_reason == REVOKED
