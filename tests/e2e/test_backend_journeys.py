"""The backend pages in a real browser, end to end: ERP in PostgreSQL → hubsync → sandbox portal.

An admin signs in, sees the interface, activates it, sets the interval (9 and
46 refused next to the field, 30 kept), syncs now and watches the run finish
without a reload, drills into the run, finds the refused record in the error
log with its values, fixes the mapping, approves it, retries the record and
sees the retry succeed. A viewer of the same tenant sees the pages without any
action control and is refused a POST; another tenant's admin sees nothing of
it. The main actions are reached with Tab by their accessible names; a record's
ⓘ opens a modal dialog (Escape closes it, the focus returns). The interface
header and the error log follow a run or a retry until it finished; the
interval select shows its value at laptop and phone widths. Every page is kept
as a screenshot (``HUBSYNC_TEST_ARTIFACTS``); no CSP violation, console error
or exception may occur beyond the refusals provoked on purpose.
"""

from __future__ import annotations

import re

from playwright.async_api import Locator, Page, expect

from tests.e2e.conftest import BrowserTab
from tests.e2e.journeys_kit import (
    BAD_KEY,
    BAD_STAGE,
    FIXED_STAGE_FIELD,
    INTERFACE_NAME,
    RUN_TIMEOUT_MS,
    Journey,
    Shoot,
    answer_to,
    csrf_post,
    erp_database,
    journey,
    live_server,
    no_action_controls,
    open_error_groups,
    portal_companies,
    row_of,
    run_now_and_wait,
    sandbox_portal,
    save_customer,
    screenshots,
    set_faults,
    sign_in_as,
    tab_until_focused,
    table,
    unexpected_problems,
)
from tests.factories import PASSWORD

__all__ = ["erp_database", "journey", "live_server", "sandbox_portal", "screenshots"]

SLOW_PORTAL_MS = 1_000  # sandbox latency while a run is watched: long enough to see it run
INVALID_OPTION = "Der Wert ist keine erlaubte Auswahloption der HubSpot-Eigenschaft."
INTERVAL_ERROR = "Das Intervall muss zwischen 10 und 45 Minuten liegen."
INTERVAL_HELP = "Zwischen 10 und 45 Minuten."
RUNS_CAPTION = "Läufe, neueste zuerst, mit Anzahl pro Objekt"
COUNTS_CAPTION = "Datensätze pro Objekt und Ergebnis"
RECORDS_CAPTION = "Betroffene Datensätze, neueste zuerst"
PAYLOAD_CAPTION = "Werte, die gesendet wurden oder hätten werden sollen"
RUN_STATUS = re.compile(r"Läuft|Erfolgreich|Mit Fehlern|Fehlgeschlagen")
VIEWPORTS = ((1280, 800), (390, 844))  # a laptop, a phone
# How wide the select's chosen text is, the room it has (its content box, without the
# padding that holds the arrow), how far its form sticks out of its panel (if at all), and
# how wide the page is.
FITS = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const form = select.closest("form").getBoundingClientRect();
  const panel = select.closest(".panel").getBoundingClientRect();
  const parts = [...select.closest("form").querySelectorAll("select, button")];
  const right = Math.max(...parts.map(part => part.getBoundingClientRect().right));
  return {text: context.measureText(select.selectedOptions[0].text).width, room,
          overflow: Math.max(right, form.right) - panel.right,
          page: document.documentElement.scrollWidth};
}"""


def nav_link(page: Page, name: str) -> Locator:
    """A link of the main navigation."""
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    return nav.get_by_role("link", name=name, exact=True)


def cause(page: Page, heading: str | re.Pattern[str] = INVALID_OPTION) -> Locator:
    """The error log's group (one cause) with this heading."""
    return page.locator("article.error-group").filter(has=page.get_by_role("heading", name=heading))


async def open_records(
    page: Page, key: str, heading: str | re.Pattern[str] = INVALID_OPTION
) -> Locator:
    """Expand a cause's records; the row of record ``key``."""
    group = cause(page, heading)
    await group.get_by_text("Betroffene Datensätze anzeigen").click()
    row = row_of(group.get_by_role("table", name=RECORDS_CAPTION), page, key)
    await expect(row).to_be_visible()
    return row


def record_dialog(page: Page, key: str) -> Locator:
    """The modal dialog with a record's data (the error log's ⓘ), named by its heading."""
    return page.get_by_role("dialog", name=f"Datensatz {key}")


async def open_newest_run(page: Page, trigger: str) -> Locator:
    """Open the newest run with ``trigger`` from the history; its live header and counts."""
    await nav_link(page, "Synchronisationsverlauf").click()
    row = table(page, RUNS_CAPTION).get_by_role("row").filter(has_text=trigger).first
    await row.get_by_role("link", name=RUN_STATUS).click()
    await expect(page.locator("main h1")).to_have_text(f"Synchronisationslauf: {INTERFACE_NAME}")
    return page.locator("#run-live")


async def test_an_admin_syncs_drills_down_fixes_and_retries(
    tab: BrowserTab, journey: Journey, screenshots: Shoot
) -> None:
    page = await sign_in_as(tab, journey.world.a.admin.email)
    overview = table(page, "Schnittstellen und ihr Zustand")
    await expect(overview.get_by_role("link", name=INTERFACE_NAME, exact=True)).to_be_visible()
    await screenshots(page, "01-dashboard")

    await overview.get_by_role("link", name=INTERFACE_NAME, exact=True).click()
    await expect(page.locator("main h1")).to_have_text(INTERFACE_NAME)
    actions = page.get_by_role("group", name="Aktionen")
    await actions.get_by_role("button", name="Aktivieren").click()
    await expect(actions.get_by_role("button", name="Pausieren")).to_be_visible()
    await expect(page.locator(".interface-header")).to_contain_text("Aktiv")
    await screenshots(page, "02-interface")

    await _interval_is_checked_next_to_the_field(page, screenshots)
    await _run_finishes_live(page, journey, screenshots)
    await _history_drills_into_the_run(page, screenshots)
    await _error_log_shows_the_refused_values(page, screenshots)
    await _fix_the_mapping(page, journey, screenshots)
    await _retry_succeeds(page, journey, screenshots)
    assert unexpected_problems(tab) == []


async def _interval_is_checked_next_to_the_field(page: Page, screenshots: Shoot) -> None:
    """9 and 46 come back (422) with the range next to the field; 30 is kept."""
    interval = page.get_by_label("Intervall in Minuten")
    save = page.get_by_role("button", name="Intervall speichern")
    for minutes in ("9", "46"):
        # the select offers 10–45 only: a stale or hand-made form is what sends these
        await interval.evaluate("(select, v) => select.add(new Option(v + ' Min.', v))", minutes)
        await interval.select_option(minutes)
        async with page.expect_response(answer_to("/interval")) as answer:
            await save.click()
        assert (await answer.value).status == 422
        await expect(interval).to_have_attribute("aria-invalid", "true")
        await expect(interval).to_have_accessible_description(INTERVAL_ERROR)
        await expect(interval).to_be_focused()
        await expect(interval).to_have_value("15")  # unchanged
    await screenshots(page, "03-interval-refused")
    await interval.select_option("30")
    async with page.expect_response(answer_to("/interval")) as answer:
        await save.click()
    assert (await answer.value).status == 204
    await expect(interval).to_have_value("30")
    await expect(interval).not_to_have_attribute("aria-invalid", "true")
    await expect(interval).to_have_accessible_description(INTERVAL_HELP)


async def _run_finishes_live(page: Page, journey: Journey, screenshots: Shoot) -> None:
    """Run now: the panel shows the run running, then finished, in the same document."""
    panel = page.locator("#run-panel")
    await set_faults(journey.sandbox_url, latency_ms=SLOW_PORTAL_MS)
    try:
        await page.evaluate("window.__sameDocument = true")
        await page.get_by_role("button", name="Jetzt synchronisieren").click()
        await expect(panel.get_by_role("heading")).to_have_text("Laufender Lauf")
        await expect(panel).to_contain_text("Läuft")
        await screenshots(page, "04-run-running")
        finished = panel.get_by_role("heading")
        await expect(finished).to_have_text("Letzter Lauf", timeout=RUN_TIMEOUT_MS)
    finally:
        await set_faults(journey.sandbox_url, latency_ms=0)
    await expect(panel).to_contain_text("Mit Fehlern")
    outcome = "2 erstellt, 0 aktualisiert, 0 gelöscht, 0 übersprungen, 1 fehlgeschlagen"
    await expect(panel).to_contain_text(outcome)
    await expect(page.locator("#toasts")).to_contain_text(f"Der Lauf ist abgeschlossen: {outcome}")
    assert await page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    await screenshots(page, "05-run-finished")


async def _history_drills_into_the_run(page: Page, screenshots: Shoot) -> None:
    """The history lists the run; its status opens counts per object and the tasks."""
    await nav_link(page, "Synchronisationsverlauf").click()
    row = table(page, RUNS_CAPTION).get_by_role("row").filter(has_text=INTERFACE_NAME).first
    await expect(row).to_contain_text("manuell")
    await screenshots(page, "06-history")

    await row.get_by_role("link", name="Mit Fehlern").click()
    await expect(page.locator("main h1")).to_have_text(f"Synchronisationslauf: {INTERFACE_NAME}")
    companies = row_of(table(page, COUNTS_CAPTION), page, "companies")
    await expect(companies.get_by_role("cell")).to_have_text(["2", "0", "0", "0", "0", "1"])
    tasks = table(page, "Aufgaben in der Reihenfolge ihrer Ausführung")
    await expect(tasks.locator(":scope > tbody > tr")).to_have_count(3)
    failed = row_of(tasks, page, BAD_KEY)
    await expect(failed).to_contain_text("Fehlgeschlagen")
    await expect(failed).to_contain_text("INVALID_OPTION")
    await screenshots(page, "07-run-detail")


async def _error_log_shows_the_refused_values(page: Page, screenshots: Shoot) -> None:
    """The cause comes with advice; ⓘ shows the source values beside those sent."""
    await nav_link(page, "Fehlerprotokoll").click()
    group = cause(page)
    await expect(group).to_contain_text(f"{INTERFACE_NAME} · companies")
    await expect(group).to_contain_text("Mapping-Tabelle umschlüsseln")
    row = await open_records(page, BAD_KEY)
    await expect(page.get_by_text("Gesendeter Wert")).to_have_count(0)  # loaded when asked for
    info = row.get_by_role("button", name=f"Daten anzeigen: {BAD_KEY}")
    await info.click()
    dialog = record_dialog(page, BAD_KEY)
    await expect(dialog).to_be_visible()
    payload = dialog.get_by_role("table", name=PAYLOAD_CAPTION)
    stage = row_of(payload, page, "lifecyclestage")
    await expect(stage.get_by_role("cell")).to_have_text(["stage", BAD_STAGE, BAD_STAGE])
    name = row_of(payload, page, "name")
    company = "Müller & Söhne AG"
    await expect(name.get_by_role("cell")).to_have_text(["name", company, company])
    await screenshots(page, "08-error-log-payload")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(info).to_be_focused()


async def _fix_the_mapping(page: Page, journey: Journey, screenshots: Shoot) -> None:
    """The integrator applies a mapping that translates the value; the admin approves it."""
    assert await journey.apply(FIXED_STAGE_FIELD) == 2
    await page.goto(journey.server.url(f"/ui/interfaces/{journey.interface_id}/versions"))
    await page.get_by_role("button", name="Freigeben").click()
    await expect(page.get_by_role("button", name="Freigeben")).to_have_count(0)
    version = row_of(page.locator("main"), page, "Version 2")
    await expect(version).to_contain_text(journey.world.a.admin.email)
    await expect(version.get_by_role("cell", name="Aktiv", exact=True)).to_be_visible()
    await screenshots(page, "09-version-approved")


async def _retry_succeeds(page: Page, journey: Journey, screenshots: Shoot) -> None:
    """Retry the record: a retry run succeeds, the record is in HubSpot, the error resolved."""
    errors = journey.server.url(f"/ui/errors?interface={journey.interface_id}")
    await page.goto(errors)
    row = await open_records(page, BAD_KEY)
    await row.get_by_role("button", name=f"Erneut versuchen: {BAD_KEY}").click()
    await expect(page.locator("#toasts")).to_contain_text("Erneuter Versuch gestartet")

    live = await open_newest_run(page, "Wiederholung")
    await expect(live).to_contain_text("Erfolgreich", timeout=RUN_TIMEOUT_MS)  # polled
    companies = row_of(table(page, COUNTS_CAPTION), page, "companies")
    await expect(companies.get_by_role("cell")).to_have_text(["1", "0", "0", "0", "0", "0"])
    await screenshots(page, "10-retry-succeeded")
    assert (await portal_companies(journey.sandbox_url))[BAD_KEY]["lifecyclestage"] == "customer"

    await page.goto(errors)
    await expect(page.get_by_role("heading", name=INVALID_OPTION)).to_have_count(0)
    await expect(page.locator("#error-results")).to_contain_text("Keine Fehler für diese Filter.")
    await page.get_by_label("Status").select_option("resolved")
    await expect(cause(page)).to_contain_text("behoben")
    await screenshots(page, "11-error-resolved")


async def test_a_viewer_sees_the_pages_without_action_controls(
    tab: BrowserTab, journey: Journey, screenshots: Shoot
) -> None:
    a, interface = journey.world.a, f"/ui/interfaces/{journey.interface_id}"
    page = await sign_in_as(tab, a.viewer.email)
    overview = table(page, "Schnittstellen und ihr Zustand")
    await expect(overview.get_by_role("link", name=INTERFACE_NAME, exact=True)).to_be_visible()
    await no_action_controls(page)
    await screenshots(page, "20-viewer-dashboard")

    await page.goto(journey.server.url(interface))
    await expect(page.locator("main h1")).to_have_text(INTERFACE_NAME)
    await expect(page.get_by_role("group", name="Aktionen")).to_have_count(0)
    await expect(page.get_by_label("Intervall in Minuten")).to_have_count(0)
    await no_action_controls(page)
    await screenshots(page, "21-viewer-interface")

    await page.goto(journey.server.url(f"/ui/runs/{a.run.id}"))
    await expect(page.locator("main h1")).to_contain_text("Synchronisationslauf")
    await page.get_by_label("Daten anzeigen").first.click()
    await expect(page.locator("main")).to_contain_text(
        "Ihre Rolle darf die Daten des Datensatzes nicht sehen."
    )
    await expect(page.get_by_role("table", name=PAYLOAD_CAPTION)).to_have_count(0)
    await screenshots(page, "22-viewer-run")

    await nav_link(page, "Fehlerprotokoll").click()
    await page.get_by_text("Betroffene Datensätze anzeigen").first.click()
    await expect(page.get_by_role("table", name=RECORDS_CAPTION).first).to_be_visible()
    await no_action_controls(page)
    await screenshots(page, "23-viewer-errors")

    for path in ("/run", "/dry-run", "/pause", "/activate"):
        assert await csrf_post(page, interface + path) == 403, path
    assert await csrf_post(page, interface + "/interval", {"minutes": "20"}) == 403
    for action in ("retry", "resolve"):
        assert await csrf_post(page, f"/ui/errors/items/{a.item.id}/{action}") == 403
    await page.goto(journey.server.url(interface))
    await expect(page.locator("#run-panel")).not_to_contain_text("Laufender Lauf")
    await expect(page.locator("main")).not_to_contain_text("Alle 20 Minuten")
    assert unexpected_problems(tab) == []


async def test_another_tenant_sees_none_of_it(
    tab: BrowserTab, journey: Journey, screenshots: Shoot
) -> None:
    a, b = journey.world.a, journey.world.b
    page = await sign_in_as(tab, b.admin.email)
    main = page.locator("main")
    await screenshots(page, "30-other-tenant-dashboard")
    for path in ("/ui/", "/ui/interfaces", "/ui/runs", "/ui/errors"):
        await page.goto(journey.server.url(path))
        await expect(main).to_contain_text(b.interface.name)
        for name in (INTERFACE_NAME, a.interface.name):
            await expect(main).not_to_contain_text(name)

    group_ids = await open_error_groups(journey.database_url, a.interface.id)
    assert group_ids, "tenant A has an open error group"
    for path in (
        f"/ui/interfaces/{journey.interface_id}",
        f"/ui/interfaces/{a.interface.id}/versions",
        f"/ui/runs/{a.run.id}",
        f"/ui/runs?interface={a.interface.id}",
        f"/ui/errors?interface={a.interface.id}",
        f"/ui/errors/groups/{group_ids[0]}",
    ):
        response = await page.goto(journey.server.url(path))
        assert response is not None
        assert response.status == 404, path
        await expect(main).not_to_contain_text(a.interface.name)
    await screenshots(page, "31-other-tenant-404")

    await page.goto(journey.server.url("/ui/"))  # an error page carries no CSRF token
    for path in (
        f"/ui/interfaces/{journey.interface_id}/run",
        f"/ui/errors/items/{a.item.id}/retry",
        f"/ui/errors/groups/{group_ids[0]}/resolve",
    ):
        assert await csrf_post(page, path) == 404, path
    assert unexpected_problems(tab) == []


async def test_the_interval_select_shows_its_whole_value_on_a_laptop_and_a_phone(
    tab: BrowserTab, journey: Journey, screenshots: Shoot
) -> None:
    page = await sign_in_as(tab, journey.world.a.admin.email)
    await page.goto(journey.server.url(f"/ui/interfaces/{journey.interface_id}"))
    interval = page.get_by_label("Intervall in Minuten")
    for width, height in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        fit = await interval.evaluate(FITS)
        assert fit["text"] <= fit["room"], f"{width} px: the value is cut ({fit})"
        assert fit["overflow"] <= 0, f"{width} px: the form leaves its panel ({fit})"
        assert fit["page"] <= width, f"{width} px: the page scrolls sideways ({fit})"
        await screenshots(page, f"40-interval-{width}px")
    assert unexpected_problems(tab) == []


async def test_main_actions_are_reached_with_tab_by_their_names(
    tab: BrowserTab, journey: Journey
) -> None:
    page = tab.page
    await page.goto(journey.server.url("/ui/login"))
    await tab_until_focused(page, page.get_by_role("textbox", name="E-Mail"))
    await page.keyboard.type(journey.world.a.admin.email)
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Passwort")).to_be_focused()
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.locator("main h1")).to_have_text("Übersicht")

    await page.goto(journey.server.url(f"/ui/interfaces/{journey.interface_id}"))
    assert await tab_until_focused(page, page.get_by_role("link", name="Zum Inhalt springen")) == 1
    for control in (
        page.get_by_role("button", name="Jetzt synchronisieren"),
        page.get_by_role("button", name="Probelauf"),
        page.get_by_role("button", name=re.compile("^(Pausieren|Aktivieren)$")),
        page.get_by_role("combobox", name="Intervall in Minuten"),
        page.get_by_role("button", name="Intervall speichern"),
    ):
        await tab_until_focused(page, control)

    await nav_link(page, "Fehlerprotokoll").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("main h1")).to_have_text("Fehlerprotokoll")
    await tab_until_focused(page, page.get_by_role("button", name="Alle erneut versuchen").first)
    await tab_until_focused(page, page.get_by_text("Betroffene Datensätze anzeigen").first)
    await page.keyboard.press("Enter")  # the <summary> has no role: reached by its text
    info = page.get_by_role("button", name=re.compile("^Daten anzeigen: ")).first
    await tab_until_focused(page, info)
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("table", name=PAYLOAD_CAPTION)).to_be_visible()
    await expect(dialog.get_by_role("button", name="Schliessen")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)  # closed: no longer in the accessibility tree
    await expect(info).to_be_focused()
    retry = page.get_by_role("button", name=re.compile(r"^Erneut versuchen: ")).first
    await tab_until_focused(page, retry)
    assert unexpected_problems(tab) == []


async def test_the_interface_header_follows_a_run_that_finished_live(
    tab: BrowserTab, journey: Journey, screenshots: Shoot
) -> None:
    await save_customer(journey.erp_url, "10010", "Header AG", "lead")
    page = await sign_in_as(tab, journey.world.a.admin.email)
    await page.goto(journey.server.url(f"/ui/interfaces/{journey.interface_id}"))
    header, panel = page.locator(".interface-header"), page.locator("#run-panel")
    await set_faults(journey.sandbox_url, latency_ms=SLOW_PORTAL_MS)
    try:
        await page.get_by_role("button", name="Jetzt synchronisieren").click()
        await expect(header).to_contain_text("Läuft")
        await expect(panel.get_by_role("heading")).to_have_text(
            "Letzter Lauf", timeout=RUN_TIMEOUT_MS
        )
    finally:
        await set_faults(journey.sandbox_url, latency_ms=0)
    sync_now = header.get_by_role("button", name="Jetzt synchronisieren")
    await expect(sync_now).to_be_visible(timeout=3_000)
    await expect(header).not_to_contain_text("Läuft", timeout=1_000)
    await screenshots(page, "41-header-after-the-run")
    assert unexpected_problems(tab) == []


async def test_the_error_log_follows_a_retry_until_it_finished(
    tab: BrowserTab, journey: Journey, screenshots: Shoot
) -> None:
    await save_customer(journey.erp_url, "10011", "Zufall AG", "lead")
    page = await sign_in_as(tab, journey.world.a.admin.email)
    await page.goto(journey.server.url(f"/ui/interfaces/{journey.interface_id}"))
    await set_faults(journey.sandbox_url, record_failure_rate=1.0)
    try:
        await run_now_and_wait(page)
    finally:
        await set_faults(journey.sandbox_url, record_failure_rate=0.0)
    await page.goto(journey.server.url(f"/ui/errors?interface={journey.interface_id}"))
    injected = cause(page, re.compile("Injected record failure"))
    await set_faults(journey.sandbox_url, latency_ms=700)  # the retry outlasts the reload
    try:
        await injected.get_by_role("button", name="Alle erneut versuchen").click()
        await expect(page.locator("#toasts")).to_contain_text("Erneuter Versuch gestartet")
        await expect(injected).to_have_count(0, timeout=6_000)
    finally:
        await set_faults(journey.sandbox_url, latency_ms=0)
    toasts = page.get_by_role("status")  # the polite live region says how it went
    finished = re.compile(r"Versuch ist abgeschlossen: \d+ erstellt, .* 0 fehlgeschlagen")
    await expect(toasts).to_contain_text(finished)
    await screenshots(page, "42-error-log-after-the-retry")
    assert unexpected_problems(tab) == []


async def test_a_retry_after_correcting_the_source_sends_the_corrected_record(
    tab: BrowserTab, journey: Journey
) -> None:
    await save_customer(journey.erp_url, "10012", "Partner AG", "Partner")
    page = await sign_in_as(tab, journey.world.a.admin.email)
    await page.goto(journey.server.url(f"/ui/interfaces/{journey.interface_id}"))
    await run_now_and_wait(page)
    await save_customer(journey.erp_url, "10012", "Partner AG", "other")  # corrected in the ERP
    await page.goto(journey.server.url(f"/ui/errors?interface={journey.interface_id}"))
    row = await open_records(page, "10012")
    await row.get_by_role("button", name="Erneut versuchen: 10012").click()
    await expect(page.locator("#toasts")).to_contain_text("Erneuter Versuch gestartet")
    live = await open_newest_run(page, "Wiederholung")
    await expect(live).not_to_contain_text("Läuft", timeout=RUN_TIMEOUT_MS)
    await expect(live).to_contain_text("Erfolgreich", timeout=1_000)
