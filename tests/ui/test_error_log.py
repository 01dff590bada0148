"""Fehlerprotokoll: groups by cause, hints, payloads by role, retry and resolve, isolation."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import Conflict
from app.models import AuditEntry, Interface, RunItem, SyncRun
from app.models.enums import ErrorCategory, Health, ItemStatus, RunStatus, RunTrigger
from app.sync import retry
from app.sync.error_groups import cause_digest, key_of
from tests.factories import TenantWorld, World
from tests.ui.test_history import PARTIAL, T0, add_item, add_run
from tests.ui.test_pages import CANARY
from tests.ui_session import sign_in

GROUP = re.compile(r'<article class="error-group" id="group-([0-9a-f]+)"')
PROPERTY_ERROR = "VALIDATION_ERROR: Property values were not valid: " + json.dumps(
    [
        {
            "isValid": False,
            "message": "x was not one of the allowed options",
            "error": "INVALID_OPTION",
            "name": "industry",
        }
    ]
)


def failed_item(
    db: AsyncSession,
    tw: TenantWorld,
    key: str,
    message: str,
    *,
    at: datetime = T0,
    http_status: int | None = 400,
    category: ErrorCategory = ErrorCategory.data,
    **extra: Any,
) -> RunItem:
    return add_item(
        db,
        tw,
        tw.run,
        key,
        at=at,
        status=ItemStatus.failed,
        error_message=message,
        error_cause=cause_digest(message),
        http_status=http_status,
        error_category=category,
        **extra,
    )


def group_id(tw: TenantWorld, message: str, status: int | None = 400) -> str:
    return key_of(tw.interface.id, "companies", ErrorCategory.data, status, message).id


def groups_in(html: str) -> list[str]:
    return GROUP.findall(html)


async def open_count(db: AsyncSession) -> int:
    db.expire_all()
    statement = select(func.count()).select_from(RunItem).where(RunItem.status == "failed")
    return int((await db.execute(statement)).scalar_one())


async def older_than_t0(db: AsyncSession, tw: TenantWorld) -> None:
    """Move the world's own run before ``T0`` so the test's runs are the latest."""
    run = await db.get(SyncRun, tw.run.id)
    assert run is not None
    run.started_at = T0 - timedelta(days=1)


class FakeRetry:
    """Stands in for ``retry.retry_items``: records the call, answers with runs or a Conflict."""

    def __init__(self, *, busy: bool = False) -> None:
        self.calls: list[tuple[Actor, list[uuid.UUID]]] = []
        self.busy = busy

    async def __call__(
        self, sessions: object, executor: object, *, actor: Actor, item_ids: Sequence[uuid.UUID]
    ) -> list[SyncRun]:
        self.calls.append((actor, list(item_ids)))
        if self.busy:
            raise Conflict("a run cannot start now: the interface is busy with another run")
        return [SyncRun(id=uuid.uuid4(), trigger=RunTrigger.retry, status=RunStatus.running)]


@pytest.fixture
def fake_retry(monkeypatch: pytest.MonkeyPatch) -> FakeRetry:
    fake = FakeRetry()
    monkeypatch.setattr(retry, "retry_items", fake)
    return fake


class TestGrouping:
    async def test_same_cause_on_many_records_shows_once_with_a_count(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        for n, key in enumerate(("K-7", "K-8", "K-9")):
            failed_item(
                db,
                world.a,
                key,
                f"Property values were not valid: for {12345 + n}",
                at=T0 + timedelta(minutes=n),
            )
        await db.commit()
        await sign_in(client, world.a.admin.email)
        text = (await client.get("/ui/errors")).text
        ours = group_id(world.a, "Property values were not valid: for 1")
        assert groups_in(text).count(ours) == 1
        card = text[text.index(f'id="group-{ours}"') :]
        card = card[: card.index("</article>")]
        assert "<strong>3</strong>" in card
        assert "Property values were not valid: for &lt;n&gt;" in card  # the masked cause
        assert "for 12347" in card  # the newest full message
        assert "(darunter K-7, K-8, K-9)" in card
        assert "07.03.2025 14:05" in card
        assert "07.03.2025 14:07" in card
        assert "tenant-a-companies · companies" in card
        assert "<dd>400</dd>" in card
        assert len(groups_in(text)) == 2  # plus the world's own "Property values were not valid"

    async def test_hint_category_and_hubspot_category(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        failed_item(db, world.a, "K-2", PROPERTY_ERROR, correlation_id="corr-123")
        failed_item(
            db,
            world.a,
            "K-3",
            "HTTP 429: RATE_LIMITS: You have reached your secondly limit.",
            http_status=429,
            category=ErrorCategory.transient,
        )
        await db.commit()
        await sign_in(client, world.a.viewer.email)
        text = (await client.get("/ui/errors")).text
        assert "<h3 id=" in text
        assert "Der Wert ist keine erlaubte Auswahloption der HubSpot-Eigenschaft." in text
        assert "Die Option in HubSpot bei der Eigenschaft ergänzen" in text
        assert "<code>VALIDATION_ERROR</code>" in text
        assert "Das Anfragelimit von HubSpot wurde erreicht." in text
        assert "vorübergehend" in text

    async def test_filters_by_category_key_and_interface(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        failed_item(db, world.a, "Z-1", "x", category=ErrorCategory.transient)
        await db.commit()
        await sign_in(client, world.operator.email)
        transient = groups_in((await client.get("/ui/errors?category=transient")).text)
        expected = key_of(world.a.interface.id, "companies", ErrorCategory.transient, 400, "x")
        assert transient == [expected.id]
        by_key = (await client.get("/ui/errors?key=Z-", headers=PARTIAL)).text
        assert len(groups_in(by_key)) == 1
        assert "<html" not in by_key
        by_interface = (await client.get(f"/ui/errors?interface={world.b.interface.id}")).text
        assert len(groups_in(by_interface)) == 1
        assert "tenant-b-companies · companies" in by_interface
        none = (await client.get("/ui/errors?key=nothing-like-this")).text
        assert "Keine Fehler für diese Filter." in none

    async def test_groups_page_by_25(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        for n in range(30):
            failed_item(db, world.a, f"P-{n}", f"cause number {'x' * n}")
        await db.commit()
        await sign_in(client, world.a.admin.email)
        first = (await client.get("/ui/errors")).text
        assert len(groups_in(first)) == 25
        more = re.search(r'<a href="([^"]*page=2[^"]*)">Weitere Ursachen</a>', first)
        assert more
        second = (await client.get(more.group(1).replace("&amp;", "&"))).text
        assert len(groups_in(second)) == 6
        assert not set(groups_in(first)) & set(groups_in(second))


class TestGroupRecords:
    async def test_expansion_lists_keys_correlation_and_payload_for_admins(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        payload = {
            "record": {"customer_no": "K-2", "branche": "Maschinenbau"},
            "properties": {"erp_customer_no": "K-2", "industry": "MASCHINEN"},
        }
        item = failed_item(
            db,
            world.a,
            "K-2",
            PROPERTY_ERROR,
            correlation_id="corr-123",
            hubspot_id="9876",
            payload=payload,
        )
        await db.commit()
        await sign_in(client, world.a.admin.email)
        listing = (await client.get("/ui/errors")).text
        gid = group_id(world.a, PROPERTY_ERROR)
        assert f'hx-get="/ui/errors/groups/{gid}?embedded=true" hx-trigger="toggle once"' in listing
        part = await client.get(f"/ui/errors/groups/{gid}?embedded=true", headers=PARTIAL)
        assert part.status_code == 200
        assert "<html" not in part.text
        assert '<th scope="row">K-2</th>' in part.text
        assert "<code>corr-123</code>" in part.text
        assert "9876" in part.text
        assert "Maschinenbau" not in part.text  # the values come with the record's dialog
        assert f'hx-get="/ui/errors/items/{item.id}" hx-target="#item-dialog-slot"' in part.text
        dialog = (await client.get(f"/ui/errors/items/{item.id}", headers=PARTIAL)).text
        # source field and value beside the HubSpot property and the value sent
        paired = r'<td>customer_no</td><td>K-2</td>\s*<th scope="row">erp_customer_no</th><td>K-2'
        assert re.search(paired, dialog)
        assert "Maschinenbau" in dialog
        assert "MASCHINEN" in dialog
        assert "Erneut versuchen" in part.text
        page = await client.get(f"/ui/errors/groups/{gid}")  # without JS: its own page
        assert page.status_code == 200
        assert "<h1 id=" in page.text
        assert "K-2" in page.text

    async def test_viewer_sees_no_payload_and_no_actions(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.viewer.email)
        gid = group_id(world.a, "Property values were not valid")
        text = (await client.get(f"/ui/errors/groups/{gid}")).text
        assert "K-1" in text
        dialog = (await client.get(f"/ui/errors/items/{world.a.item.id}", headers=PARTIAL)).text
        assert "ACME" not in dialog
        assert "Ihre Rolle darf die Daten des Datensatzes nicht sehen." in dialog
        assert "Erneut versuchen" not in text
        assert "als behoben markieren" not in text.lower()
        listing = (await client.get("/ui/errors")).text
        assert "Alle erneut versuchen" not in listing

    async def test_older_records_page(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        for n in range(55):
            failed_item(
                db,
                world.a,
                f"R-{n:02d}",
                f"gone {n}",
                at=T0 + timedelta(seconds=n),
                http_status=404,
            )
        await db.commit()
        await sign_in(client, world.a.admin.email)
        gid = group_id(world.a, "gone 1", status=404)
        first = (await client.get(f"/ui/errors/groups/{gid}")).text
        keys = re.findall(r'<th scope="row">(R-\d+)</th>', first)
        assert keys == [f"R-{n:02d}" for n in range(54, 4, -1)]
        older = re.search(r'<a href="([^"]*)">Ältere Datensätze</a>', first)
        assert older
        rest = (await client.get(older.group(1).replace("&amp;", "&"))).text
        assert re.findall(r'<th scope="row">(R-\d+)</th>', rest) == [
            f"R-{n:02d}" for n in range(4, -1, -1)
        ]
        assert "Der HubSpot-Datensatz existiert nicht mehr" in first

    async def test_unknown_group_is_not_found(
        self, client: httpx.AsyncClient, world: World
    ) -> None:
        await sign_in(client, world.a.admin.email)
        assert (await client.get("/ui/errors/groups/0123456789abcdef01234567")).status_code == 404


class TestRetry:
    async def test_retry_one_calls_the_service_and_answers_with_a_toast(
        self, client: httpx.AsyncClient, world: World, fake_retry: FakeRetry
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        response = await client.post(
            f"/ui/errors/items/{world.a.item.id}/retry",
            data={"csrf_token": token, "back": "/ui/errors"},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200
        assert "HX-Trigger" not in response.headers  # the list reloads once the retry finished
        assert '<hx-partial hx-target="#retry-watch" hx-swap="beforeend">' in response.text
        assert 'class="toast" data-kind="ok"' in response.text
        assert "Datensätze, die erneut synchronisiert werden: 1." in response.text
        [(actor, ids)] = fake_retry.calls
        assert ids == [world.a.item.id]
        assert actor.user_id == world.a.admin.id

    async def test_retry_group_sends_every_open_record_of_the_group(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession, fake_retry: FakeRetry
    ) -> None:
        same = [failed_item(db, world.a, f"G-{n}", f"boom for {n}") for n in range(3)]
        failed_item(db, world.a, "other", "something else")
        await db.commit()
        token = await sign_in(client, world.a.admin.email)
        gid = group_id(world.a, "boom for 0")
        response = await client.post(
            f"/ui/errors/groups/{gid}/retry", data={"csrf_token": token, "back": "/ui/errors"}
        )
        assert response.status_code == 303  # no JS: back to the log, with a notice
        assert response.headers["location"] == "/ui/errors?notice=retried&n=3"
        [(_actor, ids)] = fake_retry.calls
        assert sorted(ids) == sorted(i.id for i in same)
        notice = (await client.get(response.headers["location"])).text
        assert "Datensätze, die erneut synchronisiert werden: 3." in notice

    async def test_a_run_in_progress_gives_a_clear_message(
        self, client: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        busy = FakeRetry(busy=True)
        monkeypatch.setattr(retry, "retry_items", busy)
        token = await sign_in(client, world.a.admin.email)
        url = f"/ui/errors/items/{world.a.item.id}/retry"
        response = await client.post(
            url, data={"csrf_token": token}, headers={"HX-Request": "true", **PARTIAL}
        )
        assert response.status_code == 409
        assert response.headers["HX-Retarget"] == "#toasts"
        assert 'role="alert"' in response.text
        assert "Die Schnittstelle läuft gerade" in response.text
        plain = await client.post(url, data={"csrf_token": token, "back": "/ui/errors?page=1"})
        assert plain.status_code == 303
        assert plain.headers["location"] == "/ui/errors?page=1&notice=busy&n=0"

    async def test_back_never_leaves_the_error_log(
        self, client: httpx.AsyncClient, world: World, fake_retry: FakeRetry
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        for back in ("https://evil.example.com/ui/errors", "//evil.example.com", "/ui/admin"):
            response = await client.post(
                f"/ui/errors/items/{world.a.item.id}/retry",
                data={"csrf_token": token, "back": back},
            )
            assert response.headers["location"].startswith("/ui/errors?notice=")

    async def test_viewer_may_not_retry_or_resolve(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession, fake_retry: FakeRetry
    ) -> None:
        token = await sign_in(client, world.a.viewer.email)
        gid = group_id(world.a, "Property values were not valid")
        for path in (
            f"/ui/errors/items/{world.a.item.id}/retry",
            f"/ui/errors/items/{world.a.item.id}/resolve",
            f"/ui/errors/groups/{gid}/retry",
            f"/ui/errors/groups/{gid}/resolve",
        ):
            response = await client.post(path, data={"csrf_token": token})
            assert response.status_code == 403, path
        assert fake_retry.calls == []
        assert await open_count(db) == 2


class TestResolve:
    async def test_resolving_a_group_hides_it(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        for n in range(2):
            failed_item(db, world.a, f"E-{n}", f"Email address x{n}@ is invalid")
        await db.commit()
        token = await sign_in(client, world.a.admin.email)
        gid = group_id(world.a, "Email address y@ is invalid")
        assert gid in groups_in((await client.get("/ui/errors")).text)
        response = await client.post(
            f"/ui/errors/groups/{gid}/resolve",
            data={"csrf_token": token, "back": "/ui/errors"},
            headers={"HX-Request": "true", **PARTIAL},
        )
        assert response.status_code == 200
        assert "Als behoben markierte Datensätze: 2." in response.text
        assert response.headers["HX-Trigger"] == "errors-changed"
        assert gid not in groups_in((await client.get("/ui/errors")).text)
        resolved = (await client.get("/ui/errors?status=resolved")).text
        assert gid in groups_in(resolved)
        assert "Alle erneut versuchen" not in resolved
        audits = await db.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "run_items.resolve")
        )
        assert audits.scalar_one() == 1

    async def test_resolving_one_record(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        token = await sign_in(client, world.a.admin.email)
        gid = group_id(world.a, "Property values were not valid")
        response = await client.post(
            f"/ui/errors/items/{world.a.item.id}/resolve",
            data={"csrf_token": token, "back": f"/ui/errors/groups/{gid}"},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/ui/errors/groups/{gid}?notice=resolved&n=1"
        after = await client.get(response.headers["location"])
        assert after.status_code == 200  # the group is gone; the page says what happened
        assert "Als behoben markierte Datensätze: 1." in after.text
        assert await open_count(db) == 1  # tenant B's stays open
        assert "Keine offenen Fehler." in (await client.get("/ui/errors")).text


class TestIsolation:
    async def test_other_tenants_ids_are_not_found(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession, fake_retry: FakeRetry
    ) -> None:
        token = await sign_in(client, world.b.admin.email)
        gid = group_id(world.a, "Property values were not valid")
        assert (await client.get(f"/ui/errors/groups/{gid}")).status_code == 404
        for path in (
            f"/ui/errors/items/{world.a.item.id}/retry",
            f"/ui/errors/items/{world.a.item.id}/resolve",
            f"/ui/errors/groups/{gid}/retry",
            f"/ui/errors/groups/{gid}/resolve",
        ):
            response = await client.post(path, data={"csrf_token": token})
            assert response.status_code == 404, path
        assert fake_retry.calls == []
        assert await open_count(db) == 2
        listing = (await client.get("/ui/errors")).text
        assert "tenant-a" not in listing
        assert "tenant-b-companies" in listing

    async def test_actions_need_the_csrf_token(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await sign_in(client, world.a.admin.email)
        response = await client.post(f"/ui/errors/items/{world.a.item.id}/resolve")
        assert response.status_code == 403
        assert await open_count(db) == 2


class TestBlockers:
    async def test_failed_last_run_shows_as_a_blocker_with_what_to_do(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        summary = "HTTP 403: MISSING_SCOPES: This app hasn't been granted all required scopes"
        await older_than_t0(db, world.a)
        for minutes in (1, 2):
            add_run(
                db,
                world.a,
                started_at=T0 + timedelta(minutes=minutes),
                status=RunStatus.failed,
                error_summary=summary,
                error_category=ErrorCategory.config,
                counts={},
            )
        interface = await db.get(Interface, world.a.interface.id)
        assert interface is not None
        interface.health = Health.error
        await db.commit()
        await sign_in(client, world.a.viewer.email)
        text = (await client.get("/ui/errors")).text
        blockers = text[text.index('class="blockers"') : text.index("</section>")]
        assert "Der HubSpot-Verbindung fehlt eine Berechtigung (Scope)." in blockers
        assert "HubSpot neu verbinden" in blockers
        assert "Fehlerhaft seit <time" in blockers
        assert "07.03.2025 14:06" in blockers
        assert "Fehlgeschlagene Läufe in Folge: 2" in blockers
        assert "Konfiguration" in blockers
        assert 'role="alert"' in blockers

    async def test_a_later_successful_run_clears_the_blocker(
        self, client: httpx.AsyncClient, world: World, db: AsyncSession
    ) -> None:
        await older_than_t0(db, world.a)
        add_run(db, world.a, started_at=T0, status=RunStatus.failed, error_summary="x")
        add_run(db, world.a, started_at=T0 + timedelta(minutes=1))
        interface = await db.get(Interface, world.a.interface.id)
        assert interface is not None
        interface.health = Health.error  # e.g. late: but the last run did not fail
        await db.commit()
        await sign_in(client, world.a.admin.email)
        assert 'class="blockers"' not in (await client.get("/ui/errors")).text


async def test_hostile_values_are_escaped(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    failed_item(
        db,
        world.a,
        CANARY,
        CANARY,
        correlation_id=CANARY[:60],
        hubspot_id="1",
        object_name=CANARY,
        payload={"record": {CANARY: CANARY}, "properties": {CANARY: CANARY}},
    )
    add_run(db, world.a, started_at=T0, status=RunStatus.failed, error_summary=CANARY)
    interface = await db.get(Interface, world.a.interface.id)
    assert interface is not None
    interface.name = CANARY
    interface.health = Health.error
    await db.commit()
    await sign_in(client, world.a.admin.email)
    text = (await client.get("/ui/errors")).text
    gid = key_of(world.a.interface.id, CANARY, ErrorCategory.data, 400, CANARY).id
    assert gid in groups_in(text)
    pages = [text, (await client.get(f"/ui/errors/groups/{gid}")).text]
    pages.append((await client.get(f"/ui/errors/groups/{gid}", headers=PARTIAL)).text)
    for page in pages:
        assert "<script>alert(1)</script>" not in page
        assert "onerror=alert(1)><b" not in page
        assert '<b hx-get="/x">' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[1]


async def test_english_when_chosen(client: httpx.AsyncClient, world: World) -> None:
    await sign_in(client, world.a.admin.email)
    client.cookies.set("hubsync_lang", "en")
    text = (await client.get("/ui/errors")).text
    assert "<h1>Error log</h1>" in text
    assert "Retry all" in text
