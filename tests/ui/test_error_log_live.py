"""The error log follows a retry until it finished; a record's ⓘ opens a dialog loaded on demand."""

from __future__ import annotations

import json
import re
import uuid

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import SyncRun
from app.models.enums import RunStatus, RunTrigger
from tests.factories import World
from tests.ui.test_error_log import FakeRetry, fake_retry
from tests.ui.test_history import PARTIAL, T0, add_run
from tests.ui_session import sign_in

__all__ = ["fake_retry"]  # fixture used by name

POLLER = re.compile(r'<div class="retry-watch" hx-get="([^"]+)" hx-trigger="every 2s"')


def poller_url(html: str) -> str:
    found = POLLER.search(html)
    assert found, html
    return found.group(1).replace("&amp;", "&")


class TestRetryIsFollowed:
    async def test_the_toast_brings_a_poller_outside_the_live_region(
        self, client: httpx.AsyncClient, world: World, fake_retry: FakeRetry
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        response = await client.post(
            f"/ui/errors/items/{world.a.item.id}/retry",
            data={"csrf_token": token, "back": "/ui/errors"},
            headers=PARTIAL,
        )
        assert "HX-Trigger" not in response.headers  # the list does not reload yet
        assert '<hx-partial hx-target="#retry-watch" hx-swap="beforeend">' in response.text
        assert poller_url(response.text).startswith("/ui/errors/retries?run=")
        listing = (await client.get("/ui/errors")).text
        assert '<div id="retry-watch" hidden></div>' in listing
        assert '<div id="toasts" role="status" aria-live="polite"></div>' in listing

    async def test_polls_while_the_run_runs_then_says_how_it_went_and_reloads(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0, status=RunStatus.running, seconds=None,
                      trigger=RunTrigger.retry, counts={})  # fmt: skip
        await db.commit()
        await sign_in(client, world.a.admin.email)
        url = f"/ui/errors/retries?run={run.id}"
        running = await client.get(url, headers=PARTIAL)
        assert running.status_code == 200
        assert poller_url(running.text) == url
        assert "HX-Trigger" not in running.headers
        assert "toast" not in running.text

        await finish(db, run, RunStatus.succeeded, {"companies": {"updated": 2}})
        done = await client.get(url, headers=PARTIAL)
        assert "hx-trigger" not in done.text  # the poll stops
        assert json.loads(done.headers["HX-Trigger"]) == {"errors-changed": {"target": "body"}}
        assert '<hx-partial hx-target="#toasts" hx-swap="innerHTML">' in done.text
        assert 'data-kind="ok"' in done.text
        assert "Der erneute Versuch ist abgeschlossen: 0 erstellt, 2 aktualisiert" in done.text

    async def test_a_failed_retry_is_an_alert(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        run = add_run(db, world.a, started_at=T0, status=RunStatus.failed, counts={},
                      trigger=RunTrigger.retry)  # fmt: skip
        await db.commit()
        await sign_in(client, world.a.admin.email)
        done = await client.get(f"/ui/errors/retries?run={run.id}", headers=PARTIAL)
        assert 'data-kind="error" role="alert"' in done.text
        assert "Der erneute Versuch ist fehlgeschlagen" in done.text

    async def test_another_tenants_run_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.b.admin.email)
        response = await client.get(f"/ui/errors/retries?run={world.a.run.id}", headers=PARTIAL)
        assert response.status_code == 404
        assert "errors-changed" not in response.headers.get("HX-Trigger", "")

    async def test_without_runs_nothing_polls(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        idle = await client.get("/ui/errors/retries", headers=PARTIAL)
        assert idle.status_code == 200
        assert "hx-trigger" not in idle.text
        assert "toast" not in idle.text


class TestRecordDialog:
    async def test_the_info_is_a_button_that_loads_a_labelled_dialog(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        item = world.a.item
        group = re.search(r'hx-get="(/ui/errors/groups/[0-9a-f]+)\?embedded=true"',
                          (await client.get("/ui/errors")).text)  # fmt: skip
        assert group
        records = (await client.get(f"{group.group(1)}?embedded=true", headers=PARTIAL)).text
        button = re.search(r"<button [^>]*aria-haspopup=\"dialog\"[^>]*>", records)
        assert button
        assert f'aria-label="Daten anzeigen: {item.source_key}"' in button.group(0)
        assert f'<form method="get" action="/ui/errors/items/{item.id}"' in records

        dialog = await client.get(f"/ui/errors/items/{item.id}", headers=PARTIAL)
        assert dialog.status_code == 200
        assert "<html" not in dialog.text
        assert dialog.text.lstrip().startswith('<dialog id="item-dialog"')
        assert 'aria-labelledby="item-dialog-title" data-modal' in dialog.text
        assert f'<h2 id="item-dialog-title">Datensatz {item.source_key}</h2>' in dialog.text
        assert '<button type="submit" class="secondary outline" autofocus>Schliessen' in (
            dialog.text
        )
        assert "Werte, die gesendet wurden oder hätten werden sollen" in dialog.text

    async def test_without_js_the_button_opens_a_page(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        page = await client.get(f"/ui/errors/items/{world.a.item.id}")
        assert page.status_code == 200
        assert f"<h1>Datensatz {world.a.item.source_key}</h1>" in page.text
        assert "<dialog" not in page.text
        assert '<a href="/ui/errors">Zurück zum Fehlerprotokoll</a>' in page.text

    async def test_another_tenants_record_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.b.admin.email)
        response = await client.get(f"/ui/errors/items/{world.a.item.id}", headers=PARTIAL)
        assert response.status_code == 404
        assert "Werte, die gesendet wurden" not in response.text

    async def test_unknown_record_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        response = await client.get(f"/ui/errors/items/{uuid.uuid4()}")
        assert response.status_code == 404


async def finish(
    db: AsyncSession, run: SyncRun, status: RunStatus, counts: dict[str, dict[str, int]]
) -> None:
    run.status, run.counts, run.finished_at = status, counts, run.started_at
    await db.commit()
