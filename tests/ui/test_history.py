"""Synchronisationsverlauf and run detail: filters, keyset pages, counts, tasks, live polling."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Interface, RunItem, SyncRun
from app.models.enums import (
    ErrorCategory,
    ItemAction,
    ItemStatus,
    RunStatus,
    RunTrigger,
    SyncDirection,
)
from tests.factories import TenantWorld, World
from tests.ui.test_pages import CANARY
from tests.ui_session import sign_in

PARTIAL = {"HX-Request": "true", "HX-Request-Type": "partial"}
T0 = datetime(2025, 3, 7, 13, 5, tzinfo=UTC)  # 14:05 in Zurich
RUN_LINK = re.compile(r'href="/ui/runs/([0-9a-f-]{36})" class="run-link"')
TASK_KEY = re.compile(r'<th scope="row">(T-\d+)</th>')


def add_run(
    db: AsyncSession,
    tw: TenantWorld,
    *,
    started_at: datetime,
    status: RunStatus = RunStatus.succeeded,
    trigger: RunTrigger = RunTrigger.schedule,
    counts: dict[str, dict[str, int]] | None = None,
    seconds: float | None = 134,
    **extra: object,
) -> SyncRun:
    run = SyncRun(
        tenant_id=tw.tenant.id,
        interface_id=tw.interface.id,
        mapping_version_id=tw.version.id,
        trigger=trigger,
        status=status,
        started_at=started_at,
        finished_at=None if seconds is None else started_at + timedelta(seconds=seconds),
        counts=counts if counts is not None else {"companies": {"created": 2, "updated": 1234}},
        **extra,
    )
    db.add(run)
    return run


def add_item(
    db: AsyncSession,
    tw: TenantWorld,
    run: SyncRun,
    key: str,
    *,
    at: datetime,
    action: ItemAction = ItemAction.update,
    status: ItemStatus = ItemStatus.succeeded,
    object_name: str = "companies",
    **extra: object,
) -> RunItem:
    item = RunItem(
        tenant_id=tw.tenant.id,
        run_id=run.id,
        interface_id=tw.interface.id,
        object_name=object_name,
        direction=SyncDirection.to_hubspot,
        action=action,
        status=status,
        source_key=key,
        created_at=at,
        **extra,
    )
    db.add(item)
    return item


def run_ids(html: str) -> list[str]:
    return RUN_LINK.findall(html)


class TestRunList:
    async def test_shows_start_duration_trigger_status_and_counts(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0, trigger=RunTrigger.manual)
        await db.commit()
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/runs")).text
        assert "<h1>Synchronisationsverlauf</h1>" in text
        row = text[text.index('datetime="2025-03-07T13:05:00+00:00"') :]
        row = row[: row.index("</tbody>")]
        assert "07.03.2025 14:05" in row
        assert "manuell" in row
        assert "2 min 14 s" in row
        assert f'href="/ui/runs/{run.id}" class="run-link"' in row
        assert 'data-status="ok"' in row
        assert "1&#39;234" in row  # 1'234, the apostrophe escaped
        assert '<span class="muted">0</span>' in row  # zeros are muted

    async def test_failures_are_linked_to_the_runs_failed_tasks(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/runs")).text
        expected = f'<a class="error-text" href="/ui/runs/{world.a.run.id}?object=companies&amp;'
        assert expected + 'status=failed#tasks">1</a>' in text

    async def test_other_tenants_runs_are_not_listed(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.b.admin.email)
        ids = run_ids((await client.get("/ui/runs")).text)
        assert ids == [str(world.b.run.id)]

    async def test_filters_by_status_trigger_and_interface(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        failed = add_run(db, world.a, started_at=T0, status=RunStatus.failed)
        webhook = add_run(db, world.a, started_at=T0, trigger=RunTrigger.webhook)
        await db.commit()
        await sign_in(client, world.operator.email)
        by_status = run_ids((await client.get("/ui/runs?status=failed")).text)
        assert by_status == [str(failed.id)]
        by_trigger = run_ids((await client.get("/ui/runs?trigger=webhook&status=")).text)
        assert by_trigger == [str(webhook.id)]
        by_interface = (await client.get(f"/ui/runs?interface={world.b.interface.id}")).text
        assert run_ids(by_interface) == [str(world.b.run.id)]
        assert f'<option value="{world.b.interface.id}" selected>' in by_interface

    async def test_filters_by_period_in_zurich_days(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        late = add_run(db, world.a, started_at=datetime(2025, 3, 6, 23, 30, tzinfo=UTC))
        add_run(db, world.a, started_at=datetime(2025, 3, 6, 22, 30, tzinfo=UTC))
        await db.commit()
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/runs?since=2025-03-07&until=2025-03-07")).text
        assert run_ids(text) == [str(late.id)]  # 00:30 on the 7th in Zurich; 23:30 is the 6th
        assert 'name="since" value="2025-03-07"' in text

    async def test_filter_form_survives_reload_and_swaps_only_results(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        page = (await client.get("/ui/runs?status=warning")).text
        assert 'hx-get="/ui/runs" hx-target="#results" hx-push-url="true"' in page
        assert '<option value="warning" selected>' in page
        part = await client.get("/ui/runs?status=warning", headers=PARTIAL)
        assert part.status_code == 200
        assert "<html" not in part.text
        assert "<h1>" not in part.text
        assert run_ids(part.text) == [str(world.a.run.id)]
        assert "HX-Request-Type" in part.headers["vary"]

    async def test_empty_filter_says_so_with_a_reset_link(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/runs?status=aborted")).text
        assert "Keine Läufe für diese Filter." in text
        assert 'href="/ui/runs">Filter zurücksetzen' in text

    async def test_empty_history_names_the_next_run(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await db.delete(await db.get(SyncRun, world.a.run.id))
        interface = await db.get(Interface, world.a.interface.id)
        assert interface is not None
        interface.next_run_at = T0
        await db.commit()
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/runs")).text
        assert "Noch keine Läufe. Nächster Lauf:" in text
        assert "07.03.2025 14:05" in text

    async def test_foreign_interface_filter_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.b.admin.email)
        response = await client.get(f"/ui/runs?interface={world.a.interface.id}")
        assert response.status_code == 404


class TestRunListPages:
    async def test_keyset_pages_cover_every_run_once(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await db.delete(await db.get(SyncRun, world.a.run.id))
        made = [add_run(db, world.a, started_at=T0 + timedelta(minutes=i + 1)) for i in range(60)]
        made += [add_run(db, world.a, started_at=T0) for _ in range(60)]  # ties on started_at
        await db.commit()
        await sign_in(client, world.a.admin.email)
        seen: list[str] = []
        url: str | None = "/ui/runs"
        while url:
            text = (await client.get(url.replace("&amp;", "&"))).text
            page = run_ids(text)
            assert 0 < len(page) <= 50
            seen += page
            found = re.search(r'<a href="([^"]*before=[^"]*)">Ältere</a>', text)
            url = found.group(1) if found else None
        assert len(seen) == len(set(seen)) == len(made)
        assert seen[:60] == [str(r.id) for r in reversed(made[:60])]

    async def test_newer_link_returns_to_the_previous_page(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        for i in range(120):
            add_run(db, world.a, started_at=T0 + timedelta(minutes=i))
        await db.commit()
        await sign_in(client, world.a.admin.email)
        first = (await client.get("/ui/runs")).text
        older = re.search(r'<a href="([^"]*)">Ältere</a>', first)
        assert older
        second = (await client.get(older.group(1).replace("&amp;", "&"))).text
        newer = re.search(r'<a href="([^"]*after=[^"]*)">Neuere</a>', second)
        assert newer
        assert 'href="/ui/runs">Neueste Läufe</a>' in second
        back = (await client.get(newer.group(1).replace("&amp;", "&"))).text
        assert run_ids(back) == run_ids(first)
        assert "Neuere</a>" not in back

    async def test_pager_keeps_the_filters(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        for i in range(55):
            add_run(db, world.a, started_at=T0 + timedelta(minutes=i), trigger=RunTrigger.manual)
        await db.commit()
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/runs?trigger=manual", headers=PARTIAL)).text
        assert 'hx-target:inherited="#results"' in text
        older = re.search(r'<a href="([^"]*)">Ältere</a>', text)
        assert older
        assert "trigger=manual" in older.group(1)
        rest = (await client.get(older.group(1).replace("&amp;", "&"))).text
        assert len(run_ids(rest)) == 5

    async def test_forged_cursor_is_refused(self, client: httpx.AsyncClient, world: World) -> None:
        await sign_in(client, world.a.admin.email)
        response = await client.get("/ui/runs?before=not-a-cursor")
        assert response.status_code == 422
        assert "Traceback" not in response.text


class TestRunDetail:
    async def test_header_matrix_and_tasks_in_order(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(
            db,
            world.a,
            started_at=T0,
            trigger=RunTrigger.manual,
            triggered_by_id=world.a.admin.id,
            counts={
                "companies": {"created": 1, "updated": 1, "unchanged": 7, "failed": 1},
                "contacts": {"created": 1},
            },
        )
        await db.flush()
        add_item(db, world.a, run, "T-2", at=T0 + timedelta(seconds=2))
        add_item(db, world.a, run, "T-1", at=T0 + timedelta(seconds=1), action=ItemAction.create)
        add_item(
            db,
            world.a,
            run,
            "T-3",
            at=T0 + timedelta(seconds=3),
            status=ItemStatus.failed,
            error_message="boom",
        )
        add_item(
            db,
            world.a,
            run,
            "T-4",
            at=T0 + timedelta(seconds=4),
            object_name="contacts",
            action=ItemAction.create,
        )
        await db.commit()
        await sign_in(client, world.a.admin.email)
        response = await client.get(f"/ui/runs/{run.id}")
        text = response.text
        assert response.status_code == 200
        assert "<h1>Synchronisationslauf: tenant-a-companies</h1>" in text
        assert 'manuell <span class="muted">(admin@tenant-a.example.com)</span>' in text
        assert "<dt>Mapping-Version</dt><dd>1</dd>" in text
        assert "07.03.2025 14:05:00" in text
        assert "07.03.2025 14:07:14" in text
        assert "2 min 14 s" in text
        assert TASK_KEY.findall(text) == ["T-1", "T-2", "T-3", "T-4"]
        create_link = f'href="/ui/runs/{run.id}?object=contacts&amp;action=create#tasks">1</a>'
        assert create_link in text
        assert '<th scope="row">Total (alle Objekte)</th>' in text

    async def test_tasks_filter_by_object_action_status_and_key(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0)
        await db.flush()
        add_item(db, world.a, run, "T-1", at=T0, action=ItemAction.create)
        add_item(db, world.a, run, "T-2", at=T0, status=ItemStatus.failed)
        add_item(db, world.a, run, "T-3", at=T0, object_name="contacts")
        add_item(db, world.a, run, "X_1", at=T0)
        await db.commit()
        await sign_in(client, world.a.admin.email)
        base = f"/ui/runs/{run.id}"

        async def keys(query: str) -> list[str]:
            text = (await client.get(f"{base}?{query}", headers=PARTIAL)).text
            return re.findall(r'<th scope="row">([^<]*)</th>', text)

        assert await keys("action=create") == ["T-1"]
        assert await keys("status=failed") == ["T-2"]
        assert await keys("object=contacts") == ["T-3"]
        assert sorted(await keys("key=T-")) == ["T-1", "T-2", "T-3"]
        assert await keys("key=X_") == ["X_1"]
        assert await keys("key=%25") == []  # a LIKE wildcard is matched literally
        empty = (await client.get(f"{base}?action=delete", headers=PARTIAL)).text
        assert "Keine Aufgaben für diese Filter." in empty

    async def test_tasks_page_by_hundred_both_ways(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0)
        await db.flush()
        made = [
            add_item(db, world.a, run, f"T-{i}", at=T0 + timedelta(milliseconds=i // 3))
            for i in range(250)  # ties on created_at across page boundaries, broken by id
        ]
        await db.commit()
        expected = [i.source_key for i in sorted(made, key=lambda i: (i.created_at, i.id.hex))]
        await sign_in(client, world.a.admin.email)
        seen: list[str] = []
        text = (await client.get(f"/ui/runs/{run.id}")).text
        pages = [text]
        while True:
            seen += TASK_KEY.findall(text)
            later = re.search(r'<a href="([^"]*)">Spätere Aufgaben</a>', text)
            if not later:
                break
            text = (await client.get(later.group(1).replace("&amp;", "&"), headers=PARTIAL)).text
            pages.append(text)
        assert seen == expected
        assert len(pages) == 3
        earlier = re.search(r'<a href="([^"]*)">Frühere Aufgaben</a>', pages[-1])
        assert earlier
        back = (await client.get(earlier.group(1).replace("&amp;", "&"), headers=PARTIAL)).text
        assert TASK_KEY.findall(back) == expected[100:200]

    async def test_failed_run_shows_the_error_and_the_next_step(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(
            db,
            world.a,
            started_at=T0,
            status=RunStatus.failed,
            counts={},
            error_summary="HTTP 401: INVALID_AUTHENTICATION: Authentication credentials not found",
            error_category=ErrorCategory.config,
        )
        await db.commit()
        await sign_in(client, world.a.viewer.email)
        text = (await client.get(f"/ui/runs/{run.id}")).text
        assert "Warum der Lauf fehlgeschlagen ist" in text
        assert "Die Zugangsdaten wurden abgelehnt" in text
        assert "Kategorie: Konfiguration" in text
        assert "Verbindung prüfen" in text
        assert "Dieser Lauf hat keine Datensätze gezählt." in text

    async def test_other_tenants_run_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.b.admin.email)
        for path in (f"/ui/runs/{world.a.run.id}", f"/ui/runs/{world.a.run.id}/live"):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "tenant-a" not in response.text
        assert (await client.get(f"/ui/runs/{uuid.uuid4()}")).status_code == 404

    async def test_payload_only_for_roles_that_may_read_it(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        admin = (await client.get(f"/ui/runs/{world.a.run.id}")).text
        assert "ACME" in admin
        assert 'aria-label="Daten anzeigen"' in admin
        client.cookies.clear()
        await sign_in(client, world.a.viewer.email)
        viewer = (await client.get(f"/ui/runs/{world.a.run.id}")).text
        assert "ACME" not in viewer
        assert "Ihre Rolle darf die Daten des Datensatzes nicht sehen." in viewer
        assert "Property values were not valid" in viewer  # the error itself stays visible

    async def test_hostile_values_are_escaped(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(
            db,
            world.a,
            started_at=T0,
            counts={CANARY: {"failed": 1}},
            error_summary=CANARY,
            status=RunStatus.failed,
        )
        await db.flush()
        add_item(
            db,
            world.a,
            run,
            CANARY,
            at=T0,
            status=ItemStatus.failed,
            object_name=CANARY,
            error_message=CANARY,
            hubspot_id="1",
            correlation_id=CANARY[:60],
            payload={"record": {CANARY: CANARY}, "properties": {"name": CANARY}},
        )
        interface = await db.get(Interface, world.a.interface.id)
        assert interface is not None
        interface.name = CANARY
        await db.commit()
        await sign_in(client, world.a.admin.email)
        for path in ("/ui/runs", f"/ui/runs/{run.id}", f"/ui/runs/{run.id}?object=x"):
            text = (await client.get(path)).text
            assert "<script>alert(1)</script>" not in text, path
            assert "onerror=alert(1)><b" not in text, path
            assert '<b hx-get="/x">' not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


class TestLivePolling:
    async def test_running_run_polls(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0, status=RunStatus.running, seconds=None)
        await db.commit()
        await sign_in(client, world.a.admin.email)
        page = (await client.get(f"/ui/runs/{run.id}")).text
        assert f'hx-get="/ui/runs/{run.id}/live" hx-trigger="every 2s"' in page
        assert 'hx-trigger="run-finished from:body"' in page
        live = await client.get(f"/ui/runs/{run.id}/live", headers=PARTIAL)
        assert live.status_code == 200
        assert "<html" not in live.text
        assert 'hx-trigger="every 2s"' in live.text
        assert "HX-Trigger" not in live.headers
        assert "hx-partial" not in live.text

    async def test_finished_run_stops_polling_and_announces_itself(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0, status=RunStatus.running, seconds=None)
        await db.commit()
        await sign_in(client, world.a.admin.email)
        run.status = RunStatus.warning
        run.finished_at = T0 + timedelta(seconds=5)
        run.counts = {"companies": {"updated": 3, "failed": 2}}
        await db.commit()
        live = await client.get(f"/ui/runs/{run.id}/live", headers=PARTIAL)
        assert live.headers["HX-Trigger"] == "run-finished"
        assert "hx-trigger" not in live.text.split("<hx-partial")[0]
        assert '<hx-partial hx-target="#toasts"' in live.text
        assert "Lauf abgeschlossen: 3 aktualisiert, 2 fehlgeschlagen." in live.text
        page = (await client.get(f"/ui/runs/{run.id}")).text
        assert "every 2s" not in page
        assert "hx-partial" not in page

    async def test_live_without_htmx_renders_the_whole_page(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        response = await client.get(f"/ui/runs/{world.a.run.id}/live")
        assert response.status_code == 200
        assert "<h1>Synchronisationslauf: tenant-a-companies</h1>" in response.text


async def test_english_when_chosen(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    client.cookies.set("hubsync_lang", "en")
    listing = (await client.get("/ui/runs")).text
    assert "<h1>Run history</h1>" in listing
    detail = (await client.get(f"/ui/runs/{world.a.run.id}")).text
    assert "Tasks of this run" in detail
    assert "Records per object and outcome" in detail


@pytest.mark.parametrize("path", ["/ui/runs", "/ui/runs/{run}", "/ui/runs/{run}/live"])
async def test_pages_need_a_session(client: httpx.AsyncClient, world: World, path: str) -> None:
    response = await client.get(path.format(run=world.a.run.id))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/ui/login?next=")
