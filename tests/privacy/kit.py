"""Builders for privacy deletion tests: a PostgreSQL ERP of persons, an applied contacts
interface on the sandbox, a stored privacy event, and the search of every hubsync table."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Connection as DbConnection
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth.actor import Actor
from app.models import Connection, DeletionRequest, MappingVersion, RecordLink, WebhookEvent
from app.models.enums import DeletionState, RunStatus
from app.sync.apply import apply_interface_file
from app.sync.mapping.loader import load_mapping
from app.sync.running import run_now
from app.sync.versions import approve_version
from app.web import WebState
from tests.factories import TenantWorld, World
from tests.test_cli_run import TOKEN

PORTAL_ID = 62515
ANNA = {
    "person_id": "P-1",
    "email": "annelies.privatova@example.org",
    "first_name": "Annelies",
    "last_name": "Privatova",
    "phone": "+41 79 555 01 23",
}
BRUNO = {
    "person_id": "P-2",
    "email": "bruno.bleibtda@example.org",
    "first_name": "Brunhold",
    "last_name": "Bleibtda",
    "phone": "+41 31 555 98 76",
}
PERSONAL = ("email", "first_name", "last_name", "phone")
ERP_SCHEMA = (
    "CREATE TABLE persons (person_id varchar(20) PRIMARY KEY, email text, first_name text, "
    "last_name text, phone text, updated_at timestamptz NOT NULL DEFAULT now(), "
    "deleted_at timestamptz)"
)
INTERFACE = """\
tenant: {tenant}
name: erp-persons
source:
  connector: sql
  config:
    url: "{erp_url}"
    objects: {{persons: {{table: persons, key: [person_id], cursor: updated_at{soft}}}}}
hubspot:
  base_url: {sandbox_url}
  access_token: {token}
mapping:
  objects:
    - name: contacts
      source: {{object: persons, key: person_id, updated: updated_at}}
      hubspot: {{object: contacts, match: email}}
      on_privacy_deletion: {policy}{on_delete}
      fields:
        - {{source: email, hubspot: email}}
        - {{source: first_name, hubspot: firstname}}
        - {{source: last_name, hubspot: lastname}}
        - {{source: phone, hubspot: phone}}
"""


def values_of(person: dict[str, str]) -> list[str]:
    """The person's personal values, as a search for them must not find."""
    return [person[name] for name in PERSONAL]


def seed_erp(url: str) -> None:
    """The persons table with Anna and Bruno (call off the event loop)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(ERP_SCHEMA))
        for person in (ANNA, BRUNO):
            connection.execute(
                text(
                    "INSERT INTO persons (person_id, email, first_name, last_name, phone, "
                    "updated_at) VALUES (:person_id, :email, :first_name, :last_name, :phone, :t)"
                ),
                {**person, "t": datetime(2026, 1, 5, tzinfo=UTC)},
            )
    engine.dispose()


def erp_person(url: str, person_id: str) -> dict[str, Any] | None:
    """The stored row of one person (soft-deleted ones too), or None."""
    engine = create_engine(url)
    with engine.begin() as connection:
        row = connection.execute(
            text("SELECT * FROM persons WHERE person_id = :id"), {"id": person_id}
        ).mappings().first()  # fmt: skip
    engine.dispose()
    return dict(row) if row else None


def erase_in_erp(url: str, person_id: str) -> None:
    """What the ERP does when a person is erased: the row is marked deleted (the sql
    connector sees deletions by its ``soft_delete`` column) and blanked."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE persons SET deleted_at = now(), updated_at = now(), email = NULL, "
                "first_name = NULL, last_name = NULL, phone = NULL WHERE person_id = :id"
            ),
            {"id": person_id},
        )
    engine.dispose()


async def apply_contacts(
    db: AsyncSession,
    web: WebState,
    world: World,
    *,
    erp_url: str,
    sandbox_url: str,
    policy: str = "delete",
    soft_delete: bool = False,
    source_deleted: str | None = None,
) -> uuid.UUID:
    """Tenant A's approved contacts interface between the ERP and the sandbox, whose HubSpot
    connection knows its portal id (as an OAuth connection would); ``source_deleted`` is the
    mapping's policy for persons deleted in the ERP."""
    on_delete = f"\n      on_delete: {{source_deleted: {source_deleted}}}" if source_deleted else ""
    text_ = INTERFACE.format(
        tenant=world.a.tenant.slug, erp_url=erp_url, sandbox_url=sandbox_url, token=TOKEN,
        policy=policy, soft=", soft_delete: deleted_at" if soft_delete else "", on_delete=on_delete,
    )  # fmt: skip
    operator = Actor.system("test")
    result = await apply_interface_file(db, actor=operator, box=web.secret_box, text=text_,
                                        environ={})  # fmt: skip
    await approve_version(db, actor=operator, version_id=result.version.id)
    portal = await db.get(Connection, result.interface.hubspot_connection_id)
    assert portal is not None
    portal.config = {**portal.config, "portal_id": PORTAL_ID}
    await db.commit()
    return result.interface.id


async def sync(web: WebState, interface_id: uuid.UUID) -> None:
    """One real run of the interface; it must succeed."""
    run = await run_now(web.session_factory, actor=Actor.system("test"), box=web.secret_box,
                        interface_id=interface_id, public_url=web.settings.public_url)  # fmt: skip
    assert run.status is RunStatus.succeeded, run.error_summary


async def hubspot_id_of(db: AsyncSession, interface_id: uuid.UUID, person_id: str) -> str:
    """The HubSpot id the interface linked the person to."""
    link = (
        await db.execute(
            select(RecordLink).where(
                RecordLink.interface_id == interface_id, RecordLink.source_key == person_id
            )
        )
    ).scalar_one()
    assert link.hubspot_id is not None
    return link.hubspot_id


async def gdpr_delete_in_hubspot(sandbox_url: str, hubspot_id: str) -> None:
    """What a HubSpot user does: the contact's permanent privacy deletion."""
    async with httpx.AsyncClient(
        base_url=sandbox_url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as api:
        response = await api.post(
            "/crm/v3/objects/contacts/gdpr-delete", json={"objectId": hubspot_id}
        )
    assert response.status_code == 204, response.text


async def store_event(
    db: AsyncSession,
    object_id: str,
    *,
    kind: str = "contact.privacyDeletion",
    portal_id: int = PORTAL_ID,
    **extra: Any,
) -> WebhookEvent:
    """A received event as the webhook receiver stores it."""
    payload = {"eventId": uuid.uuid4().int % 10**9, "portalId": portal_id,
               "subscriptionType": kind, "objectId": int(object_id), **extra}  # fmt: skip
    event = WebhookEvent(
        portal_id=portal_id, event_id=str(payload["eventId"]), subscription_type=kind,
        object_id=object_id, occurred_at=datetime.now(UTC), payload=payload,
    )  # fmt: skip
    db.add(event)
    await db.commit()
    return event


async def only_request(db: AsyncSession) -> DeletionRequest:
    """The one deletion request there is, as stored now."""
    fresh = select(DeletionRequest).execution_options(populate_existing=True)
    return (await db.execute(fresh)).scalar_one()


async def personal_data_hits(engine: AsyncEngine, values: Sequence[str]) -> list[str]:
    """``table.column`` of every hubsync cell holding one of ``values`` (case-insensitive),
    found by reflecting the database: every table and column, whatever the models say."""
    wanted = [v.lower() for v in values]

    def scan(connection: DbConnection) -> list[str]:
        metadata = MetaData()
        metadata.reflect(connection)
        return [
            f"{table.name}.{column}"
            for table in metadata.tables.values()
            for row in connection.execute(select(table)).mappings()
            for column, cell in row.items()
            if any(v in _text(cell) for v in wanted)
        ]

    async with engine.connect() as connection:
        return await connection.run_sync(scan)


def _text(cell: Any) -> str:
    if isinstance(cell, dict | list):
        return json.dumps(cell, ensure_ascii=False, default=str).lower()
    if isinstance(cell, bytes):
        return cell.decode("utf-8", "replace").lower()
    return str(cell).lower()


CONTACTS_YAML = """\
objects:
  - name: contacts
    source: {object: persons, key: person_id}
    hubspot: {object: contacts, match: email}
    on_privacy_deletion: delete
    fields:
      - {source: email, hubspot: email}
"""


async def contacts_version(db: AsyncSession, tw: TenantWorld) -> MappingVersion:
    """Version 2 of a world tenant's interface, mapping contacts, approved and active."""
    version = MappingVersion(
        tenant_id=tw.tenant.id, interface_id=tw.interface.id, number=2, yaml_text=CONTACTS_YAML,
        parsed=load_mapping(CONTACTS_YAML).model_dump(mode="json"), approved_by_id=tw.admin.id,
        approved_at=datetime.now(UTC),
    )  # fmt: skip
    db.add(version)
    await db.flush()
    tw.interface.active_mapping_version_id = version.id
    await db.commit()
    return version


async def add_request_for(db: AsyncSession, tw: TenantWorld) -> uuid.UUID:
    """A completed deletion request of a world tenant (ids only), committed; its id."""
    now = datetime.now(UTC)
    request = DeletionRequest(
        tenant_id=tw.tenant.id, portal_id=PORTAL_ID, hubspot_object_type="contacts",
        hubspot_object_id=str(uuid.uuid4().int % 10**9), policy="ignore",
        state=DeletionState.completed, outcomes={}, requested_at=now, completed_at=now,
        attempts=1,
    )  # fmt: skip
    db.add(request)
    await db.commit()
    return request.id
