"""Sending queued notifications over real SMTP and HTTP, with retries and concurrent senders."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import Settings
from app.models.base import utcnow
from app.models.enums import DeliveryStatus, HealthChange, NotificationKind, RunStatus
from app.notify.dispatcher import MAX_ATTEMPTS, deliver_due, retry_delay
from app.web import WebState
from tests.factories import World
from tests.notify.builders import add_target, deliveries, failed_summary, finish_run
from tests.notify.receivers import SmtpSink, WebhookReceiver, free_port

MAIL = "ops@tenant-a.example.com"
REVOKED = "Der Zugriff auf HubSpot wurde widerrufen oder ist abgelaufen – HubSpot neu verbinden"


async def fail_after_ok(web: WebState, world: World) -> None:
    """Tenant A's interface runs fine, then HubSpot refuses its token."""
    assert await finish_run(web, world.a, RunStatus.succeeded) is None
    assert await finish_run(web, world.a, RunStatus.failed, **failed_summary()) == (
        HealthChange.failed
    )


async def test_failed_run_sends_one_email_and_one_webhook(
    db: AsyncSession, web: WebState, world: World, mail_settings: Settings,
    smtp: tuple[SmtpSink, int], webhook: WebhookReceiver,
) -> None:  # fmt: skip
    await add_target(db, world.a, NotificationKind.email, MAIL)
    await add_target(db, world.a, NotificationKind.webhook, webhook.url)
    await fail_after_ok(web, world)
    assert await deliver_due(web.session_factory, mail_settings) == 2
    assert await deliver_due(web.session_factory, mail_settings) == 0
    [run_id] = {d.run_id for d in await deliveries(db)}
    link = f"{mail_settings.public_url}/ui/runs/{run_id}"
    sink = smtp[0]
    assert sink.recipients == [[MAIL]]
    [mail] = sink.messages
    assert mail["Subject"] == "[hubsync] tenant-a-companies (Tenant TENANT-A): fehlgeschlagen"
    assert mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_content()
    for expected in ("Zustand: OK → Fehler", f"Grund: {REVOKED}", "companies: 1 erstellt",
                     "AuthError: HTTP 401", link):  # fmt: skip
        assert expected in body
    [posted] = webhook.bodies
    assert posted["text"] == f"{mail['Subject']}\n{body.rstrip()}"
    assert posted["hubsync"] == {
        "interface_id": str(world.a.interface.id), "interface": "tenant-a-companies",
        "change": "failed", "health": "error", "reason": REVOKED, "run_url": link,
    }  # fmt: skip
    for payload_text in (world.a.item.payload["name"], world.a.item.source_key):  # type: ignore[index]
        assert payload_text not in body
    assert all(d.status is DeliveryStatus.sent for d in await deliveries(db))


async def test_a_second_failed_run_tells_nobody(
    db: AsyncSession, web: WebState, world: World, webhook: WebhookReceiver
) -> None:
    await add_target(db, world.a, NotificationKind.webhook, webhook.url)
    await fail_after_ok(web, world)
    assert await deliver_due(web.session_factory, web.settings) == 1
    assert await finish_run(web, world.a, RunStatus.failed, **failed_summary()) is None
    assert await deliver_due(web.session_factory, web.settings) == 0
    assert len(webhook.bodies) == 1


async def test_recovery_and_warning_are_told(
    db: AsyncSession, web: WebState, world: World, webhook: WebhookReceiver
) -> None:
    await add_target(db, world.a, NotificationKind.webhook, webhook.url)
    await fail_after_ok(web, world)
    assert await finish_run(web, world.a, RunStatus.succeeded) == HealthChange.recovered
    assert await finish_run(web, world.a, RunStatus.warning,
                            counts={"companies": {"updated": 5, "failed": 3}}) == (
        HealthChange.warning
    )  # fmt: skip
    assert await deliver_due(web.session_factory, web.settings) == 3
    told = [(b["hubsync"]["change"], b["hubsync"]["reason"]) for b in webhook.bodies]
    assert told == [
        ("failed", REVOKED),
        ("recovered", "Letzter Lauf erfolgreich"),
        ("warning", "3 Datensätze sind im letzten Lauf fehlgeschlagen"),
    ]
    assert "companies: 5 aktualisiert, 3 fehlgeschlagen" in webhook.bodies[2]["text"]


async def test_a_target_for_failures_only_hears_no_recovery(
    db: AsyncSession, web: WebState, world: World, webhook: WebhookReceiver
) -> None:
    await add_target(db, world.a, NotificationKind.webhook, webhook.url,
                     changes=[HealthChange.failed])  # fmt: skip
    await fail_after_ok(web, world)
    assert await finish_run(web, world.a, RunStatus.succeeded) == HealthChange.recovered
    assert await deliver_due(web.session_factory, web.settings) == 1
    assert [b["hubsync"]["change"] for b in webhook.bodies] == ["failed"]


async def test_a_failing_receiver_is_retried_later(
    db: AsyncSession, web: WebState, world: World, webhook: WebhookReceiver
) -> None:
    webhook.failures = 1
    await add_target(db, world.a, NotificationKind.webhook, webhook.url)
    await fail_after_ok(web, world)
    start = utcnow()
    assert await deliver_due(web.session_factory, web.settings, now=start) == 0
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.pending, 1)
    assert delivery.last_error == "HTTP 500: receiver is down"
    assert delivery.next_attempt_at == start + retry_delay(1)
    early = start + retry_delay(1) - timedelta(seconds=1)
    assert await deliver_due(web.session_factory, web.settings, now=early) == 0
    assert await deliver_due(web.session_factory, web.settings, now=start + retry_delay(1)) == 1
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        DeliveryStatus.sent, 2, None
    )  # fmt: skip
    assert len(webhook.bodies) == 2


async def test_an_unreachable_smtp_server_fails_after_six_attempts(
    db: AsyncSession, web: WebState, world: World
) -> None:
    unreachable = web.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none"}
    )
    await add_target(db, world.a, NotificationKind.email, MAIL)
    await fail_after_ok(web, world)
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert await deliver_due(web.session_factory, unreachable, now=now) == 0
        [delivery] = await deliveries(db)
        assert delivery.attempts == attempt
        now += retry_delay(attempt)
    assert delivery.status is DeliveryStatus.failed
    assert delivery.last_error is not None
    assert delivery.last_error.startswith(f"SMTP 127.0.0.1:{unreachable.smtp_port}: ")
    assert await deliver_due(web.session_factory, unreachable, now=now + timedelta(days=1)) == 0
    assert (await deliveries(db))[0].attempts == MAX_ATTEMPTS


async def test_email_without_an_smtp_host_fails_at_once(
    db: AsyncSession, web: WebState, world: World
) -> None:
    assert web.settings.smtp_host is None
    await add_target(db, world.a, NotificationKind.email, MAIL)
    await fail_after_ok(web, world)
    assert await deliver_due(web.session_factory, web.settings) == 0
    [delivery] = await deliveries(db)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.failed, 1)
    assert delivery.last_error == "SMTP ist nicht konfiguriert (HUBSYNC_SMTP_HOST)"


async def test_two_concurrent_senders_send_each_message_once(
    db: AsyncSession, web: WebState, world: World, webhook: WebhookReceiver
) -> None:
    await add_target(db, world.a, NotificationKind.webhook, webhook.url)
    await add_target(db, world.b, NotificationKind.webhook, webhook.url)
    await fail_after_ok(web, world)
    assert await finish_run(web, world.b, RunStatus.failed, **failed_summary()) == (
        HealthChange.failed
    )
    now = utcnow()
    sent = await asyncio.gather(
        deliver_due(web.session_factory, web.settings, now=now),
        deliver_due(web.session_factory, web.settings, now=now),
    )
    assert sum(sent) == 2
    assert sorted(b["hubsync"]["interface"] for b in webhook.bodies) == [
        "tenant-a-companies", "tenant-b-companies"
    ]  # fmt: skip
    assert {(d.status, d.attempts) for d in await deliveries(db)} == {(DeliveryStatus.sent, 1)}
