"""Builders for the webhook tests: signed requests, HubSpot-shaped events, a portal's interface."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.connectors.hubspot.schemas import ObjectSchema
from app.connectors.hubspot.signatures import sign_v1, sign_v2, sign_v3
from app.core.db import SessionFactory
from app.models import Connection, Interface, MappingVersion, SyncRun, Tenant, WebhookEvent
from app.models.base import utcnow
from app.models.enums import ConnectionKind, InterfaceState, RunStatus, RunTrigger
from app.sync.engine.state import Selection
from app.sync.mapping.loader import load_mapping
from app.sync.scheduling.executor import SCHEDULER, RunStarted
from app.web import WebState

SECRET = "webhook-client-secret"
PORTAL = 62515
PATH = "/api/v1/webhooks/hubspot"
MAPPING_YAML = """\
objects:
  - name: companies
    source: {object: customers, key: customer_no}
    hubspot: {object: companies, match: erp_customer_no}
    direction: both
    fields:
      - {source: customer_no, hubspot: erp_customer_no}
      - {source: name, hubspot: name}
  - name: people
    source: {object: persons, key: person_no}
    hubspot: {object: contacts, match: email}
    fields:
      - {source: email, hubspot: email}
"""  # companies are read from HubSpot; contacts only written to it


def event(
    event_id: int,
    object_id: int | None = 100,
    *,
    kind: str = "company.propertyChange",
    portal: int = PORTAL,
    **extra: Any,
) -> dict[str, Any]:
    """One event as HubSpot sends it."""
    body: dict[str, Any] = {
        "eventId": event_id, "subscriptionId": 7, "portalId": portal, "appId": 54321,
        "occurredAt": 1_780_000_000_000, "subscriptionType": kind, "attemptNumber": 0,
        "changeSource": "CRM_UI", **extra,
    }  # fmt: skip
    if object_id is not None:
        body["objectId"] = object_id
    return body


def batch(*events: dict[str, Any]) -> bytes:
    """A request body: the events as a compact JSON array, as HubSpot sends them."""
    return json.dumps(list(events), separators=(",", ":")).encode()


def v3_headers(
    body: bytes, uri: str, *, secret: str = SECRET, timestamp_ms: int | None = None
) -> dict[str, str]:
    """The headers of a v3-signed POST of ``body`` to ``uri``."""
    stamp = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, stamp),
        "X-HubSpot-Request-Timestamp": str(stamp),
    }


def legacy_headers(body: bytes, uri: str, version: str, *, secret: str = SECRET) -> dict[str, str]:
    """The headers of a request signed only the old way (``v1`` or ``v2``)."""
    signature = sign_v1(secret, body) if version == "v1" else sign_v2(secret, "POST", uri, body)
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": signature,
        "X-HubSpot-Signature-Version": version,
    }


async def stored(sessions: SessionFactory) -> list[WebhookEvent]:
    """Every stored event, oldest first."""
    async with sessions() as session:
        found = await session.scalars(select(WebhookEvent).order_by(WebhookEvent.event_id))
        return list(found)


async def count_events(sessions: SessionFactory) -> int:
    """How many events are stored."""
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WebhookEvent)) or 0)


async def add_portal_interface(
    db: AsyncSession,
    *,
    slug: str = "webhooks",
    portal: int = PORTAL,
    mapping_yaml: str = MAPPING_YAML,
    name: str = "erp",
) -> Interface:
    """A new tenant's active interface on ``portal`` (OAuth-style ``config["portal_id"]``),
    its mapping version approved; committed."""
    tenant = Tenant(slug=slug, name=slug.title())
    db.add(tenant)
    await db.flush()
    source = Connection(tenant_id=tenant.id, name=f"{name}-source", kind=ConnectionKind.source,
                        connector="sql", config={})  # fmt: skip
    hubspot = Connection(tenant_id=tenant.id, name=f"{name}-hubspot", kind=ConnectionKind.hubspot,
                         connector="hubspot", config={"portal_id": portal})  # fmt: skip
    db.add_all([source, hubspot])
    await db.flush()
    interface = Interface(
        tenant_id=tenant.id, name=name, source_connection_id=source.id,
        hubspot_connection_id=hubspot.id, state=InterfaceState.active,
    )  # fmt: skip
    db.add(interface)
    await db.flush()
    version = MappingVersion(
        tenant_id=tenant.id, interface_id=interface.id, number=1, yaml_text=mapping_yaml,
        parsed=load_mapping(mapping_yaml).model_dump(mode="json"), approved_at=utcnow(),
    )  # fmt: skip
    db.add(version)
    await db.flush()
    interface.active_mapping_version_id = version.id
    await db.commit()
    return interface


@dataclass
class FakeRuns:
    """Stands in for ``RunExecutor``: records the targeted runs asked for, or says busy."""

    busy: set[uuid.UUID] = field(default_factory=set)
    refuse: Exception | None = None  # raised by every start
    free_slots: int = 4
    calls: list[tuple[uuid.UUID, RunTrigger, Selection | None]] = field(default_factory=list)

    async def start(
        self,
        interface_id: uuid.UUID,
        *,
        trigger: RunTrigger,
        actor: Actor = SCHEDULER,
        planned_at: datetime | None = None,
        only: Selection | None = None,
    ) -> RunStarted:
        """Record the call; a run row (not stored) unless the interface is busy."""
        self.calls.append((interface_id, trigger, only))
        if self.refuse is not None:
            raise self.refuse
        if interface_id in self.busy:
            return RunStarted(busy="interface")
        return RunStarted(run=SyncRun(id=uuid.uuid4(), interface_id=interface_id))

    def ids(self, mapping: str = "companies") -> list[set[str]]:
        """The HubSpot ids of ``mapping`` each run was asked for, in call order."""
        return [set(only.ids_of(mapping)) if only else set() for _, _, only in self.calls]


class FakeSchemas:
    """A connection's schema API: answers ``schemas`` (or raises ``error``), counts calls."""

    def __init__(self, *schemas: ObjectSchema, error: Exception | None = None) -> None:
        self.schemas = list(schemas)
        self.error = error
        self.calls: list[uuid.UUID] = []

    async def __call__(self, connection_id: uuid.UUID, tenant_id: uuid.UUID) -> list[ObjectSchema]:
        """The schemas, or the error; the call is counted either way."""
        self.calls.append(connection_id)
        if self.error is not None:
            raise self.error
        return self.schemas


@dataclass
class WebhookInterface:
    """An interface of an end-to-end test, and hubsync's state behind it."""

    interface_id: uuid.UUID
    web: WebState

    async def webhook_runs(self) -> list[SyncRun]:
        """The interface's runs that webhooks started."""
        async with self.web.session_factory() as session:
            found = await session.scalars(select(SyncRun).where(
                SyncRun.interface_id == self.interface_id, SyncRun.trigger == RunTrigger.webhook
            ))  # fmt: skip
            return list(found)

    async def runs_finished(self) -> bool:
        """Whether webhook runs were started and all of them have finished."""
        runs = await self.webhook_runs()
        return bool(runs) and all(r.status != RunStatus.running for r in runs)
