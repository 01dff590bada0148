"""Connections: settings plus credentials that are encrypted before they touch the database."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.connectors.base import CheckResult
from app.connectors.errors import ConnectorConfigError, ConnectorError
from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.errors import HubSpotError
from app.connectors.hubspot.retry import RetryPolicy
from app.connectors.registry import connector_class
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.secrets_box import SecretBox, SecretDecryptionError
from app.core.tenancy import TenantScope
from app.models import Connection
from app.models.base import utcnow
from app.models.enums import ConnectionKind
from app.sync.repositories import ConnectionRepository
from app.sync.tenants import get_tenant


async def create_connection(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    tenant_id: uuid.UUID,
    name: str,
    kind: ConnectionKind,
    connector: str,
    config: dict[str, Any],
    secrets: dict[str, Any] | None = None,
) -> Connection:
    """Create a connection; ``secrets`` are stored only encrypted and bound to the row."""
    actor.require(Permission.manage_connections)
    await get_tenant(session, actor=actor, tenant_id=tenant_id)
    repo = ConnectionRepository.scoped(session, TenantScope.only(tenant_id))
    if not name.strip():
        raise InvalidInput("name must not be empty")
    if any(c.name == name for c in await repo.list()):
        raise Conflict(f"a connection named {name!r} exists already")
    connection = Connection(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        name=name.strip(),
        kind=kind,
        connector=connector,
        config=config,
    )
    if secrets:
        _store_secrets(connection, box, secrets)
    await repo.create(connection, flush=True)
    await record_audit(
        session,
        action="connection.create",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=tenant_id,
        target_type="connection",
        target_id=connection.id,
        details={"connector": connector, "secret_fields": sorted(secrets or {})},
    )
    return connection


async def set_connection_secrets(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    connection_id: uuid.UUID,
    secrets: dict[str, Any],
) -> Connection:
    """Replace a connection's credentials (write-only: they are never read back out)."""
    connection = await get_connection(session, actor=actor, connection_id=connection_id)
    actor.require(Permission.manage_connections)
    _store_secrets(connection, box, secrets)
    await record_audit(
        session,
        action="connection.secrets_set",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=connection.tenant_id,
        target_type="connection",
        target_id=connection.id,
        details={"secret_fields": sorted(secrets)},
    )
    return connection


def open_connection_secrets(connection: Connection, box: SecretBox) -> dict[str, Any]:
    """Decrypt a connection's credentials for a connector (never for display)."""
    if connection.secrets_encrypted is None:
        return {}
    data: dict[str, Any] = box.decrypt(str(connection.id), connection.secrets_encrypted)
    return data


async def rotate_connection_secrets(session: AsyncSession, *, actor: Actor, box: SecretBox) -> int:
    """Re-encrypt every stored connection secret under the newest key; returns the count."""
    actor.require(Permission.manage_connections)
    rotated = 0
    for connection in await ConnectionRepository.scoped(session, actor.scope).list_with_secrets():
        if connection.secrets_encrypted:
            connection.secrets_encrypted = box.rotate(connection.secrets_encrypted)
            rotated += 1
    await record_audit(
        session,
        action="secrets.rotate",
        actor_label=actor.label,
        actor_id=actor.user_id,
        details={"connections": rotated},
    )
    return rotated


def _store_secrets(connection: Connection, box: SecretBox, secrets: dict[str, Any]) -> None:
    connection.secrets_encrypted = box.encrypt(str(connection.id), secrets)
    connection.secrets_set_at = utcnow()


async def list_connections(session: AsyncSession, *, actor: Actor) -> Sequence[Connection]:
    """The connections the actor may see."""
    return await ConnectionRepository.scoped(session, actor.scope).list()


async def get_connection(
    session: AsyncSession, *, actor: Actor, connection_id: uuid.UUID
) -> Connection:
    """One connection in the actor's scope (``NotFound`` for another tenant's)."""
    connection = await ConnectionRepository.scoped(session, actor.scope).get_by_id(connection_id)
    if connection is None:
        raise NotFound("connection not found")
    return connection


# --- Settings changes, secret status and "Verbindung prüfen" (used by the admin UI) ---

HUBSPOT_SETTINGS = frozenset({"base_url"})
HUBSPOT_SECRETS = frozenset({"access_token"})
CHECK_TIMEOUT_S = 30.0


def secret_field_names(connection: Connection) -> frozenset[str]:
    """The credential fields a connection's connector expects (empty if it is unknown here)."""
    if connection.kind == ConnectionKind.hubspot:
        return HUBSPOT_SECRETS
    try:
        return connector_class(connection.connector).Config.secret_fields()
    except ConnectorConfigError:
        return frozenset()


def secret_status(connection: Connection, box: SecretBox) -> dict[str, bool]:
    """Each credential field and whether a value is stored for it; values never leave here."""
    stored: set[str] = set()
    if connection.secrets_encrypted:
        try:
            stored = set(open_connection_secrets(connection, box))
        except SecretDecryptionError:
            stored = set()
    return {name: name in stored for name in sorted(secret_field_names(connection) | stored)}


def secret_values(connection: Connection, raw: dict[str, str]) -> dict[str, Any]:
    """Typed credentials from form text: structured fields (rest's ``auth``) are JSON objects."""
    try:
        fields = connector_class(connection.connector).Config.model_fields
    except ConnectorConfigError:
        fields = {}
    values: dict[str, Any] = {}
    for name, text in raw.items():
        info = fields.get(name)
        if info is None or info.annotation in (SecretStr, SecretStr | None):
            values[name] = text
            continue
        try:
            values[name] = json.loads(text)
        except ValueError:
            raise InvalidInput(f"{name} must be a JSON object") from None
    return values


async def update_connection(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    connection_id: uuid.UUID,
    config: dict[str, Any],
    secrets: dict[str, Any],
) -> Connection:
    """Replace a connection's settings and the given secrets; secrets left out stay stored."""
    connection = await get_connection(session, actor=actor, connection_id=connection_id)
    actor.require(Permission.manage_connections)
    expected = secret_field_names(connection)
    if misplaced := sorted(set(config) & expected):
        raise InvalidInput(f"{', '.join(misplaced)} belong in the credential fields")
    if unknown := sorted(set(secrets) - expected):
        raise InvalidInput(f"unknown credential fields: {', '.join(unknown)}")
    merged = {**open_connection_secrets(connection, box), **secrets}
    _validate_settings(connection, config, merged)
    changed = sorted(
        k for k in {*config, *connection.config} if config.get(k) != connection.config.get(k)
    )
    connection.config = dict(config)
    if secrets:
        _store_secrets(connection, box, merged)
    await record_audit(
        session,
        action="connection.update",
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=connection.tenant_id,
        target_type="connection",
        target_id=connection.id,
        details={"settings": changed, "secret_fields": sorted(secrets)},
    )
    return connection


def _validate_settings(
    connection: Connection, config: dict[str, Any], secrets: dict[str, Any]
) -> None:
    if connection.kind == ConnectionKind.hubspot:
        if unknown := sorted(set(config) - HUBSPOT_SETTINGS):
            raise InvalidInput(f"unknown HubSpot settings: {', '.join(unknown)}")
        base_url = config.get("base_url", "https://api.hubapi.com")
        if not isinstance(base_url, str) or urlsplit(base_url).scheme not in {"https", "http"}:
            raise InvalidInput("base_url must be an http(s) URL")
        return
    try:
        connector_class(connection.connector).Config.model_validate({**config, **secrets})
    except ConnectorConfigError as exc:
        raise InvalidInput(exc.message) from None
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise InvalidInput(f"{where}: {first['msg']}") from None


async def check_connection(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    connection_id: uuid.UUID,
    http: httpx.AsyncClient | None = None,
) -> CheckResult:
    """Reach the connection's system with its stored settings ("Verbindung prüfen")."""
    connection = await get_connection(session, actor=actor, connection_id=connection_id)
    actor.require(Permission.operate_interfaces)
    settings = {**connection.config, **open_connection_secrets(connection, box)}
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            if connection.kind == ConnectionKind.hubspot:
                return await _check_hubspot(settings, http)
            return await _check_source(connection.connector, settings)
    except TimeoutError:
        return CheckResult(ok=False, message=f"no answer within {CHECK_TIMEOUT_S:g} s")


async def _check_source(connector: str, settings: dict[str, Any]) -> CheckResult:
    try:
        source = connector_class(connector).from_settings(settings)
        async with source:
            return await source.check()
    except ConnectorError as exc:
        return CheckResult(ok=False, message=exc.message)


async def _check_hubspot(settings: dict[str, Any], http: httpx.AsyncClient | None) -> CheckResult:
    token = settings.get("access_token")
    if not token:
        return CheckResult(ok=False, message="no access token is stored")
    base_url = str(settings.get("base_url", "https://api.hubapi.com"))
    client = HubSpotClient(
        StaticTokenProvider(str(token)), http=http, base_url=base_url,
        retry=RetryPolicy(max_attempts=1),
    )  # fmt: skip
    try:
        async with client:
            await client.properties.list("companies")
    except HubSpotError as exc:
        return CheckResult(ok=False, message=str(exc))
    return CheckResult(ok=True, message="HubSpot accepted the access token")
