"""CSRF: every state-changing UI route needs the token bound to the caller's session."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, UserSession
from tests.factories import PASSWORD, World
from tests.routes import UNSAFE_METHODS, ui_operations
from tests.ui_session import csrf_from, sign_in


def unsafe_ui_routes() -> list[tuple[str, str]]:
    """Every state-changing UI route (walked from the router, so new ones are covered)."""
    routes = [(m, p) for m, p in ui_operations() if m in UNSAFE_METHODS]
    assert routes, "no unsafe UI routes found"
    return routes


async def state_of(db: AsyncSession) -> tuple[int, int]:
    """What a state-changing request could alter: sessions and audit rows."""
    sessions = (await db.execute(select(func.count()).select_from(UserSession))).scalar_one()
    audits = (await db.execute(select(func.count()).select_from(AuditEntry))).scalar_one()
    return sessions, audits


@pytest.mark.parametrize(("method", "path"), unsafe_ui_routes())
async def test_unsafe_route_without_token_is_refused(
    client: httpx.AsyncClient, world: World, db: AsyncSession, method: str, path: str
) -> None:
    await sign_in(client, world.a.admin.email)
    before = await state_of(db)
    data = {"email": world.a.admin.email, "password": PASSWORD}
    response = await client.request(method, path, data=data)
    assert response.status_code == 403
    db.expire_all()
    assert await state_of(db) == before


@pytest.mark.parametrize(("method", "path"), unsafe_ui_routes())
async def test_unsafe_route_with_another_sessions_token_is_refused(
    client: httpx.AsyncClient,
    web_app: object,
    world: World,
    db: AsyncSession,
    method: str,
    path: str,
) -> None:
    transport = httpx.ASGITransport(app=web_app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as other:
        foreign_token = await sign_in(other, world.b.admin.email)
    await sign_in(client, world.a.admin.email)
    before = await state_of(db)
    response = await client.request(
        method,
        path,
        data={"csrf_token": foreign_token, "email": world.a.admin.email, "password": PASSWORD},
    )
    assert response.status_code == 403
    db.expire_all()
    assert await state_of(db) == before


async def test_login_form_needs_its_presession_token(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.post(
        "/ui/login", data={"email": world.a.admin.email, "password": PASSWORD}
    )
    assert response.status_code == 403


async def test_token_in_htmx_header_is_accepted(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"}
    )
    assert response.status_code == 303
    assert (await state_of(db))[0] == 0


async def test_cross_site_fetch_is_refused_even_with_token(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/logout", data={"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert (await state_of(db))[0] == 1


async def test_foreign_origin_is_refused(client: httpx.AsyncClient, world: World) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/logout", data={"csrf_token": token}, headers={"Origin": "https://evil.example.com"}
    )
    assert response.status_code == 403


async def test_same_origin_browser_post_is_accepted(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await sign_in(client, world.a.admin.email)
    response = await client.post(
        "/ui/logout",
        data={"csrf_token": token},
        headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:8000"},
    )
    assert response.status_code == 303


async def test_login_page_token_is_bound_to_the_presession(
    client: httpx.AsyncClient, world: World, web_app: object
) -> None:
    transport = httpx.ASGITransport(app=web_app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url=client.base_url) as other:
        other_token = csrf_from((await other.get("/ui/login")).text)
    await client.get("/ui/login")
    response = await client.post(
        "/ui/login",
        data={"email": world.a.admin.email, "password": PASSWORD, "csrf_token": other_token},
    )
    assert response.status_code == 403
