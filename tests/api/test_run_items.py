"""POST /api/v1/run-items/retry|resolve: failed items on request, in the caller's tenant only."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, RunItem
from app.models.enums import ItemAction, ItemStatus, SyncDirection
from app.sync.error_groups import cause_digest
from app.web import WebState
from tests.api.test_run_now import applied_interface
from tests.factories import World, bearer
from tests.test_cli_run import erp_url, sandbox_url

__all__ = ["erp_url", "sandbox_url"]  # fixtures used by name


async def test_an_admin_marks_a_failed_item_resolved(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    item_id = world.a.item.id
    body = {"item_ids": [str(item_id)]}
    response = await client.post("/api/v1/run-items/resolve", json=body,
                                 headers=bearer(world.a.admin_token))  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json() == {"resolved": 1}
    status = await db.scalar(select(RunItem.status).where(RunItem.id == item_id))
    assert status is ItemStatus.resolved
    audit = await db.scalar(
        select(AuditEntry.details).where(AuditEntry.action == "run_items.resolve")
    )
    assert audit == {"items": 1}


async def test_another_tenants_items_are_not_found_and_viewers_may_not_act(
    client: httpx.AsyncClient, world: World
) -> None:
    body = {"item_ids": [str(world.a.item.id)]}
    for action in ("retry", "resolve"):
        foreign = await client.post(f"/api/v1/run-items/{action}", json=body,
                                    headers=bearer(world.b.admin_token))  # fmt: skip
        assert foreign.status_code == 404, foreign.text
        viewer = await client.post(f"/api/v1/run-items/{action}", json=body,
                                   headers=bearer(world.a.viewer_token))  # fmt: skip
        assert viewer.status_code == 403, viewer.text
    empty = await client.post("/api/v1/run-items/retry", json={"item_ids": []},
                              headers=bearer(world.a.admin_token))  # fmt: skip
    assert empty.status_code == 422


async def test_a_retry_that_cannot_start_says_why(client: httpx.AsyncClient, world: World) -> None:
    body = {"item_ids": [str(world.a.item.id)]}
    response = await client.post("/api/v1/run-items/retry", json=body,
                                 headers=bearer(world.a.admin_token))  # fmt: skip
    assert response.status_code == 422, response.text
    assert "has no access token" in response.json()["detail"]


async def test_a_failed_item_is_retried_on_its_own(
    client: httpx.AsyncClient,
    db: AsyncSession,
    web: WebState,
    world: World,
    erp_url: str,
    sandbox_url: str,
) -> None:
    interface_id = uuid.UUID(await applied_interface(db, web, world, erp_url, sandbox_url))
    failed = RunItem(
        tenant_id=world.a.tenant.id, run_id=world.a.run.id, interface_id=interface_id,
        object_name="companies", direction=SyncDirection.to_hubspot, action=ItemAction.create,
        status=ItemStatus.failed, source_key="10002", error_message="HTTP 502",
        error_cause=cause_digest("HTTP 502"),  # as the recorder writes every failed item
        payload={"record": {"customer_no": "10002", "name": "Beispiel GmbH", "city": "Bern"}},
    )  # fmt: skip
    db.add(failed)
    await db.commit()
    response = await client.post("/api/v1/run-items/retry", json={"item_ids": [str(failed.id)]},
                                 headers=bearer(world.a.admin_token))  # fmt: skip
    assert response.status_code == 202, response.text
    (run,) = response.json()
    assert run["trigger"] == "retry"
    for _ in range(200):
        run = (await client.get(f"/api/v1/runs/{run['id']}",
                                headers=bearer(world.a.admin_token))).json()  # fmt: skip
        if run["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert run["status"] == "succeeded", run
    assert run["counts"]["companies"]["created"] == 1  # only the retried record, nothing read
    await db.refresh(failed)
    assert failed.status is ItemStatus.resolved
