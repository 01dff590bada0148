"""The suppression list itself: keyed hashes, tenant scope, lifting by API and UI, migration."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.models import AuditEntry, PrivacySuppression, RecordLink, SyncRun
from app.models.base import utcnow
from app.sync.engine.counts import RunCounts
from app.sync.engine.mapper import RecordMapper
from app.sync.engine.to_hubspot import ToHubSpot
from app.sync.mapping.model import ObjectMapping
from app.sync.privacy import suppressions
from app.sync.privacy.suppressions import Suppressor, load_suppressor, suppress
from app.web import WebState
from tests.databases import BACKENDS, fresh_database
from tests.factories import TenantWorld, World, bearer, build_world
from tests.privacy.kit import add_request_for
from tests.ui_session import sign_in

API = "/api/v1/suppressions"
EMAIL = "Annelies.Privatova@Example.org"
KEYS = SecretBox(["a-test-master-key-of-32-characters!"]).purpose_keys(suppressions.KEY_PURPOSE)


def contacts(direction: str = "to_hubspot") -> ObjectMapping:
    """A contacts mapping matched by e-mail, sending ``direction``."""
    return ObjectMapping.model_validate(
        {
            "name": "contacts",
            "direction": direction,
            "source": {"object": "persons", "key": "person_id"},
            "hubspot": {"object": "contacts", "match": "email"},
            "fields": [{"source": "email", "hubspot": "email"}],
        }
    )


async def suppressed(db: AsyncSession, tw: TenantWorld, key: str = "P-1") -> uuid.UUID:
    """A deletion request of ``tw`` that suppressed the pair ``key`` / EMAIL; its id."""
    request_id = await add_request_for(db, tw)
    link = RecordLink(source_key=key, source_values={"email": EMAIL})
    added = await suppress(
        db,
        tenant_id=tw.tenant.id,
        interface_id=tw.interface.id,
        mapping=contacts(),
        links=[link],
        request_id=request_id,
        keys=KEYS,
    )
    assert added == 2
    await db.commit()
    return request_id


async def active(db: AsyncSession) -> list[PrivacySuppression]:
    statement = (
        select(PrivacySuppression)
        .where(PrivacySuppression.lifted_at.is_(None))
        .execution_options(populate_existing=True)
    )
    return list((await db.execute(statement)).scalars())


def test_entries_are_keyed_hashes_of_the_normalised_values() -> None:
    link = RecordLink(source_key="P-1", source_values={"email": f" {EMAIL} "})
    hashes = suppressions.pair_hashes(contacts(), link, KEYS[0])
    assert sorted(hashes.values()) == ["match", "source_key"]
    assert all(len(h) == 64 and "privatova" not in h for h in hashes)
    checker = Suppressor(frozenset(hashes), KEYS)
    assert checker.blocks_match(EMAIL.lower())
    assert checker.blocks_key("P-1")
    assert not checker.blocks_key("P-2")
    assert not checker.blocks_match("bruno@example.org")
    assert not checker.blocks_match(None)
    assert not checker.blocks_match("  ")
    assert checker.hits == 2
    other_key = Suppressor(frozenset(hashes), (b"another master key's derivation!",))
    assert not other_key.blocks_key("P-1")  # keyed: without the key, no match


async def test_a_mapping_that_only_reads_from_hubspot_is_not_suppressed(
    db: AsyncSession, world: World
) -> None:
    request_id = await add_request_for(db, world.a)
    link = RecordLink(source_key="P-1", source_values={"email": EMAIL})
    added = await suppress(
        db,
        tenant_id=world.a.tenant.id,
        interface_id=world.a.interface.id,
        mapping=contacts("from_hubspot"),
        links=[link],
        request_id=request_id,
        keys=KEYS,
    )
    assert added == 0


async def test_a_second_attempt_adds_nothing_and_active_entries_are_unique(
    db: AsyncSession, world: World
) -> None:
    request_id = await suppressed(db, world.a)
    blank = RecordLink(source_key="P-1")  # a retry: the baseline is gone, the key stays
    again = await suppress(
        db,
        tenant_id=world.a.tenant.id,
        interface_id=world.a.interface.id,
        mapping=contacts(),
        links=[blank],
        request_id=request_id,
        keys=KEYS,
    )
    assert again == 0
    (entry, *_) = await active(db)
    db.add(
        PrivacySuppression(
            tenant_id=entry.tenant_id,
            interface_id=entry.interface_id,
            object_name="contacts",
            kind=entry.kind,
            key_hash=entry.key_hash,
        )
    )
    with pytest.raises(IntegrityError):
        await db.commit()
    await db.rollback()


async def test_a_run_reads_only_its_own_tenants_active_entries(
    db: AsyncSession, web: WebState, world: World
) -> None:
    await suppressed(db, world.a)
    sessions, mapping = web.session_factory, contacts()
    own = await load_suppressor(
        sessions, TenantScope.only(world.a.tenant.id), world.a.interface.id, mapping, KEYS
    )
    assert own is not None
    assert own.blocks_key("P-1")
    other = await load_suppressor(
        sessions, TenantScope.only(world.b.tenant.id), world.a.interface.id, mapping, KEYS
    )
    assert other is None
    assert (
        await load_suppressor(
            sessions, TenantScope.only(world.b.tenant.id), world.b.interface.id, mapping, KEYS
        )
        is None
    )
    for entry in await active(db):
        entry.lifted_at = utcnow()
    await db.commit()
    assert (
        await load_suppressor(
            sessions, TenantScope.only(world.a.tenant.id), world.a.interface.id, mapping, KEYS
        )
        is None
    )


async def test_admins_list_and_lift_their_own_tenants_entries_with_a_reason(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    request_a = await suppressed(db, world.a)
    await suppressed(db, world.b)
    admin_a, admin_b = bearer(world.a.admin_token), bearer(world.b.admin_token)
    mine = await client.get(API, params={"deletion_request_id": str(request_a)}, headers=admin_a)
    assert mine.status_code == 200, mine.text
    assert {r["tenant_id"] for r in mine.json()} == {str(world.a.tenant.id)}
    assert len(mine.json()) == 2
    assert all("key_hash" not in r for r in mine.json())
    entry_id = mine.json()[0]["id"]

    assert (
        await client.post(f"{API}/{entry_id}/lift", json={"reason": "x"}, headers=admin_b)
    ).status_code == 404
    assert (
        await client.post(
            f"{API}/{entry_id}/lift", json={"reason": "x"}, headers=bearer(world.a.viewer_token)
        )
    ).status_code == 403
    assert (await client.get(API, headers=bearer(world.a.viewer_token))).status_code == 403
    assert (
        await client.post(f"{API}/{entry_id}/lift", json={"reason": "  "}, headers=admin_a)
    ).status_code == 422
    assert len(await active(db)) == 4

    lifted = await client.post(
        f"{API}/{entry_id}/lift", json={"reason": "Einwilligung erteilt"}, headers=admin_a
    )
    assert lifted.status_code == 200, lifted.text
    body = lifted.json()
    assert body["lift_reason"] == "Einwilligung erteilt"
    assert body["lifted_at"] is not None
    assert body["lifted_by"]
    assert (
        await client.post(f"{API}/{entry_id}/lift", json={"reason": "again"}, headers=admin_a)
    ).status_code == 422
    audit = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "privacy_suppression.lift"))
    ).scalar_one()
    assert (audit.tenant_id, audit.target_id) == (world.a.tenant.id, entry_id)
    assert "Einwilligung" not in str(audit.details)
    still = await client.get(API, params={"active": "true"}, headers=admin_a)
    assert len(still.json()) == 1
    every = await client.get(API, headers=bearer(world.operator_token))
    assert len(every.json()) == 4


async def test_the_deletion_log_page_shows_and_lifts_a_requests_entries(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    request_id = await suppressed(db, world.a)
    await suppressed(db, world.b, key="P-7")
    csrf = await sign_in(client, world.a.admin.email)
    page = await client.get("/ui/deletions")
    assert page.status_code == 200, page.text
    assert f"/ui/deletions/{request_id}/suppressions/lift" in page.text
    url = f"/ui/deletions/{request_id}/suppressions/lift"
    refused = await client.post(url, data={"reason": "Einwilligung"})  # no CSRF token
    assert refused.status_code == 403
    lifted = await client.post(url, data={"reason": "Einwilligung", "csrf_token": csrf})
    assert lifted.status_code == 303, lifted.text
    assert {e.tenant_id for e in await active(db)} == {world.b.tenant.id}
    lifts = await db.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action == "privacy_suppression.lift")
    )
    assert lifts == 2
    page = await client.get("/ui/deletions")
    assert "/suppressions/lift" not in page.text


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_migration_creates_and_drops_the_list(backend: str, tmp_path: Path) -> None:
    async with fresh_database(backend, tmp_path) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        await asyncio.to_thread(migrations.downgrade, url, "9b7e1c2d4a10")
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                tables = await connection.run_sync(lambda c: c.dialect.get_table_names(c))
            assert "privacy_suppressions" not in tables
            await asyncio.to_thread(migrations.upgrade, url)
            async with create_session_factory(engine)() as db:
                world = await build_world(db)
                await suppressed(db, world.a)
                (entry, *_) = await active(db)
                entry.lifted_at = utcnow()  # a lifted entry does not block a new active one
                await db.commit()
                db.add(
                    PrivacySuppression(
                        tenant_id=entry.tenant_id,
                        interface_id=entry.interface_id,
                        object_name="contacts",
                        kind=entry.kind,
                        key_hash=entry.key_hash,
                    )
                )
                await db.commit()
                assert len(await active(db)) == 2
        finally:
            await engine.dispose()


def test_a_suppressed_person_whose_mapping_fails_gets_no_failed_item() -> None:
    mapping = ObjectMapping.model_validate({
        "name": "contacts", "direction": "to_hubspot",
        "source": {"object": "persons", "key": "person_id"},
        "hubspot": {"object": "contacts", "match": "email"},
        "fields": [{"source": "email", "hubspot": "email"},
                   {"source": "phone", "hubspot": "phone", "transform": "phone"}],
    })  # fmt: skip
    link = RecordLink(source_key="P-1", source_values={"email": EMAIL})
    hashes = suppressions.pair_hashes(contacts(), link, KEYS[0])
    run = SyncRun(id=uuid.uuid4(), tenant_id=uuid.uuid4(), interface_id=uuid.uuid4())
    sync = ToHubSpot(SimpleNamespace(run=run, counts=RunCounts()), mapping)  # type: ignore[arg-type]
    sync.suppressed = Suppressor(frozenset(hashes), KEYS)
    records = [  # her e-mail under a new key, and someone else; both with a broken phone
        {"person_id": "P-9", "email": f" {EMAIL.upper()}", "phone": "not a phone"},
        {"person_id": "P-2", "email": "bruno@example.org", "phone": "not a phone"},
    ]

    assert sync._map(records) == []
    assert [row["source_key"] for row in sync.recorder.pending] == ["P-2"]  # only his failure
    assert sync.suppressed.hits == 1
    assert sync.recorder.counts.to_json()["contacts"]["skipped"] == 1


def test_a_failing_match_field_is_checked_as_the_source_holds_it() -> None:
    mapping = ObjectMapping.model_validate({
        "name": "contacts", "direction": "to_hubspot",
        "source": {"object": "persons", "key": "person_id"},
        "hubspot": {"object": "contacts", "match": "email"},
        "fields": [{"source": "email", "hubspot": "email", "transform": "integer"}],
    })  # fmt: skip
    mapper = RecordMapper(mapping)
    assert mapper.match_values({"person_id": "P-9", "email": EMAIL}) == [EMAIL]
    assert mapper.match_values({"person_id": "P-9", "email": "7"}) == ["7", "7"]
