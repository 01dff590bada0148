"""Signing in and out: generic failures, throttling, fixation, expiry, deactivation."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry, UserSession
from app.models.base import utcnow
from app.web import WebState, cookie_name
from tests.factories import PASSWORD, World, bearer
from tests.ui_session import csrf_from, post_login, sign_in


class TestSignIn:
    async def test_correct_password_opens_a_session(
        self, client: httpx.AsyncClient, world: World, web: WebState
    ) -> None:
        response = await post_login(client, world.a.admin.email)
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/"
        cookie = response.headers["set-cookie"]
        assert cookie_name(web.settings) in cookie
        assert "HttpOnly" in cookie
        assert "samesite=lax" in cookie.lower()
        assert (await client.get("/ui/")).status_code == 200

    async def test_wrong_password_and_unknown_email_look_the_same(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        wrong = await post_login(client, world.a.admin.email, "not the password")
        unknown = await post_login(client, "nobody@example.com", "not the password")
        assert wrong.status_code == unknown.status_code == 401
        assert "E-Mail oder Passwort ist falsch." in wrong.text
        assert "E-Mail oder Passwort ist falsch." in unknown.text
        assert (await client.get("/ui/")).status_code == 303

    async def test_failed_sign_in_is_audited_without_the_email(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await post_login(client, world.a.admin.email, "not the password")
        entries = (
            (await db.execute(select(AuditEntry).where(AuditEntry.action == "login.failed")))
            .scalars()
            .all()
        )
        assert len(entries) == 1
        assert world.a.admin.email not in str(entries[0].details)
        assert entries[0].target_id == str(world.a.admin.id)

    async def test_throttled_after_repeated_failures(
        self, client: httpx.AsyncClient, world: World, web: WebState
    ) -> None:
        for _ in range(web.settings.login_max_failures):
            assert (await post_login(client, world.a.admin.email, "wrong")).status_code == 401
        blocked = await post_login(client, world.a.admin.email)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "Zu viele fehlgeschlagene Anmeldeversuche" in blocked.text

    async def test_throttle_expires_after_its_delay(
        self, client: httpx.AsyncClient, world: World, web: WebState, db: AsyncSession
    ) -> None:
        from app.models import LoginThrottle

        for _ in range(web.settings.login_max_failures):
            await post_login(client, world.a.admin.email, "wrong")
        await db.execute(
            update(LoginThrottle).values(last_failure_at=utcnow() - timedelta(minutes=16))
        )
        await db.commit()
        assert (await post_login(client, world.a.admin.email)).status_code == 303

    async def test_a_deactivated_user_cannot_sign_in(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        world.a.viewer.is_active = False
        db.add(world.a.viewer)
        await db.commit()
        assert (await post_login(client, world.a.viewer.email)).status_code == 401

    async def test_next_only_follows_local_ui_paths(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        form = await client.get("/ui/login")
        response = await client.post(
            "/ui/login",
            data={
                "email": world.a.admin.email,
                "password": PASSWORD,
                "csrf_token": csrf_from(form.text),
                "next": "https://evil.example.com/ui/",
            },
        )
        assert response.headers["location"] == "/ui/"


class TestSessions:
    async def test_new_session_id_on_sign_in(
        self, client: httpx.AsyncClient, world: World, web: WebState
    ) -> None:
        name = cookie_name(web.settings)
        token = await sign_in(client, world.a.admin.email)
        first = client.cookies[name]
        again = await client.post(
            "/ui/login",
            data={"email": world.a.admin.email, "password": PASSWORD, "csrf_token": token},
        )
        assert again.status_code == 303
        second = client.cookies[name]
        assert first != second
        client.cookies.set(name, first)
        assert (await client.get("/ui/")).status_code == 303

    async def test_sign_out_ends_the_session(
        self, client: httpx.AsyncClient, world: World, web: WebState, db: AsyncSession
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        cookie = client.cookies[cookie_name(web.settings)]
        response = await client.post("/ui/logout", data={"csrf_token": token})
        assert response.status_code == 303
        assert "cookies" in response.headers["clear-site-data"]
        count = (await db.execute(select(func.count()).select_from(UserSession))).scalar_one()
        assert count == 0
        client.cookies.set(cookie_name(web.settings), cookie)
        assert (await client.get("/ui/")).status_code == 303

    async def test_idle_session_expires(
        self, client: httpx.AsyncClient, world: World, web: WebState, db: AsyncSession
    ) -> None:
        await sign_in(client, world.a.admin.email)
        idle = web.session_policy.idle + timedelta(minutes=1)
        await db.execute(update(UserSession).values(last_seen_at=utcnow() - idle))
        await db.commit()
        assert (await client.get("/ui/")).status_code == 303

    async def test_operator_idle_timeout_is_shorter(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await sign_in(client, world.operator.email)
        await db.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
        await db.commit()
        assert (await client.get("/ui/")).status_code == 303

    async def test_absolute_expiry(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await sign_in(client, world.a.admin.email)
        await db.execute(update(UserSession).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
        assert (await client.get("/ui/")).status_code == 303

    async def test_forged_cookie_is_refused(
        self, client: httpx.AsyncClient, world: World, web: WebState
    ) -> None:
        await sign_in(client, world.a.admin.email)
        name = cookie_name(web.settings)
        session_id, _, signature = client.cookies[name].partition(".")
        client.cookies.set(name, f"{session_id}.{'0' * len(signature)}")
        assert (await client.get("/ui/")).status_code == 303

    async def test_deactivation_ends_live_session_and_token(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.viewer.email)
        response = await client.post(
            f"/api/v1/users/{world.a.viewer.id}/deactivate",
            headers=bearer(world.a.admin_token),
        )
        assert response.status_code == 200
        assert (await client.get("/ui/")).status_code == 303
        api = await client.get("/api/v1/me", headers=bearer(world.a.viewer_token))
        assert api.status_code == 401

    async def test_htmx_request_without_session_gets_hx_redirect(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        response = await client.get(
            "/ui/runs", headers={"HX-Request": "true", "HX-Request-Type": "partial"}
        )
        assert response.status_code == 401
        assert response.headers["hx-redirect"] == "/ui/login?next=/ui/runs"


async def test_sign_in_logs_neither_password_nor_email(
    client: httpx.AsyncClient, world: World, captured_logs: io.StringIO
) -> None:
    canary = "canary-password-9d2f71"
    await post_login(client, world.a.admin.email, canary)
    await post_login(client, world.a.admin.email)
    logs = captured_logs.getvalue()
    assert "path=/ui/login" in logs or '"path": "/ui/login"' in logs
    assert canary not in logs
    assert world.a.admin.email not in logs
    assert PASSWORD not in logs
