"""hubsync's settings: one pydantic-settings class, every knob an ``HUBSYNC_*`` env var.

The secret key is the root of every derived key (session signing, CSRF, the
Fernet keys that encrypt connection secrets). Outside production a missing key
is generated once into ``var/`` so a fresh checkout just works; production
refuses to start without one.
"""

from __future__ import annotations

import enum
import secrets
import warnings
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/hubsync.db"
SUPPORTED_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")
MIN_SECRET_KEY_LENGTH = 16
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "development"})


class Environment(enum.StrEnum):
    """Where hubsync runs; decides defaults that trade safety for convenience."""

    development = "development"
    test = "test"
    production = "production"


class SettingsError(RuntimeError):
    """Settings that hubsync cannot start with; the message names the variable."""


class Settings(BaseSettings):
    """Every setting of a hubsync process, read from ``HUBSYNC_*`` env vars and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="HUBSYNC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    env: Environment = Environment.development
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = Field(default="", repr=False)
    var_dir: Path = Path("var")
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool | None = None
    session_idle_minutes: int = Field(default=60, ge=5, le=24 * 60)
    session_absolute_hours: int = Field(default=12, ge=1, le=72)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_failure_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    password_hash_concurrency: int = Field(default=4, ge=1, le=64)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    run_item_retention_days: int = Field(default=30, ge=1, le=90)
    run_item_max_retention_days: int = Field(default=90, ge=1, le=365)
    webhook_event_retention_days: int = Field(default=7, ge=1, le=365)
    run_retention_days: int = Field(default=395, ge=1, le=3650)  # run summaries: 13 months
    audit_retention_days: int = Field(default=730, ge=1, le=3650)  # the audit log: two years
    docs: bool | None = None
    # Scheduler: each `hubsync serve` process looks for due interfaces every tick and runs
    # those whose lease it wins; a lease not renewed for `lease_ttl_seconds` is taken over.
    scheduler_enabled: bool = True
    scheduler_tick_seconds: float = Field(default=5.0, gt=0, le=60)
    lease_ttl_seconds: float = Field(default=60.0, ge=1, le=3600)
    max_concurrent_runs: int = Field(default=4, ge=1, le=64)
    # Notifications by e-mail (no SMTP host: e-mail targets are kept but not sent).
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = Field(default=None, repr=False)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_from: str = "hubsync <hubsync@localhost>"
    # The HubSpot app hubsync connects portals through (OAuth 2.0); its client secret also
    # signs the webhooks HubSpot sends. The URLs point elsewhere only for the sandbox.
    hubspot_client_id: str | None = None
    hubspot_client_secret: SecretStr | None = Field(default=None, repr=False)
    # While the app's secret is rotated: the one before, still accepted on webhook signatures.
    hubspot_client_secret_previous: SecretStr | None = Field(default=None, repr=False)
    hubspot_app_id: int | None = None
    hubspot_api_url: str = "https://api.hubapi.com"
    hubspot_authorize_url: str = "https://app.hubspot.com/oauth/authorize"
    webhook_debounce_seconds: float = Field(default=2.0, ge=0, le=60)
    # /metrics: open to whoever reaches it unless a bearer token is set here.
    metrics_token: SecretStr | None = Field(default=None, repr=False)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                f"HUBSYNC_DATABASE_URL is not a database URL ({exc}); "
                f"expected e.g. {DEFAULT_DATABASE_URL} or postgresql+asyncpg://user@host/db"
            ) from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"HUBSYNC_DATABASE_URL uses driver {url.drivername!r}; "
                f"supported: {', '.join(SUPPORTED_DRIVERS)}"
            )
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("HUBSYNC_PUBLIC_URL must be an absolute http(s) URL")
        if info.data.get("env") == Environment.production and parts.scheme != "https":
            raise ValueError("HUBSYNC_PUBLIC_URL must use https in production")
        return value.rstrip("/")

    def is_production(self) -> bool:
        """Whether hubsync runs for real customers (strict checks, no generated secrets)."""
        return self.env == Environment.production

    def is_development(self) -> bool:
        """Whether hubsync runs on a developer's machine."""
        return self.env == Environment.development

    @property
    def docs_enabled(self) -> bool:
        """OpenAPI docs are served unless turned off; production keeps them off by default."""
        return not self.is_production() if self.docs is None else self.docs

    @property
    def secure_cookies(self) -> bool:
        """Cookies get ``Secure`` and the ``__Host-`` prefix unless served over plain http."""
        return urlsplit(self.public_url).scheme == "https"

    @property
    def json_logs(self) -> bool:
        """JSON logs in production, readable lines elsewhere, unless set explicitly."""
        return self.is_production() if self.log_json is None else self.log_json

    @cached_property
    def secret_keys(self) -> list[str]:
        """The master secrets, newest first (comma-separated in HUBSYNC_SECRET_KEY)."""
        keys = [k.strip() for k in self.secret_key.split(",") if k.strip()]
        if keys:
            if any(
                k.lower() in PLACEHOLDER_SECRETS or len(k) < MIN_SECRET_KEY_LENGTH for k in keys
            ):
                raise SettingsError(
                    "HUBSYNC_SECRET_KEY holds a placeholder or a key shorter than 16 characters"
                )
            return keys
        if self.is_production():
            raise SettingsError(
                "HUBSYNC_SECRET_KEY is not set; production refuses to start without it"
            )
        return [self._generated_secret_key()]

    def _generated_secret_key(self) -> str:
        path = self.var_dir / "secret_key"
        if path.exists():
            key = path.read_text(encoding="utf-8").strip()
            if len(key) < MIN_SECRET_KEY_LENGTH:
                raise SettingsError(
                    f"{path} holds no usable key; delete it to generate a new one "
                    "(secrets stored with the old key can then no longer be read)"
                )
            return key
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n", encoding="utf-8")
        path.chmod(0o600)
        warnings.warn(
            f"HUBSYNC_SECRET_KEY is not set; generated one into {path}. "
            "Set HUBSYNC_SECRET_KEY before going to production.",
            RuntimeWarning,
            stacklevel=2,
        )
        return key


def load_settings() -> Settings:
    """Read the settings, turning validation errors into one readable ``SettingsError``."""
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"HUBSYNC_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
    _ = settings.secret_keys
    return settings
