"""POST /api/v1/interfaces/{id}/runs: a run from the API, its items, and who may start it."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.sync.apply import apply_interface_file
from app.sync.versions import approve_version
from app.web import WebState
from tests.factories import World, bearer
from tests.test_cli_run import INTERFACE, TOKEN, erp_url, sandbox_url

__all__ = ["erp_url", "sandbox_url"]  # fixtures used by name


async def applied_interface(
    db: AsyncSession, web: WebState, world: World, erp: str, sandbox: str
) -> str:
    """An approved interface of tenant A between the PostgreSQL ERP and the sandbox."""
    text = INTERFACE.format(erp_url=erp, sandbox_url=sandbox, token=TOKEN).replace(
        "tenant: acme", f"tenant: {world.a.tenant.slug}"
    )
    operator = Actor.system("test")
    result = await apply_interface_file(db, actor=operator, box=web.secret_box, text=text,
                                        environ={})  # fmt: skip
    await approve_version(db, actor=operator, version_id=result.version.id)
    await db.commit()
    return str(result.interface.id)


async def test_admin_runs_an_interface_and_reads_its_items(
    client: httpx.AsyncClient,
    db: AsyncSession,
    web: WebState,
    world: World,
    erp_url: str,
    sandbox_url: str,
) -> None:
    interface_id = await applied_interface(db, web, world, erp_url, sandbox_url)
    dry = await client.post(f"/api/v1/interfaces/{interface_id}/runs?dry_run=true",
                            headers=bearer(world.a.admin_token))  # fmt: skip
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True
    response = await client.post(f"/api/v1/interfaces/{interface_id}/runs?wait=true",
                                 headers=bearer(world.a.admin_token))  # fmt: skip
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] == "succeeded"
    assert run["counts"]["companies"]["created"] == 3
    items = await client.get(f"/api/v1/runs/{run['id']}/items", headers=bearer(world.a.admin_token))
    assert sorted(i["source_key"] for i in items.json()) == ["10001", "10002", "10003"]
    health = (await client.get(f"/api/v1/interfaces/{interface_id}",
                               headers=bearer(world.a.viewer_token))).json()  # fmt: skip
    assert health["health"] == "ok"
    assert health["last_run_at"] is not None


async def test_viewers_may_not_start_runs(
    client: httpx.AsyncClient,
    db: AsyncSession,
    web: WebState,
    world: World,
    erp_url: str,
    sandbox_url: str,
) -> None:
    interface_id = await applied_interface(db, web, world, erp_url, sandbox_url)
    response = await client.post(f"/api/v1/interfaces/{interface_id}/runs",
                                 headers=bearer(world.a.viewer_token))  # fmt: skip
    assert response.status_code == 403


async def test_a_run_started_in_the_background_is_followed_until_it_finishes(
    client: httpx.AsyncClient,
    db: AsyncSession,
    web: WebState,
    world: World,
    erp_url: str,
    sandbox_url: str,
) -> None:
    interface_id = await applied_interface(db, web, world, erp_url, sandbox_url)
    headers = bearer(world.a.admin_token)
    started = await client.post(f"/api/v1/interfaces/{interface_id}/runs", headers=headers)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    again = await client.post(f"/api/v1/interfaces/{interface_id}/runs", headers=headers)
    assert again.status_code == 409, again.text
    assert "busy" in again.json()["detail"]
    run_id = started.json()["id"]
    for _ in range(200):  # the run finishes in the app's loop; poll as a client would
        run = (await client.get(f"/api/v1/runs/{run_id}", headers=headers)).json()
        if run["status"] != "running":
            break
        await asyncio.sleep(0.05)
    assert run["status"] == "succeeded", run
    assert run["counts"]["companies"]["created"] == 3
    for _ in range(100):  # the leases go a moment after the run's row says it finished
        if not web.executor.active:
            break
        await asyncio.sleep(0.02)
    after = await client.post(f"/api/v1/interfaces/{interface_id}/runs?wait=true", headers=headers)
    assert after.status_code == 200, after.text  # the leases were released
