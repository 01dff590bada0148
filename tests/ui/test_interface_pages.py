"""Schnittstellen: list, detail tabs, actions (run, dry run, schedule, approval) and who may act."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.models import AuditEntry, Connection, Interface, MappingVersion, RunItem, SyncRun
from app.models.enums import InterfaceState, ItemAction, ItemStatus, RunStatus, SyncDirection
from app.sync import dashboard
from app.sync.versions import create_version
from app.ui import interface_pages
from app.web import WebState
from tests.api.test_run_now import applied_interface
from tests.factories import MAPPING_YAML, World
from tests.routes import PATH_PARAM, ui_operations
from tests.test_cli_run import erp_url, sandbox_url
from tests.ui.test_dashboard import PARTIAL, add_run, main_of
from tests.ui.test_pages import CANARY
from tests.ui_session import sign_in

__all__ = ["erp_url", "sandbox_url"]  # fixtures used by name
HTMX = {"HX-Request": "true"}
CHANGED = MAPPING_YAML + "      - {source: city, hubspot: city, transform: trim}\n"


def interface_routes(method: str) -> list[str]:
    """Every UI route of one interface (walked from the router, so new ones are covered)."""
    return [p for m, p in ui_operations() if m == method and p.startswith("/ui/interfaces/{")]


def fill(path: str, ids: dict[str, uuid.UUID]) -> str:
    return PATH_PARAM.sub(lambda m: str(ids[m.group(1)]), path)


async def audits(db: AsyncSession, action: str) -> int:
    statement = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    return int((await db.execute(statement)).scalar_one())


async def draft_version(db: AsyncSession, world: World) -> MappingVersion:
    outcome = await create_version(
        db, actor=Actor.system("test"), interface_id=world.a.interface.id, yaml_text=CHANGED
    )
    await db.commit()
    return outcome.version


async def until_finished(client: httpx.AsyncClient, url: str) -> httpx.Response:
    """Poll ``url`` as htmx does until the answer no longer polls."""
    for _ in range(300):
        response = await client.get(url, headers=PARTIAL)
        if "hx-trigger" not in response.text:
            return response
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} still polls")


async def wait_for_runs(web: WebState) -> None:
    """Let background runs release their leases before the tables are emptied."""
    for _ in range(300):
        if not web.executor.active:
            break
        await asyncio.sleep(0.02)
    await dashboard.drain_dry_runs()


class TestPages:
    async def test_list_in_german_with_state_interval_and_version(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        text = main_of((await client.get("/ui/interfaces")).text)
        assert "<h1>Schnittstellen</h1>" in text
        assert f'href="/ui/interfaces/{world.a.interface.id}"' in text
        assert "Aktiv" in text
        assert "15 Min." in text
        assert "v1" in text
        assert "Mapping-Version" in text
        assert "Zustand" in text
        assert "tenant-b-companies" not in text

    async def test_list_pages_through_many_interfaces(
        self, client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(interface_pages, "INTERFACES_PAGE", 1)
        await sign_in(client, world.operator.email)
        first = main_of((await client.get("/ui/interfaces")).text)
        assert "Schnittstellen 1–1 von 2" in first
        assert 'href="/ui/interfaces?page=2">Weitere Schnittstellen</a>' in first
        second = main_of((await client.get("/ui/interfaces?page=2")).text)
        assert 'href="/ui/interfaces?page=1">Vorherige Schnittstellen</a>' in second
        names = ("tenant-a-companies", "tenant-b-companies")
        assert [n in first for n in names] == [n not in second for n in names]
        assert sum(n in second for n in names) == 1
        assert (await client.get("/ui/interfaces?page=0")).status_code == 422

    async def test_detail_shows_run_schedule_connections_and_mapping(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        text = main_of((await client.get(f"/ui/interfaces/{world.a.interface.id}")).text)
        assert "<h1>tenant-a-companies</h1>" in text
        assert "Letzter Lauf" in text
        assert "Mit Fehlern" in text
        assert "0 erstellt, 0 aktualisiert, 0 gelöscht, 0 übersprungen, 1 fehlgeschlagen" in text
        assert '<label for="interval">Intervall in Minuten</label>' in text
        assert '<option value="15" selected>' in text
        assert "Quellsystem: erp" in text
        assert "HubSpot-Portal: hubspot" in text
        assert "Hub-ID 1008" in text
        assert f'href="/ui/connections/{world.a.source.id}"' in text
        assert "Es läuft Version 1, freigegeben von admin@tenant-a.example.com" in text
        for label in ("Jetzt synchronisieren", "Probelauf", "Pausieren"):
            assert f">{label}</button>" in text
        assert 'aria-current="page">Übersicht</a>' in text
        assert f'href="/ui/runs?interface={world.a.interface.id}"' in text

    async def test_viewer_sees_everything_without_controls(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.viewer.email)
        base = f"/ui/interfaces/{world.a.interface.id}"
        for path in (base, f"{base}/mapping", f"{base}/versions"):
            response = await client.get(path)
            assert response.status_code == 200, path
            assert "<form" not in main_of(response.text), path
        detail = main_of((await client.get(base)).text)
        assert "Alle 15 Minuten" in detail
        assert "Verbindung anzeigen" in detail

    async def test_mapping_table_is_readable(self, client: httpx.AsyncClient, world: World) -> None:
        await sign_in(client, world.a.viewer.email)
        text = main_of((await client.get(f"/ui/interfaces/{world.a.interface.id}/mapping")).text)
        assert "Version 1, freigegeben: Mit dieser Tabelle läuft die Schnittstelle." in text
        assert "<caption>" in text
        assert "Konfliktregel</th>" in text
        assert re.search(r"<code>customer_no</code>\s*<span class=\"tag\">Schlüssel</span>", text)
        assert re.search(r"<code>erp_customer_no</code> <span class=\"tag\">Abgleichsfeld", text)
        assert "nach HubSpot" in text
        assert "unverändert übernommen" in text
        assert "neuere gewinnt" in text
        assert 'export?format=xlsx" download' in text

    async def test_versions_tab_shows_drafts_diffs_and_approves(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        draft = await draft_version(db, world)
        base = f"/ui/interfaces/{world.a.interface.id}"
        token = await sign_in(client, world.a.admin.email)
        text = main_of((await client.get(f"{base}/versions")).text)
        assert "Version 2" in text
        assert "Entwurf" in text
        assert "Aktiv" in text
        assert '<span class="added">+      - {source: city, hubspot: city, transform: trim}' in text
        approve = f"{base}/versions/{draft.id}/approve"
        assert f'action="{approve}"' in text
        assert "hx-confirm=" in text
        drafted = main_of((await client.get(f"{base}/mapping?version={draft.id}")).text)
        assert "Version 2 ist ein Entwurf" in drafted
        assert "<code>trim</code>" in drafted
        response = await client.post(approve, data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == f"{base}/versions"
        interface = await db.get(Interface, world.a.interface.id, populate_existing=True)
        assert interface is not None
        assert interface.active_mapping_version_id == draft.id
        assert await audits(db, "mapping.approve") == 1
        after = main_of((await client.get(f"{base}/versions")).text)
        assert "Diese Version wieder verwenden" in after  # version 1 can be rolled back to

    async def test_export_downloads_the_sign_off_document(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.viewer.email)
        url = f"/ui/interfaces/{world.a.interface.id}/versions/{world.a.version.id}/export"
        response = await client.get(url, params={"format": "csv"})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        assert "erp_customer_no" in response.text

    async def test_escapes_hostile_names(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        interface = await db.get(Interface, world.a.interface.id)
        source = await db.get(Connection, world.a.source.id)
        assert interface is not None
        assert source is not None
        interface.name = interface.health_reason = source.name = CANARY
        run = await add_run(db, interface, hours_ago=0.1, status=RunStatus.succeeded, dry_run=True)
        db.add(RunItem(tenant_id=interface.tenant_id, run_id=run.id, interface_id=interface.id,
                       object_name="companies", direction=SyncDirection.to_hubspot,
                       action=ItemAction.create, status=ItemStatus.succeeded, source_key=CANARY,
                       payload={"properties": {"name": CANARY}}))  # fmt: skip
        await db.commit()
        await sign_in(client, world.a.admin.email)
        base = f"/ui/interfaces/{interface.id}"
        for path in (base, f"{base}/mapping", f"{base}/versions", f"{base}/dry-runs/{run.id}"):
            text = (await client.get(path)).text
            assert "<script>alert(1)</script>" not in text, path
            assert "onerror=alert(1)><b" not in text, path
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


async def test_every_page_renders_whole_and_as_a_fragment(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    dry = await add_run(db, world.a.interface, hours_ago=0.1, dry_run=True)
    ids = {"interface_id": world.a.interface.id, "version_id": world.a.version.id,
           "run_id": dry.id}  # fmt: skip
    await sign_in(client, world.a.admin.email)
    paths = ["/ui/", "/ui/dashboard/live", "/ui/interfaces", *interface_routes("GET")]
    for path in paths:
        for headers in ({}, PARTIAL):
            response = await client.get(fill(path, ids), headers=headers)
            assert response.status_code == 200, (path, headers, response.status_code)
            assert response.headers["cache-control"] == "no-store", path


class TestWhoMayAct:
    async def test_another_tenant_gets_404_on_every_interface_route(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        ids = {"interface_id": world.a.interface.id, "version_id": world.a.version.id,
               "run_id": world.a.run.id}  # fmt: skip
        for email in (world.b.admin.email, world.b.viewer.email):
            client.cookies.clear()
            token = await sign_in(client, email)
            before = await db.scalar(select(func.count()).select_from(AuditEntry))
            for path in interface_routes("GET"):
                response = await client.get(fill(path, ids))
                assert response.status_code == 404, (email, path, response.status_code)
            for path in interface_routes("POST"):
                data = {"csrf_token": token, "minutes": "20"}
                response = await client.post(fill(path, ids), data=data)
                assert response.status_code == 404, (email, path, response.status_code)
            assert await db.scalar(select(func.count()).select_from(AuditEntry)) == before
        assert len(interface_routes("POST")) >= 7

    async def test_viewer_posts_are_refused(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        draft = await draft_version(db, world)
        ids = {"interface_id": world.a.interface.id, "version_id": draft.id, "run_id": uuid.uuid4()}
        token = await sign_in(client, world.a.viewer.email)
        for path in interface_routes("POST"):
            for minutes in ("20", "9"):
                data = {"csrf_token": token, "minutes": minutes}
                response = await client.post(fill(path, ids), data=data)
                assert response.status_code == 403, (path, minutes, response.status_code)
        interface = await db.get(Interface, world.a.interface.id, populate_existing=True)
        assert interface is not None
        assert interface.state is InterfaceState.active
        assert interface.interval_minutes == 15
        assert interface.active_mapping_version_id == world.a.version.id
        runs = await db.scalar(select(func.count()).select_from(SyncRun))
        assert runs == 2  # the fixture's, one per tenant

    async def test_htmx_refusal_is_a_toast(self, client: httpx.AsyncClient, world: World) -> None:
        token = await sign_in(client, world.a.viewer.email)
        response = await client.post(
            f"/ui/interfaces/{world.a.interface.id}/pause",
            data={"csrf_token": token},
            headers=PARTIAL,
        )
        assert response.status_code == 403
        assert response.headers["HX-Retarget"] == "#toasts"
        assert 'role="alert"' in response.text


class TestSchedule:
    @pytest.mark.parametrize("minutes", ["9", "46", "abc", ""])
    async def test_interval_outside_the_range_returns_the_form(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession, minutes: str
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        url = f"/ui/interfaces/{world.a.interface.id}/interval"
        page = await client.post(url, data={"csrf_token": token, "minutes": minutes})
        assert page.status_code == 422
        assert "Das Intervall muss zwischen 10 und 45 Minuten liegen." in page.text
        assert 'aria-invalid="true" autofocus' in page.text
        assert "<html" in page.text  # without JS: the whole page with the form
        fragment = await client.post(
            url, data={"csrf_token": token, "minutes": minutes}, headers=PARTIAL
        )
        assert fragment.status_code == 422
        assert fragment.text.lstrip().startswith('<form id="interval-form"')
        assert "Das Intervall muss zwischen 10 und 45 Minuten liegen." in fragment.text
        interface = await db.get(Interface, world.a.interface.id, populate_existing=True)
        assert interface is not None
        assert interface.interval_minutes == 15
        assert await audits(db, "interface.interval") == 0

    async def test_interval_change_reschedules_and_is_audited(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        url = f"/ui/interfaces/{world.a.interface.id}/interval"
        response = await client.post(url, data={"csrf_token": token, "minutes": "20"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/ui/interfaces/{world.a.interface.id}"
        htmx = await client.post(url, data={"csrf_token": token, "minutes": "45"}, headers=HTMX)
        assert htmx.status_code == 204
        assert htmx.headers["HX-Location"] == f"/ui/interfaces/{world.a.interface.id}"
        interface = await db.get(Interface, world.a.interface.id, populate_existing=True)
        assert interface is not None
        assert interface.interval_minutes == 45
        assert await audits(db, "interface.interval") == 2
        page = (await client.get(f"/ui/interfaces/{world.a.interface.id}")).text
        assert '<option value="45" selected>' in page

    async def test_pause_resume_and_activate(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        base = f"/ui/interfaces/{world.a.interface.id}"
        paused = await client.post(f"{base}/pause", data={"csrf_token": token})
        assert paused.status_code == 303
        page = main_of((await client.get(base)).text)
        assert ">Fortsetzen</button>" in page
        assert "Pausiert" in page
        assert "Nächster Lauf:" in page
        assert "pausiert" in page
        dashboard_text = main_of((await client.get("/ui/")).text)
        assert 'data-status="paused"' in dashboard_text
        resumed = await client.post(f"{base}/resume", data={"csrf_token": token}, headers=HTMX)
        assert resumed.status_code == 204
        assert resumed.headers["HX-Location"] == base
        interface = await db.get(Interface, world.a.interface.id, populate_existing=True)
        assert interface is not None
        assert interface.state is InterfaceState.active
        interface.state = InterfaceState.testing
        await db.commit()
        testing = main_of((await client.get(base)).text)
        assert "Im Test" in testing
        assert ">Aktivieren</button>" in testing
        activated = await client.post(f"{base}/activate", data={"csrf_token": token})
        assert activated.status_code == 303
        await db.refresh(interface)
        assert interface.state is InterfaceState.active
        assert interface.next_run_at is not None
        for action in ("interface.pause", "interface.resume", "interface.activate"):
            assert await audits(db, action) == 1, action

    async def test_pausing_a_paused_interface_is_refused_with_a_message(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        interface = await db.get(Interface, world.a.interface.id)
        assert interface is not None
        interface.state = InterfaceState.draft
        await db.commit()
        token = await sign_in(client, world.a.admin.email)
        response = await client.post(
            f"/ui/interfaces/{interface.id}/pause", data={"csrf_token": token}
        )
        assert response.status_code == 422
        assert "only an active interface can be paused" in response.text


class TestRuns:
    async def test_run_that_cannot_start_says_why(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession, web: WebState
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        url = f"/ui/interfaces/{world.a.interface.id}/run"
        page = await client.post(url, data={"csrf_token": token})
        assert page.status_code == 422
        assert "Das ist so nicht möglich" in page.text
        assert "has no access token" in page.text
        toast = await client.post(url, data={"csrf_token": token}, headers=PARTIAL)
        assert toast.status_code == 422
        assert toast.headers["HX-Retarget"] == "#toasts"
        await wait_for_runs(web)
        assert await db.scalar(select(func.count()).select_from(SyncRun)) == 2

    async def test_dry_run_that_cannot_start_says_why(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        response = await client.post(
            f"/ui/interfaces/{world.a.interface.id}/dry-run", data={"csrf_token": token}
        )
        assert response.status_code == 422
        assert "has no access token" in response.text

    async def test_run_panel_polls_until_the_run_finishes(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = await add_run(db, world.a.interface, hours_ago=0.01, status=RunStatus.running)
        db.add(RunItem(tenant_id=run.tenant_id, run_id=run.id, interface_id=run.interface_id,
                       object_name="companies", direction=SyncDirection.to_hubspot,
                       action=ItemAction.create, status=ItemStatus.succeeded))  # fmt: skip
        await db.commit()
        await sign_in(client, world.a.admin.email)
        base = f"/ui/interfaces/{world.a.interface.id}"
        page = main_of((await client.get(base)).text)
        live = f"{base}/live?watching={run.id}"
        assert f'hx-get="{live}" hx-trigger="every 2s" hx-swap="outerHTML"' in page
        assert "Laufender Lauf" in page
        assert "Bisher: 1 erstellt" in page
        assert ">Jetzt synchronisieren</button>" not in page  # one run at a time
        still = await client.get(live, headers=PARTIAL)
        assert still.text.lstrip().startswith('<section id="run-panel"')
        assert "hx-trigger" in still.text
        assert "HX-Trigger" not in still.headers
        run.status, run.counts = RunStatus.succeeded, {"companies": {"created": 1}}
        run.finished_at = run.started_at
        await db.commit()
        done = await client.get(live, headers=PARTIAL)
        assert "hx-trigger" not in done.text
        assert done.headers["HX-Trigger"] == "run-finished"
        assert '<hx-partial hx-target="#toasts"' in done.text
        assert "Der Lauf ist abgeschlossen: 1 erstellt" in done.text
        # the header follows: no longer "Läuft", "Jetzt synchronisieren" is back
        header = done.text.split('<hx-partial hx-target="#interface-header" hx-swap="outerHTML">')
        assert len(header) == 2
        assert header[1].lstrip().startswith('<header id="interface-header"')
        assert ">Jetzt synchronisieren</button>" in header[1]
        assert 'data-status="running"' not in header[1]
        assert "interface-header" not in still.text  # not while the run is still running

    async def test_run_now_starts_a_run_in_the_background(
        self,
        client: httpx.AsyncClient,
        world: World,
        db: AsyncSession,
        web: WebState,
        erp_url: str,
        sandbox_url: str,
    ) -> None:
        interface_id = await applied_interface(db, web, world, erp_url, sandbox_url)
        base = f"/ui/interfaces/{interface_id}"
        token = await sign_in(client, world.a.admin.email)
        try:
            started = await client.post(
                f"{base}/run", data={"csrf_token": token, "back": "dashboard"}, headers=HTMX
            )
            assert started.status_code == 204
            assert started.headers["HX-Location"] == "/ui/"
            run = await db.scalar(
                select(SyncRun).where(SyncRun.interface_id == uuid.UUID(interface_id))
            )
            assert run is not None
            assert run.dry_run is False
            done = await until_finished(client, f"{base}/live?watching={run.id}")
            assert "Erfolgreich" in done.text
            assert "3 erstellt" in done.text
            assert f'href="/ui/runs/{run.id}"' in done.text
        finally:
            await wait_for_runs(web)
        page = main_of((await client.get(base)).text)
        assert "Erreichbar" in page
        assert "hx-trigger" not in page
        dashboard_text = main_of((await client.get("/ui/")).text)
        assert "Synchronisiert: 3" in dashboard_text

    async def test_dry_run_previews_what_would_change(
        self,
        client: httpx.AsyncClient,
        world: World,
        db: AsyncSession,
        web: WebState,
        erp_url: str,
        sandbox_url: str,
    ) -> None:
        interface_id = await applied_interface(db, web, world, erp_url, sandbox_url)
        base = f"/ui/interfaces/{interface_id}"
        token = await sign_in(client, world.a.admin.email)
        try:
            started = await client.post(f"{base}/dry-run", data={"csrf_token": token})
            assert started.status_code == 303
            preview = started.headers["location"]
            assert preview.startswith(f"{base}/dry-runs/")
            done = await until_finished(client, f"{preview}/live")
        finally:
            await wait_for_runs(web)
        text = done.text
        assert "Probelauf – nichts wurde geschrieben." in text
        assert "würde erstellen" in text
        assert "Würde erstellt" in text
        assert re.search(r'<td class="num">3</td>', text)
        for key in ("10001", "10002", "10003"):
            assert f"<code>{key}</code>" in text
        assert "Muster AG" in text  # the values that would be sent (admins may see them)
        page = (await client.get(preview)).text
        assert "<html" in page
        assert "Probelauf" in page
        real = await db.scalar(
            select(func.count())
            .select_from(SyncRun)
            .where(SyncRun.interface_id == uuid.UUID(interface_id), SyncRun.dry_run.is_(False))
        )
        assert real == 0
        client.cookies.clear()
        await sign_in(client, world.a.viewer.email)
        viewer = (await client.get(preview)).text
        assert "Werte sehen nur Administratoren." in viewer
        assert "Muster AG" not in viewer
        detail = main_of((await client.get(base)).text)
        assert f'href="{preview}"' in detail  # the last dry run stays reachable

    async def test_dry_run_page_polls_while_running_unless_it_was_interrupted(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        fresh = await add_run(
            db, world.a.interface, hours_ago=0.01, status=RunStatus.running, dry_run=True
        )
        stale = await add_run(
            db, world.a.interface, hours_ago=2, status=RunStatus.running, dry_run=True
        )
        await sign_in(client, world.a.admin.email)
        base = f"/ui/interfaces/{world.a.interface.id}/dry-runs"
        running = main_of((await client.get(f"{base}/{fresh.id}")).text)
        assert f'hx-get="{base}/{fresh.id}/live" hx-trigger="every 2s"' in running
        assert "Der Probelauf liest beide Systeme" in running
        interrupted = (await client.get(f"{base}/{stale.id}/live", headers=PARTIAL)).text
        assert "hx-trigger" not in interrupted
        assert "Der Probelauf wurde unterbrochen" in interrupted

    async def test_a_real_run_is_no_dry_run_page(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        url = f"/ui/interfaces/{world.a.interface.id}/dry-runs/{world.a.run.id}"
        assert (await client.get(url)).status_code == 404
