"""The per-process state the web layer shares: settings, database, keys, templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.credentials import CredentialKeys
from app.auth.sessions import SessionPolicy
from app.auth.throttle import ThrottlePolicy
from app.core.db import SessionFactory, checkpoint_wal, create_engine, create_session_factory
from app.core.secrets_box import SecretBox
from app.core.settings import Settings
from app.models import SyncRun
from app.notify.dispatcher import deliver_due
from app.sync.health import record_reaped_run
from app.sync.hubspot_oauth.config import OAuthConfig
from app.sync.privacy.handler import handle_privacy_deletion
from app.sync.retention import RetentionPolicy, purge_when_due
from app.sync.scheduling.executor import RunExecutor, process_holder
from app.sync.scheduling.leases import Leases
from app.sync.scheduling.scheduler import Scheduler
from app.sync.webhooks.worker import WebhookWorker

CSRF_COOKIE = "hubsync_csrf"
NOTIFY_EVERY_S = 15.0  # how often pending notifications are sent (and retried)
WEBHOOKS_EVERY_S = 1.0  # how often received webhook events are routed to targeted runs
CHECKPOINT_EVERY_S = 2.0  # how often SQLite's WAL is checkpointed, outside any request
RETENTION_EVERY_S = 3600.0  # how often a process looks whether the daily purge is due


@dataclass(frozen=True, slots=True)
class WebState:
    """Everything a request handler needs from the process, built once at start-up."""

    settings: Settings
    engine: AsyncEngine
    session_factory: SessionFactory
    keys: CredentialKeys
    secret_box: SecretBox
    session_policy: SessionPolicy
    executor: RunExecutor  # this process's runs, each under its leases

    @classmethod
    def build(cls, settings: Settings) -> WebState:
        """Create the engine and derive every key from the settings."""
        engine = create_engine(
            settings.database_url, background_checkpoints=settings.scheduler_enabled
        )
        sessions = create_session_factory(engine)
        box = SecretBox(settings.secret_keys)
        ttl = timedelta(seconds=settings.lease_ttl_seconds)
        return cls(
            settings=settings,
            engine=engine,
            session_factory=sessions,
            keys=CredentialKeys.from_master(settings.secret_keys[0]),
            secret_box=box,
            session_policy=SessionPolicy(
                idle=timedelta(minutes=settings.session_idle_minutes),
                absolute=timedelta(hours=settings.session_absolute_hours),
                throttle=ThrottlePolicy(
                    max_failures=settings.login_max_failures,
                    window=timedelta(minutes=settings.login_failure_window_minutes),
                ),
            ),
            executor=RunExecutor(
                sessions,
                box,
                Leases(sessions, process_holder(), ttl),
                public_url=settings.public_url,
                max_concurrent=settings.max_concurrent_runs,
                oauth_app=OAuthConfig.from_settings(settings),
            ),
        )


def cookie_name(settings: Settings) -> str:
    """The session cookie's name: ``__Host-`` prefixed whenever cookies are Secure."""
    return "__Host-hubsync_session" if settings.secure_cookies else "hubsync_session"


def build_scheduler(state: WebState) -> Scheduler:
    """The scheduler of a ``hubsync serve`` process, ticking on the settings' interval."""
    settings, sessions = state.settings, state.session_factory

    async def deliver() -> int:
        return await deliver_due(sessions, settings)

    async def checkpoint() -> object:
        return await checkpoint_wal(state.engine)

    policy = RetentionPolicy.from_settings(settings)  # refused at start when out of bounds

    async def purge() -> object:
        return await purge_when_due(sessions, state.executor.leases, policy)

    async def reaped(run: SyncRun) -> None:
        await record_reaped_run(sessions, run, public_url=settings.public_url)

    webhooks = WebhookWorker(
        sessions, state.executor, box=state.secret_box, privacy=handle_privacy_deletion,
        debounce=timedelta(seconds=settings.webhook_debounce_seconds),
        public_url=settings.public_url, oauth_app=state.executor.oauth_app,
    )  # fmt: skip
    return Scheduler(
        sessions, state.executor, tick_seconds=settings.scheduler_tick_seconds,
        jobs={"notifications": (deliver, NOTIFY_EVERY_S),
              "webhooks": (webhooks.tick, WEBHOOKS_EVERY_S),
              "wal_checkpoint": (checkpoint, CHECKPOINT_EVERY_S),
              "retention": (purge, RETENTION_EVERY_S)},
        on_aborted=reaped,
    )  # fmt: skip
