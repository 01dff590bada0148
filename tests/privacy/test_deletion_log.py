"""The deletion log for operators and tenant admins (API and UI), and its export as proof."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, DeletionRequest
from app.models.enums import DeletionState
from tests.factories import TenantWorld, World, bearer
from tests.ui_session import sign_in

API = "/api/v1/deletions"


async def add_request(
    db: AsyncSession, tw: TenantWorld, object_id: str, state: DeletionState
) -> DeletionRequest:
    """A request as the flow leaves it: one source outcome and hubsync's."""
    at = datetime(2026, 3, 7, 13, 5, tzinfo=UTC)
    outcomes = {
        f"{tw.interface.id}:contacts": {
            "system": "source", "interface_id": str(tw.interface.id),
            "interface": tw.interface.name, "object": "contacts", "source_object": "persons",
            "step": "delete", "state": "confirmed", "records": 1, "reason": None,
            "at": at.isoformat(),
        },
        "hubsync": {"system": "hubsync", "state": "confirmed", "record_links": 1,
                    "run_items": 3, "webhook_events": 2, "reason": None, "at": at.isoformat()},
    }  # fmt: skip
    request = DeletionRequest(
        tenant_id=tw.tenant.id, portal_id=1008, hubspot_object_type="contacts",
        hubspot_object_id=object_id, policy="delete", state=state, outcomes=outcomes,
        requested_at=at, completed_at=at if state is DeletionState.completed else None,
        attempts=1, last_error=None if state is DeletionState.completed else "erp: refused",
    )  # fmt: skip
    db.add(request)
    await db.commit()
    return request


async def two_tenants(db: AsyncSession, world: World) -> tuple[DeletionRequest, DeletionRequest]:
    return (
        await add_request(db, world.a, "7001", DeletionState.completed),
        await add_request(db, world.b, "8002", DeletionState.failed),
    )


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()]


async def test_admins_read_their_own_tenants_log_only(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    a, b = await two_tenants(db, world)
    mine = await client.get(API, headers=bearer(world.a.admin_token))
    assert ids(mine) == [str(a.id)]
    (row,) = mine.json()
    assert (row["state"], row["hubspot_object_id"], row["policy"]) == (
        "completed",
        "7001",
        "delete",
    )
    assert [o["system"] for o in row["outcomes"]] == ["source", "hubsync"]
    assert row["outcomes"][1]["records"] == 6  # links, items and events purged
    assert ids(await client.get(API, headers=bearer(world.b.admin_token))) == [str(b.id)]


async def test_another_tenant_is_not_found_and_viewers_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    await two_tenants(db, world)
    other = await client.get(API, params={"tenant_id": str(world.b.tenant.id)},
                             headers=bearer(world.a.admin_token))  # fmt: skip
    assert other.status_code == 404
    export = await client.get(f"{API}/export", params={"tenant_id": str(world.b.tenant.id)},
                              headers=bearer(world.a.admin_token))  # fmt: skip
    assert export.status_code == 404
    for path in (API, f"{API}/export"):
        assert (await client.get(path, headers=bearer(world.a.viewer_token))).status_code == 403


async def test_operators_read_every_tenant_and_filter(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    a, b = await two_tenants(db, world)
    headers = bearer(world.operator_token)
    assert sorted(ids(await client.get(API, headers=headers))) == sorted([str(a.id), str(b.id)])
    only_a = await client.get(API, params={"tenant_id": str(world.a.tenant.id)}, headers=headers)
    assert ids(only_a) == [str(a.id)]
    failed = await client.get(API, params={"state": "failed"}, headers=headers)
    assert ids(failed) == [str(b.id)]


async def test_the_csv_export_is_one_row_per_system_and_audited(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    a, _ = await two_tenants(db, world)
    response = await client.get(f"{API}/export", headers=bearer(world.a.admin_token))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert [(r["id"], r["system_system"], r["system_state"]) for r in rows] == [
        (str(a.id), "source", "confirmed"), (str(a.id), "hubsync", "confirmed"),
    ]  # fmt: skip
    audit = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "privacy_deletion.export"))
    ).scalar_one()
    assert (audit.tenant_id, audit.details["format"], audit.details["requests"]) == (
        world.a.tenant.id, "csv", 1
    )  # fmt: skip


async def test_the_json_export_holds_each_request_with_its_outcomes(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    _, b = await two_tenants(db, world)
    response = await client.get(f"{API}/export", params={"format": "json"},
                                headers=bearer(world.b.admin_token))  # fmt: skip
    assert response.status_code == 200, response.text
    document = json.loads(response.content)
    (request,) = document["deletion_requests"]
    assert (request["id"], request["state"], request["last_error"]) == (
        str(b.id), "failed", "erp: refused"
    )  # fmt: skip
    assert [o["state"] for o in request["outcomes"]] == ["confirmed", "confirmed"]
    assert uuid.UUID(request["tenant_id"]) == world.b.tenant.id


async def test_the_page_shows_the_own_tenants_deletions_and_exports_them(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    await two_tenants(db, world)
    await sign_in(client, world.a.admin.email)
    page = await client.get("/ui/deletions")
    assert page.status_code == 200, page.text
    assert "contacts 7001" in page.text
    assert "8002" not in page.text
    export = await client.get("/ui/deletions/export?format=csv")
    assert export.status_code == 200
    assert "7001" in export.text
    assert "8002" not in export.text
    assert (await client.get("/ui/deletions?state=nonsense")).status_code == 422


async def test_operators_see_every_tenant_on_the_page(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    await two_tenants(db, world)
    await sign_in(client, "operator@example.com")
    page = await client.get("/ui/deletions", params={"tenant": str(world.b.tenant.id)})
    assert page.status_code == 200, page.text
    assert "contacts 8002" in page.text
    assert "contacts 7001" not in page.text


async def test_viewers_do_not_get_the_page(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    await two_tenants(db, world)
    await sign_in(client, world.a.viewer.email)
    assert (await client.get("/ui/deletions")).status_code == 403
    assert (await client.get("/ui/deletions/export")).status_code == 403
