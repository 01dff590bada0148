"""The sandbox's HTML pages: browse, create, edit, archive and GDPR-delete like a CRM user."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlencode

import httpx
import pytest
from markupsafe import escape

from app.connectors.hubspot.sandbox.events import ChangeEvent
from tests.connectors.hubspot.sandbox.conftest import TOKEN, Sandbox, open_sandbox

CANARY = '"><script>alert(1)</script>'
_FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class UI:
    """A signed-in browser on the sandbox's pages, and the sandbox behind them."""

    browser: httpx.AsyncClient
    sbx: Sandbox


@pytest.fixture
async def ui() -> AsyncIterator[UI]:
    """A fresh sandbox and a browser signed in with its private-app token."""
    app, sbx = await open_sandbox()
    browser = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8100", auth=("me", TOKEN)
    )
    async with sbx.http, browser:
        yield UI(browser, sbx)


class _FormReader(HTMLParser):
    """The name/value pairs a browser would submit from the first POST form of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.pairs: list[tuple[str, str]] = []
        self._in_form = self._done = False
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method") == "post" and not self._done:
            self._in_form = True
        elif not self._in_form:
            return
        elif tag == "input" and "name" in a:
            self.pairs.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select is not None and "selected" in a:
            self.pairs.append((self._select, a["value"]))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.pairs.append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.pairs[-1] = (self._textarea, self.pairs[-1][1] + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True
        self._select = None if tag == "select" else self._select
        self._textarea = None if tag == "textarea" else self._textarea


def form_of(page: str, **changes: str) -> list[tuple[str, str]]:
    """What submitting the page's form sends, with ``changes`` typed in."""
    reader = _FormReader()
    reader.feed(page)
    pairs = [(n, v) for n, v in reader.pairs if n not in changes]
    return pairs + list(changes.items())


async def submit(ui: UI, path: str, **changes: str) -> httpx.Response:
    """Open the page at ``path`` and submit its form."""
    page = await ui.browser.get(path)
    assert page.status_code == 200, page.text
    data = form_of(page.text, **changes)
    return await ui.browser.post(path, content=urlencode(data), headers=_FORM)


async def api_props(sbx: Sandbox, path: str) -> dict[str, str]:
    """A record's properties as the CRM API shows them."""
    response = await sbx.http.get(f"/crm/v3/objects/{path}")
    assert response.status_code == 200, response.text
    props: dict[str, str] = response.json()["properties"]
    return props


def seen(events: list[ChangeEvent]) -> list[tuple[str, str | None, str | None, str]]:
    """Events as (kind, property, value, change source)."""
    return [
        (e.subscription_type, e.property_name, e.property_value, e.change_source) for e in events
    ]


async def test_pages_need_the_private_token(ui: UI) -> None:
    anonymous = await ui.browser.get("/ui/", auth=None)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic ")
    wrong = await ui.browser.get("/ui/contacts", auth=("me", "nope"))
    assert wrong.status_code == 401
    bearer = await ui.browser.get("/ui/", auth=None, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 401


async def test_home_counts_records_and_serves_the_stylesheet(ui: UI) -> None:
    await ui.sbx.create("contacts", email="a@x.de")
    await ui.sbx.create("contacts", email="b@x.de")
    home = await ui.browser.get("/ui/")
    assert home.status_code == 200
    assert re.search(r'href="/ui/contacts">contacts</a>.*?<td class="number">2</td>', home.text)
    assert "script-src" not in home.headers["content-security-policy"]
    css = await ui.browser.get("/ui/static/sandbox.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")


async def test_list_is_newest_first_paged_and_searchable(ui: UI) -> None:
    inputs = [{"properties": {"name": f"Firm {n:02d}"}} for n in range(55)]
    created = await ui.sbx.http.post(
        "/crm/v3/objects/companies/batch/create", json={"inputs": inputs}
    )
    assert created.status_code == 201
    oldest = min(int(r["id"]) for r in created.json()["results"])
    ui.sbx.clock.advance(5)
    await ui.sbx.http.patch(
        f"/crm/v3/objects/companies/{oldest}", json={"properties": {"domain": "touched.io"}}
    )
    first = await ui.browser.get("/ui/companies")
    ids = re.findall(r'<a href="/ui/companies/(\d+)">', first.text)
    assert len(ids) == 50
    assert ids[0] == str(oldest)
    assert 'rel="next" href="/ui/companies?page=2"' in first.text
    second = await ui.browser.get("/ui/companies", params={"page": "2"})
    assert len(re.findall(r'<a href="/ui/companies/\d+">', second.text)) == 5
    assert 'rel="next"' not in second.text
    found = await ui.browser.get("/ui/companies", params={"q": "TOUCHED"})
    assert re.findall(r'<a href="/ui/companies/(\d+)">', found.text) == [str(oldest)]
    assert 'href="/ui/companies/new"' in found.text


async def test_create_through_the_form_then_read_through_the_api(ui: UI) -> None:
    form = await ui.browser.get("/ui/contacts/new")
    assert '<label for="p-email">' in form.text
    assert re.search(r'<select id="p-lifecyclestage" name="lifecyclestage">', form.text)
    assert 'id="p-hs_object_id"' not in form.text
    response = await submit(
        ui, "/ui/contacts/new", email="Ann@X.de", firstname="Ann", lifecyclestage="lead"
    )
    assert response.status_code == 303
    oid = response.headers["location"].rsplit("/", 1)[1]
    assert response.headers["location"] == f"/ui/contacts/{oid}"
    props = await api_props(ui.sbx, f"contacts/{oid}?properties=email,firstname,lifecyclestage")
    assert (props["email"], props["firstname"], props["lifecyclestage"]) == (
        "ann@x.de",
        "Ann",
        "lead",
    )
    assert {e.change_source for e in ui.sbx.sink.events} == {"CRM_UI"}
    assert ui.sbx.sink.events[0].subscription_type == "contact.creation"
    page = await ui.browser.get(f"/ui/contacts/{oid}")
    assert re.search(r'id="p-hs_object_id" value="' + oid + '" readonly', page.text)


async def test_edit_moves_lastmodifieddate_and_publishes_crm_ui_events(ui: UI) -> None:
    made = await ui.sbx.create("contacts", email="e@x.de", firstname="Eve", city="Bern")
    ui.sbx.clock.advance(60)
    ui.sbx.sink.events.clear()
    response = await submit(ui, f"/ui/contacts/{made['id']}", city="Basel", jobtitle="CTO")
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/contacts/{made['id']}"
    props = await api_props(ui.sbx, f"contacts/{made['id']}?properties=city,jobtitle,email")
    assert (props["city"], props["jobtitle"], props["email"]) == ("Basel", "CTO", "e@x.de")
    assert props["lastmodifieddate"] > made["properties"]["lastmodifieddate"]
    assert seen(ui.sbx.sink.events) == [
        ("contact.propertyChange", "city", "Basel", "CRM_UI"),
        ("contact.propertyChange", "jobtitle", "CTO", "CRM_UI"),
    ]


async def test_multiple_choices_and_textarea_newlines_round_trip(ui: UI) -> None:
    made = await ui.sbx.create("tickets", subject="Help", content="line 1\nline 2")
    path = f"/ui/tickets/{made['id']}"
    page = await ui.browser.get(path)
    data = [*form_of(page.text), ("hs_ticket_category", "BILLING_ISSUE")]
    data += [("hs_ticket_category", "GENERAL_INQUIRY")]
    data = [(n, v.replace("\n", "\r\n")) for n, v in data]
    saved = await ui.browser.post(path, content=urlencode(data), headers=_FORM)
    assert saved.status_code == 303
    assert seen(ui.sbx.sink.events)[-1] == (
        "ticket.propertyChange",
        "hs_ticket_category",
        "BILLING_ISSUE;GENERAL_INQUIRY",
        "CRM_UI",
    )
    props = await api_props(ui.sbx, f"tickets/{made['id']}?properties=content")
    assert props["content"] == "line 1\nline 2"
    again = await ui.browser.get(path)
    assert '<option value="BILLING_ISSUE" selected>' in again.text


async def test_validation_errors_rerender_with_422_and_keep_values(ui: UI) -> None:
    response = await submit(
        ui, "/ui/contacts/new", email="not-an-email", hs_lead_status="NOPE", firstname="Kim"
    )
    assert response.status_code == 422
    assert '<p class="error" id="e-email">Email address not-an-email is invalid</p>' in (
        response.text
    )
    assert re.search(r'<p class="error" id="e-hs_lead_status">NOPE was not one', response.text)
    assert 'name="firstname" value="Kim"' in response.text
    assert 'name="email" value="not-an-email" aria-invalid="true"' in response.text
    assert '<option value="NOPE" selected>' in response.text
    listed = await ui.sbx.http.get("/crm/v3/objects/contacts")
    assert listed.json()["results"] == []
    assert ui.sbx.sink.events == []


async def test_duplicate_email_on_edit_is_shown_on_the_form(ui: UI) -> None:
    await ui.sbx.create("contacts", email="taken@x.de")
    made = await ui.sbx.create("contacts", email="mine@x.de")
    response = await submit(ui, f"/ui/contacts/{made['id']}", email="taken@x.de")
    assert response.status_code == 422
    assert "already exists" in response.text
    assert 'name="email" value="taken@x.de"' in response.text


async def test_archive_after_confirmation(ui: UI) -> None:
    made = await ui.sbx.create("companies", name="Gone Inc")
    ui.sbx.sink.events.clear()
    record = await ui.browser.get(f"/ui/companies/{made['id']}")
    assert 'action="/ui/companies/' + made["id"] + '/archive"' in record.text
    assert "gdpr-delete" not in record.text
    response = await submit(ui, f"/ui/companies/{made['id']}/archive")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/companies"
    url = f"/crm/v3/objects/companies/{made['id']}"
    assert (await ui.sbx.http.get(url)).status_code == 404
    assert (await ui.sbx.http.get(url, params={"archived": "true"})).status_code == 200
    assert seen(ui.sbx.sink.events) == [("company.deletion", None, None, "CRM_UI")]
    assert (await ui.browser.get(f"/ui/companies/{made['id']}")).status_code == 404


async def test_gdpr_delete_is_permanent_and_contacts_only(ui: UI) -> None:
    made = await ui.sbx.create("contacts", email="forget@x.de")
    ui.sbx.sink.events.clear()
    response = await submit(ui, f"/ui/contacts/{made['id']}/gdpr-delete")
    assert response.status_code == 303
    url = f"/crm/v3/objects/contacts/{made['id']}"
    assert (await ui.sbx.http.get(url, params={"archived": "true"})).status_code == 404
    assert seen(ui.sbx.sink.events) == [
        ("contact.privacyDeletion", None, None, "CRM_UI"),
        ("contact.deletion", None, None, "CRM_UI"),
    ]
    company = await ui.sbx.create("companies", name="Firm")
    assert (await ui.browser.get(f"/ui/companies/{company['id']}/gdpr-delete")).status_code == 404


async def test_values_from_records_are_escaped(ui: UI) -> None:
    made = await ui.sbx.create("contacts", email="xss@x.de", firstname=CANARY, city=CANARY)
    for path in ("/ui/contacts", f"/ui/contacts/{made['id']}", "/ui/contacts?q=%3Cscript"):
        page = await ui.browser.get(path)
        assert page.status_code == 200
        assert "<script" not in page.text
        assert str(escape(CANARY)) in page.text
    searched = await ui.browser.get("/ui/contacts", params={"q": CANARY})
    assert "<script" not in searched.text
    assert f"/ui/contacts/{made['id']}" in searched.text


async def test_posts_without_the_form_token_are_refused(ui: UI) -> None:
    made = await ui.sbx.create("contacts", email="keep@x.de")
    missing = await ui.browser.post("/ui/contacts/new", data={"email": "cross@site.de"})
    assert missing.status_code == 403
    forged = await ui.browser.post(
        f"/ui/contacts/{made['id']}/archive", data={"form_token": "guess"}
    )
    assert forged.status_code == 403
    assert (await ui.sbx.http.get(f"/crm/v3/objects/contacts/{made['id']}")).status_code == 200
    assert {e.change_source for e in ui.sbx.sink.events} == {"API"}


async def test_unknown_types_records_and_actions_are_404(ui: UI) -> None:
    made = await ui.sbx.create("contacts", email="z@x.de")
    for path in ("/ui/widgets", "/ui/contacts/999", f"/ui/contacts/{made['id']}/explode"):
        response = await ui.browser.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html")
