"""``hubsync interface apply``: make a tenant's interface match a file, like ``kubectl apply``.

The file names the tenant, the interface, both connections and the mapping
table. Applying creates what is missing, updates what differs and leaves the
rest alone, so applying the same file twice changes nothing. The connections
are named after the interface: ``<name>-source`` and, for a private-app token,
``<name>-hubspot`` (settings ``base_url``, secret ``access_token``); a file may
instead refer to an existing HubSpot connection (e.g. OAuth) by name. Secrets,
the connector's ``SecretStr`` fields and the token, are stored only encrypted.
A changed mapping becomes a new version that still needs approval.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.connectors.errors import ConnectorConfigError
from app.connectors.registry import connector_class
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.models import Connection, Interface, MappingVersion
from app.models.enums import ConnectionKind
from app.sync.connections import create_connection, open_connection_secrets, set_connection_secrets
from app.sync.interfaces import create_interface
from app.sync.mapping.loader import InterfaceFile, SourceConnection, load_interface_file
from app.sync.mapping.problems import MappingError
from app.sync.repositories import ConnectionRepository, InterfaceRepository
from app.sync.tenants import get_tenant_by_slug
from app.sync.versions import InvalidMapping, create_version

HUBSPOT_CONNECTOR = "hubspot"
_NAME_ROOM = 92  # connection names hold 100 characters, "-hubspot" takes 8


class Outcome(enum.StrEnum):
    """What applying did to one object."""

    created = "created"
    updated = "updated"
    unchanged = "unchanged"


@dataclass(frozen=True, slots=True)
class Change:
    """One object the file describes and what applying did to it."""

    kind: str  # "connection", "interface" or "mapping version"
    name: str
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """The interface and its newest mapping version after applying, and every change."""

    interface: Interface
    version: MappingVersion
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether applying changed anything at all."""
        return any(c.outcome != Outcome.unchanged for c in self.changes)


async def apply_interface_file(
    session: AsyncSession,
    *,
    actor: Actor,
    box: SecretBox,
    text: str,
    environ: Mapping[str, str],
    source_name: str = "interface.yaml",
) -> ApplyResult:
    """Create or update the connections, interface and mapping version a file describes."""
    actor.require(Permission.manage_connections)
    try:
        spec = load_interface_file(text, environ=environ, source_name=source_name)
    except MappingError as exc:
        raise InvalidMapping(exc) from None
    tenant = await get_tenant_by_slug(session, actor=actor, slug=spec.tenant)
    applier = _Applier(session, actor, box, tenant.id)
    source = await applier.source_connection(spec)
    hubspot = await applier.hubspot_connection(spec)
    interface = await applier.interface(spec, source, hubspot)
    outcome = await create_version(session, actor=actor, interface_id=interface.id, yaml_text=text)
    number = f"{spec.name} v{outcome.version.number}"
    applier.note("mapping version", number, Outcome.created if outcome.created else None)
    return ApplyResult(interface, outcome.version, applier.changes)


def split_settings(source: SourceConnection) -> tuple[dict[str, Any], dict[str, Any]]:
    """A source's settings, checked by its connector, as (plain config, secret fields)."""
    try:
        config_class = connector_class(source.connector).Config
        config_class.model_validate(source.config)
    except ConnectorConfigError as exc:
        raise InvalidInput(f"source: {exc.message}") from None
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"source.config.{where}: {first['msg']}") from None
    secret = config_class.secret_fields()
    settings: dict[str, Any] = to_jsonable_python(source.config)
    plain = {k: v for k, v in settings.items() if k not in secret}
    return plain, {k: v for k, v in settings.items() if k in secret}


class _Applier:
    """Upserts within one tenant, collecting what changed."""

    def __init__(
        self, session: AsyncSession, actor: Actor, box: SecretBox, tenant_id: uuid.UUID
    ) -> None:
        self.session, self.actor, self.box, self.tenant_id = session, actor, box, tenant_id
        self.scope = TenantScope.only(tenant_id)
        self.changes: list[Change] = []

    def note(self, kind: str, name: str, outcome: Outcome | None) -> None:
        """Record what happened to one object (``None``: unchanged)."""
        self.changes.append(Change(kind, name, outcome or Outcome.unchanged))

    async def source_connection(self, spec: InterfaceFile) -> Connection:
        """The interface's source connection, as the file describes it."""
        plain, secrets = split_settings(spec.source)
        name = f"{spec.name[:_NAME_ROOM]}-source"
        return await self._upsert(
            name, ConnectionKind.source, spec.source.connector, plain, secrets
        )

    async def hubspot_connection(self, spec: InterfaceFile) -> Connection:
        """The HubSpot connection: a named existing one, or the file's private-app token."""
        hubspot = spec.hubspot
        if hubspot.access_token is None:
            return await self._existing_hubspot(str(hubspot.connection))
        name = f"{spec.name[:_NAME_ROOM]}-hubspot"
        secrets = {"access_token": hubspot.access_token.get_secret_value()}
        config = {"base_url": hubspot.base_url}
        return await self._upsert(name, ConnectionKind.hubspot, HUBSPOT_CONNECTOR, config, secrets)

    async def _existing_hubspot(self, name: str) -> Connection:
        connection = await ConnectionRepository.scoped(self.session, self.scope).get_by_name(name)
        if connection is None or connection.kind != ConnectionKind.hubspot:
            raise NotFound(f"the tenant has no HubSpot connection named {name!r}")
        self.note("connection", name, None)
        return connection

    async def _upsert(
        self,
        name: str,
        kind: ConnectionKind,
        connector: str,
        config: dict[str, Any],
        secrets: dict[str, Any],
    ) -> Connection:
        existing = await ConnectionRepository.scoped(self.session, self.scope).get_by_name(name)
        if existing is None:
            created = await create_connection(
                self.session, actor=self.actor, box=self.box, tenant_id=self.tenant_id,
                name=name, kind=kind, connector=connector, config=config, secrets=secrets,
            )  # fmt: skip
            self.note("connection", name, Outcome.created)
            return created
        if existing.kind != kind:
            raise Conflict(f"connection {name!r} exists already as a {existing.kind} connection")
        changed = await self._update_settings(existing, connector, config)
        if open_connection_secrets(existing, self.box) != secrets:
            await set_connection_secrets(
                self.session, actor=self.actor, box=self.box, connection_id=existing.id,
                secrets=secrets,
            )  # fmt: skip
            changed = True
        self.note("connection", name, Outcome.updated if changed else None)
        return existing

    async def _update_settings(
        self, connection: Connection, connector: str, config: dict[str, Any]
    ) -> bool:
        if connection.connector == connector and connection.config == config:
            return False
        connection.connector, connection.config = connector, config
        await self._audit("connection.update", "connection", connection.id, connector=connector)
        return True

    async def interface(
        self, spec: InterfaceFile, source: Connection, hubspot: Connection
    ) -> Interface:
        """The interface itself: created as a draft, or its schedule and connections updated."""
        named = await InterfaceRepository.scoped(self.session, self.scope).with_name(spec.name)
        if not named:
            interface = await create_interface(
                self.session, actor=self.actor, name=spec.name, source_connection_id=source.id,
                hubspot_connection_id=hubspot.id, interval_minutes=spec.interval_minutes,
            )  # fmt: skip
            self.note("interface", spec.name, Outcome.created)
            return interface
        interface = named[0]
        wanted = {
            "interval_minutes": spec.interval_minutes,
            "source_connection_id": source.id,
            "hubspot_connection_id": hubspot.id,
        }
        differing = sorted(k for k, v in wanted.items() if getattr(interface, k) != v)
        for key in differing:
            setattr(interface, key, wanted[key])
        if differing:
            await self._audit("interface.update", "interface", interface.id, fields=differing)
        self.note("interface", spec.name, Outcome.updated if differing else None)
        return interface

    async def _audit(
        self, action: str, target_type: str, target_id: uuid.UUID, **details: object
    ) -> None:
        await record_audit(
            self.session,
            action=action,
            actor_label=self.actor.label,
            actor_id=self.actor.user_id,
            tenant_id=self.tenant_id,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )
