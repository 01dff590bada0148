"""Übersicht: health, runs and activity per interface, live while a run is in progress."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import event, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import NotFound
from app.models import Interface, SyncRun
from app.models.base import utcnow
from app.models.enums import ErrorCategory, Health, InterfaceState, RunStatus, RunTrigger
from app.sync import dashboard
from app.ui import dashboard as ui_dashboard
from app.ui.formatting import swiss_datetime
from app.web import WebState
from tests.factories import World, build_tenant
from tests.ui.test_pages import CANARY
from tests.ui_session import csrf_from, sign_in

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}


async def add_run(
    db: AsyncSession,
    interface: Interface,
    *,
    hours_ago: float,
    counts: dict[str, dict[str, int]] | None = None,
    status: RunStatus = RunStatus.succeeded,
    dry_run: bool = False,
) -> SyncRun:
    """A run of ``interface`` that started ``hours_ago`` hours ago."""
    started = utcnow() - timedelta(hours=hours_ago)
    run = SyncRun(
        tenant_id=interface.tenant_id,
        interface_id=interface.id,
        trigger=RunTrigger.schedule,
        status=status,
        dry_run=dry_run,
        started_at=started,
        finished_at=None if status is RunStatus.running else started + timedelta(minutes=2),
        counts=counts or {},
    )
    db.add(run)
    await db.commit()
    return run


async def age_world_runs(db: AsyncSession, world: World) -> None:
    """Move the fixture's runs (started when the world was built) three hours back."""
    await db.execute(
        update(SyncRun)
        .where(SyncRun.id.in_([world.a.run.id, world.b.run.id]))
        .values(started_at=utcnow() - timedelta(hours=3))
    )
    await db.commit()


def main_of(html: str) -> str:
    """The page's <main> (the navigation has its own forms)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


class TestDashboardPage:
    async def test_shows_each_interface_in_german_with_its_runs(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        interface = world.a.interface
        await age_world_runs(db, world)
        await add_run(db, interface, hours_ago=30, counts={"companies": {"created": 400}})
        last = await add_run(
            db, interface, hours_ago=1, counts={"companies": {"created": 1_234_000, "updated": 567}}
        )
        await sign_in(client, world.a.admin.email)
        text = main_of((await client.get("/ui/")).text)
        assert "tenant-a-companies" in text
        assert "erp · customers" in text
        assert "HubSpot · companies" in text
        assert "nach HubSpot" in text  # the direction in words, not only an arrow
        assert 'data-status="warning"' in text
        assert "Warnung" in text
        assert "1 record failed in the last run" in text
        assert f'href="/ui/runs/{last.id}"' in text
        assert swiss_datetime(last.finished_at) in text
        assert "Erfolgreich" in text
        assert "Synchronisiert: 1&#39;234&#39;567" in text
        assert '<strong class="num">1&#39;234&#39;567</strong>' in text
        assert "308&#39;542 % mehr als am Vortag" in text  # 1'234'567 against 400
        assert re.search(r'role="img"[^>]*aria-label="Synchronisierte Datensätze pro Stunde', text)
        assert "0, 1234567, 0" in text  # the hour before last in the sparkline's label
        assert 'href="/ui/errors?interface=' in text  # the open failed record
        assert "Jetzt synchronisieren" in text
        assert f'action="/ui/interfaces/{interface.id}/run"' in text
        assert re.search(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}", text)
        assert "in 15 Min." in text or "in 14 Min." in text

    async def test_errors_and_warnings_come_first_with_counts_as_filters(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await db.execute(
            update(Interface)
            .where(Interface.id == world.b.interface.id)
            .values(health=Health.error, health_reason="Das Quellsystem hat nicht geantwortet")
        )
        await db.commit()
        await sign_in(client, world.operator.email)
        text = main_of((await client.get("/ui/")).text)
        assert text.index("tenant-b-companies") < text.index("tenant-a-companies")
        assert "Alle Schnittstellen (2)" in text
        assert 'href="/ui/?status=error"' in text
        assert "1 Fehler" in text
        assert "Tenant TENANT-A" in text  # operators see whose interface it is
        only_errors = main_of((await client.get("/ui/?status=error")).text)
        assert "tenant-b-companies" in only_errors
        assert "tenant-a-companies" not in only_errors
        assert "Das Quellsystem hat nicht geantwortet" in only_errors
        none = main_of((await client.get("/ui/?status=paused")).text)
        assert "Keine Schnittstelle mit Status Pausiert." in none
        assert "Alle Schnittstellen anzeigen" in none
        stale = await client.get("/ui/?status=nonsense&tenant=not-a-uuid")
        assert stale.status_code == 200
        assert "tenant-a-companies" in stale.text

    async def test_revoked_hubspot_access_offers_reconnect(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await age_world_runs(db, world)
        failed = await add_run(db, world.a.interface, hours_ago=0.1, status=RunStatus.failed)
        failed.error_category = ErrorCategory.config
        failed.error_summary = "RefreshFailed: HubSpot access was revoked; reconnect HubSpot"
        hiccup = await add_run(db, world.b.interface, hours_ago=0.1, status=RunStatus.failed)
        hiccup.error_category = ErrorCategory.transient
        hiccup.error_summary = "RateLimited: HubSpot answered 429"
        await db.commit()
        await sign_in(client, world.operator.email)
        text = main_of((await client.get("/ui/")).text)
        reconnect = f'href="/ui/connections/{world.a.interface.hubspot_connection_id}/hubspot"'
        assert f'<a class="reconnect" {reconnect}>HubSpot neu verbinden</a>' in text
        assert text.count('class="reconnect"') == 1  # not for a passing HubSpot hiccup

    async def test_operator_filters_by_tenant(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.operator.email)
        page = main_of((await client.get("/ui/")).text)
        assert '<label for="tenant-filter">Mandant</label>' in page
        text = main_of((await client.get(f"/ui/?tenant={world.b.tenant.id}")).text)
        assert "tenant-b-companies" in text
        assert "tenant-a-companies" not in text

    async def test_viewer_sees_everything_but_no_actions(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.viewer.email)
        text = main_of((await client.get("/ui/")).text)
        assert "tenant-a-companies" in text
        assert "<form" not in text
        assert "Jetzt synchronisieren" not in text

    async def test_another_tenant_sees_nothing_of_mine(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.b.admin.email)
        for path in ("/ui/", "/ui/dashboard/live", "/ui/?status=warning"):
            text = (await client.get(path)).text
            assert "tenant-b-companies" in text
            assert "tenant-a-companies" not in text
            assert str(world.a.interface.id) not in text

    async def test_time_makes_health_worse(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        now = utcnow()
        await db.execute(
            update(Interface)
            .where(Interface.id == world.a.interface.id)
            .values(health=Health.ok, last_run_at=now - timedelta(minutes=50))
        )
        await db.execute(
            update(Interface)
            .where(Interface.id == world.b.interface.id)
            .values(
                health=Health.ok,
                last_run_at=now - timedelta(minutes=25),
                next_run_at=now - timedelta(minutes=20),
            )
        )
        await db.commit()
        await sign_in(client, world.operator.email)
        text = main_of((await client.get("/ui/")).text)
        assert "Seit 50 Min. kein Lauf abgeschlossen (Intervall 15 Min.)." in text
        assert "Der geplante Lauf ist seit 20 Min. überfällig." in text
        assert text.count('data-status="error"><span aria-hidden="true">✕</span> Fehler') == 1

    async def test_escapes_hostile_names(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        interface = await db.get(Interface, world.a.interface.id)
        assert interface is not None
        interface.name, interface.health_reason = CANARY, CANARY
        await db.commit()
        await add_run(db, interface, hours_ago=0.1, status=RunStatus.running)
        await sign_in(client, world.a.admin.email)
        for path in ("/ui/", "/ui/dashboard/live", "/ui/interfaces"):
            text = (await client.get(path, headers=PARTIAL if "live" in path else {})).text
            assert "<script>alert(1)</script>" not in text
            assert "onerror=alert(1)><b" not in text
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


class TestDashboardLive:
    async def test_polls_while_a_run_is_in_progress_and_stops_after(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await sign_in(client, world.a.admin.email)
        idle = (await client.get("/ui/")).text
        assert 'id="dashboard-live"' in idle
        assert "hx-trigger" not in main_of(idle)  # nothing runs: nothing polls
        run = await add_run(db, world.a.interface, hours_ago=0.05, status=RunStatus.running)
        busy = (await client.get("/ui/?status=running")).text
        assert 'hx-get="/ui/dashboard/live?status=running"' in busy
        assert 'hx-trigger="every 30s"' in busy
        assert 'hx-swap="outerHTML"' in busy
        assert f'href="/ui/runs/{run.id}"' in busy
        assert "Läuft" in busy
        fragment = await client.get("/ui/dashboard/live?status=running", headers=PARTIAL)
        assert fragment.status_code == 200
        assert fragment.text.lstrip().startswith('<section id="dashboard-live"')
        assert "<html" not in fragment.text
        assert 'hx-trigger="every 30s"' in fragment.text
        assert "HX-Request-Type" in fragment.headers["Vary"]
        run.status, run.finished_at = RunStatus.succeeded, utcnow()
        await db.commit()
        done = await client.get("/ui/dashboard/live?status=running", headers=PARTIAL)
        assert 'id="dashboard-live"' in done.text
        assert "hx-trigger" not in done.text  # the server stops the polling

    async def test_a_dry_run_is_not_a_running_run(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await add_run(db, world.a.interface, hours_ago=0.05, status=RunStatus.running, dry_run=True)
        await sign_in(client, world.a.admin.email)
        assert "hx-trigger" not in main_of((await client.get("/ui/")).text)

    async def test_page_route_answers_a_partial_request_with_the_block(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        full = await client.get("/ui/")
        partial = await client.get("/ui/", headers=PARTIAL)
        assert "<html" in full.text
        assert "<html" not in partial.text
        assert "tenant-a-companies" in partial.text


class TestLanguageSwitch:
    async def test_english_is_one_click_away_and_sticks(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        page = (await client.get("/ui/interfaces")).text
        assert 'action="/ui/language"' in page
        assert ">English</button>" in page
        switched = await client.post(
            "/ui/language", data={"csrf_token": token, "lang": "en", "next": "/ui/interfaces"}
        )
        assert switched.status_code == 303
        assert switched.headers["location"] == "/ui/interfaces"
        english = (await client.get("/ui/")).text
        assert '<html lang="en"' in english
        assert "<h1>Dashboard</h1>" in english
        assert "Sync now" in english
        assert ">Deutsch</button>" in english
        back = await client.post(
            "/ui/language",
            data={"csrf_token": token, "lang": "de", "next": "https://evil.example.com/"},
            headers={"HX-Request": "true"},
        )
        assert back.status_code == 204
        assert back.headers["HX-Redirect"] == "/ui/"
        assert "<h1>Übersicht</h1>" in (await client.get("/ui/")).text

    async def test_needs_the_csrf_token(self, client: httpx.AsyncClient, world: World) -> None:
        await sign_in(client, world.a.admin.email)
        refused = await client.post("/ui/language", data={"lang": "en"})
        assert refused.status_code == 403
        assert "hubsync_lang" not in refused.headers.get("set-cookie", "")


class TestOverviewService:
    async def test_a_fixed_number_of_queries_for_any_number_of_interfaces(
        self, world: World, db: AsyncSession, web: WebState
    ) -> None:
        async def statements() -> int:
            seen: list[str] = []

            def count(*args: object) -> None:
                seen.append(str(args[2]))

            event.listen(web.engine.sync_engine, "before_cursor_execute", count)
            try:
                rows = await dashboard.overview(db, actor=Actor.system())
            finally:
                event.remove(web.engine.sync_engine, "before_cursor_execute", count)
            assert rows
            return len(seen)

        await add_run(db, world.a.interface, hours_ago=2, counts={"companies": {"updated": 3}})
        await add_run(db, world.a.interface, hours_ago=0.1, status=RunStatus.running)
        few = await statements()
        for n in range(6):
            extra = await build_tenant(db, f"tenant-x{n}")
            await add_run(db, extra.interface, hours_ago=1, counts={"companies": {"created": n}})
            await add_run(db, extra.interface, hours_ago=0.1, status=RunStatus.running)
        await db.commit()
        many = await statements()
        assert many == few <= 10

    async def test_activity_counts_written_records_per_hour(
        self, world: World, db: AsyncSession
    ) -> None:
        interface = world.a.interface
        await age_world_runs(db, world)
        counts = {"companies": {"created": 2, "updated": 3, "unchanged": 50, "deleted": 1},
                  "contacts": {"created": 4, "failed": 9}}  # fmt: skip
        await add_run(db, interface, hours_ago=0.5, counts=counts)
        await add_run(db, interface, hours_ago=25, counts={"companies": {"updated": 5}})
        await add_run(db, interface, hours_ago=0.2, counts=counts, dry_run=True)
        await add_run(db, interface, hours_ago=60, counts={"companies": {"updated": 99}})
        rows = await dashboard.overview(db, actor=Actor.system())
        row = next(r for r in rows if r.interface.id == interface.id)
        assert row.activity.hourly[-1] == 10
        assert row.activity.total == 10
        assert row.activity.previous == 5
        assert row.activity.trend == 100
        assert row.last_synced == 10
        assert row.open_failures == 1

    async def test_paused_and_draft_interfaces_are_never_late(
        self, world: World, db: AsyncSession
    ) -> None:
        long_ago = utcnow() - timedelta(days=3)
        for state, interface_id in (
            (InterfaceState.paused, world.a.interface.id),
            (InterfaceState.draft, world.b.interface.id),
        ):
            await db.execute(
                update(Interface)
                .where(Interface.id == interface_id)
                .values(state=state, last_run_at=long_ago, next_run_at=long_ago)
            )
        await db.commit()
        rows = await dashboard.overview(db, actor=Actor.system())
        assert {r.health for r in rows} == {Health.warning}
        assert all(r.lateness is None for r in rows)

    async def test_one_interface_of_another_tenant_is_not_found(
        self, world: World, db: AsyncSession
    ) -> None:
        viewer = Actor(role=world.b.viewer.role, tenant_id=world.b.tenant.id)
        for interface_id in (world.a.interface.id, uuid.uuid4()):
            with pytest.raises(NotFound):
                await dashboard.overview(db, actor=viewer, interface_id=interface_id)
        own = await dashboard.overview(db, actor=viewer, interface_id=world.b.interface.id)
        assert [r.interface.name for r in own] == ["tenant-b-companies"]


class TestBoard:
    async def test_a_page_of_rows_with_the_counts_and_tenants_of_all(
        self, world: World, db: AsyncSession
    ) -> None:
        await build_tenant(db, "tenant-c")
        await db.commit()
        actor = Actor.system()
        first = await dashboard.board(db, actor=actor, filters=dashboard.BoardFilter(), per_page=2)
        assert (first.page, first.pages, first.matching, first.total) == (1, 2, 3, 3)
        assert sum(first.counts[h.value] for h in Health) == 3
        assert [name for name, _id in first.tenants] == ["Tenant TENANT-A", "Tenant TENANT-B",
                                                         "Tenant TENANT-C"]  # fmt: skip
        beyond = dashboard.BoardFilter(page=9)  # a stale link: the last page
        last = await dashboard.board(db, actor=actor, filters=beyond, per_page=2)
        assert (last.page, last.first, len(last.rows)) == (2, 3, 1)
        names = {r.interface.name for r in [*first.rows, *last.rows]}
        assert names == {"tenant-a-companies", "tenant-b-companies", "tenant-c-companies"}
        assert all(r.source is not None and r.flows for r in last.rows)  # details of the page

    async def test_filters_narrow_the_rows_and_the_tenant_the_counts(
        self, world: World, db: AsyncSession
    ) -> None:
        await db.execute(
            update(Interface)
            .where(Interface.id == world.b.interface.id)
            .values(health=Health.error)
        )
        await db.commit()
        actor = Actor.system()
        errors = dashboard.BoardFilter(status="error")
        found = await dashboard.board(db, actor=actor, filters=errors, per_page=10)
        assert [r.interface.name for r in found.rows] == ["tenant-b-companies"]
        assert (found.matching, found.total, found.counts["error"]) == (1, 2, 1)
        own = dashboard.BoardFilter(tenant_id=world.a.tenant.id)
        found = await dashboard.board(db, actor=actor, filters=own, per_page=10)
        assert [r.interface.name for r in found.rows] == ["tenant-a-companies"]
        assert (found.total, found.counts["error"], len(found.tenants)) == (1, 0, 2)

    async def test_a_tenant_sees_only_its_own(self, world: World, db: AsyncSession) -> None:
        admin = Actor(role=world.a.admin.role, tenant_id=world.a.tenant.id)
        found = await dashboard.board(db, actor=admin, filters=dashboard.BoardFilter(), per_page=10)
        assert [r.interface.name for r in found.rows] == ["tenant-a-companies"]
        assert found.total == 1

    async def test_the_page_links_to_its_neighbours(
        self,
        client: httpx.AsyncClient,
        world: World,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(ui_dashboard, "DASHBOARD_PAGE", 1)
        await sign_in(client, world.operator.email)
        first = main_of((await client.get("/ui/")).text)
        assert "Schnittstellen 1–1 von 2" in first
        assert 'href="/ui/?page=2">Weitere Schnittstellen</a>' in first
        assert "Vorherige Schnittstellen" not in first
        second = main_of((await client.get("/ui/?page=2")).text)
        assert 'href="/ui/">Vorherige Schnittstellen</a>' in second
        assert "Weitere Schnittstellen" not in second
        shown = [n for n in ("tenant-a-companies", "tenant-b-companies") if n in second]
        assert len(shown) == 1
        assert shown[0] not in first
        swapped = await client.get("/ui/?page=2", headers=PARTIAL)  # the pager's htmx request
        assert swapped.text.lstrip().startswith('<section id="dashboard-live"')
        assert "<main" not in swapped.text
        refused = await client.get("/ui/?page=0")
        assert refused.status_code == 422


async def test_dashboard_csrf_token_is_in_every_action_form(
    client: httpx.AsyncClient, world: World
) -> None:
    token = await sign_in(client, world.a.admin.email)
    text = main_of((await client.get("/ui/")).text)
    forms = re.findall(r"<form .*?</form>", text, re.S)
    assert forms
    for form in forms:
        assert 'method="post"' in form
        assert 'hx-disable="find button"' in form
        assert csrf_from(form) == token
