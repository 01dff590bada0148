"""Tenant isolation: another tenant's ids are 404 on every route that takes one.

The routes are walked from the app itself, so a new route with an id is
covered (or fails the inventory check) without editing this file.
"""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, Connection, Interface, Tenant, User
from tests.factories import World, bearer
from tests.routes import PATH_PARAM, api_operations

MINIMAL_BODIES = {
    ("PUT", "/api/v1/connections/{connection_id}/secrets"): {"secrets": {"token": "x"}},
    ("PATCH", "/api/v1/interfaces/{interface_id}"): {"interval_minutes": 20},
    ("POST", "/api/v1/suppressions/{suppression_id}/lift"): {"reason": "x"},
}


def ids_of(world_tenant: object, world: World) -> dict[str, uuid.UUID]:
    """Path parameter name → the id of that tenant's object of that kind."""
    t = world_tenant
    return {
        "tenant_id": t.tenant.id,  # type: ignore[attr-defined]
        "user_id": t.viewer.id,  # type: ignore[attr-defined]
        "connection_id": t.source.id,  # type: ignore[attr-defined]
        "interface_id": t.interface.id,  # type: ignore[attr-defined]
        "run_id": t.run.id,  # type: ignore[attr-defined]
        "version_id": t.version.id,  # type: ignore[attr-defined]
        "token_id": uuid.uuid4(),
        "target_id": uuid.uuid4(),  # notification targets: tests/notify/test_api.py has real ones
        "suppression_id": uuid.uuid4(),  # tests/privacy/test_suppression_list.py has real ones
    }


async def row_counts(db: AsyncSession) -> dict[str, int]:
    counts = {}
    for model in (Tenant, User, Connection, Interface):
        counts[model.__name__] = (
            await db.execute(select(func.count()).select_from(model))
        ).scalar_one()
    return counts


async def test_every_api_route_with_an_id_hides_other_tenants(
    client: httpx.AsyncClient, web_app: FastAPI, world: World, db: AsyncSession
) -> None:
    routes = [(m, p) for m, p in api_operations(web_app) if PATH_PARAM.search(p)]
    assert len(routes) >= 8, routes
    a_ids = ids_of(world.a, world)
    before = await row_counts(db)
    for method, path in routes:
        url = PATH_PARAM.sub(lambda m: str(a_ids[m.group(1)]), path)
        body = MINIMAL_BODIES.get((method, path))
        for token in (world.b.admin_token, world.b.viewer_token):
            response = await client.request(method, url, headers=bearer(token), json=body)
            assert response.status_code == 404, (method, path, response.status_code, response.text)
    db.expire_all()
    assert await row_counts(db) == before


async def test_own_tenant_objects_are_found(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.a.viewer_token)
    for url in (
        f"/api/v1/tenants/{world.a.tenant.id}",
        f"/api/v1/connections/{world.a.source.id}",
        f"/api/v1/interfaces/{world.a.interface.id}",
        f"/api/v1/runs/{world.a.run.id}",
        f"/api/v1/runs/{world.a.run.id}/items",
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.text)


async def test_lists_show_only_own_tenant(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.b.admin_token)
    for url, own_id in (
        ("/api/v1/tenants", world.b.tenant.id),
        ("/api/v1/connections", world.b.source.id),
        ("/api/v1/interfaces", world.b.interface.id),
        ("/api/v1/runs", world.b.run.id),
    ):
        ids = {row["id"] for row in (await client.get(url, headers=headers)).json()}
        assert str(own_id) in ids, url
        assert not ids & {
            str(world.a.tenant.id),
            str(world.a.source.id),
            str(world.a.interface.id),
            str(world.a.run.id),
        }, url
    users = (await client.get("/api/v1/users", headers=headers)).json()
    assert {u["email"] for u in users} == {
        "admin@tenant-b.example.com",
        "viewer@tenant-b.example.com",
    }


async def test_operator_sees_every_tenant(client: httpx.AsyncClient, world: World) -> None:
    headers = bearer(world.operator_token)
    for tenant_world in (world.a, world.b):
        response = await client.get(
            f"/api/v1/interfaces/{tenant_world.interface.id}", headers=headers
        )
        assert response.status_code == 200


async def test_tenant_id_in_body_cannot_move_a_user_to_another_tenant(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    response = await client.post(
        "/api/v1/users",
        headers=bearer(world.b.admin_token),
        json={
            "email": "intruder@example.com",
            "password": "a long enough password",
            "role": "viewer",
            "tenant_id": str(world.a.tenant.id),
        },
    )
    assert response.status_code == 201
    assert response.json()["tenant_id"] == str(world.b.tenant.id)


async def test_interface_cannot_join_connections_of_two_tenants(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    response = await client.post(
        "/api/v1/interfaces",
        headers=bearer(world.operator_token),
        json={
            "name": "mixed",
            "source_connection_id": str(world.a.source.id),
            "hubspot_connection_id": str(world.b.hubspot.id),
        },
    )
    assert response.status_code == 404
    count = (await db.execute(select(func.count()).select_from(Interface))).scalar_one()
    assert count == 2


async def test_session_scope_hook_blocks_unfiltered_queries(web_app: FastAPI, world: World) -> None:
    """Defence in depth: even a query that forgets the tenant filter sees one tenant only."""
    from app.core.tenancy import TenantScope, bind_scope

    async with web_app.state.web.session_factory() as session:
        bind_scope(session, TenantScope.only(world.b.tenant.id))
        names = set((await session.execute(select(Interface.name))).scalars())
        connections = (await session.execute(select(Connection))).scalars().all()
        audit = (await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    assert names == {"tenant-b-companies"}
    assert {c.tenant_id for c in connections} == {world.b.tenant.id}
    assert audit >= 0
