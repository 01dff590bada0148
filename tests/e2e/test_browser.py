"""The UI in a real browser: sign-in, boosted navigation, sign-out, language, CSP."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

from playwright.async_api import Page, Response, expect

from tests.e2e.conftest import BrowserTab
from tests.factories import PASSWORD

SCREENSHOT = "/tmp/hubsync-dashboard.png"  # noqa: S108 - a fixed path, for humans to look at
NAV_PAGES = [
    ("Schnittstellen", "/ui/interfaces"),
    ("Synchronisationsverlauf", "/ui/runs"),
    ("Fehlerprotokoll", "/ui/errors"),
    ("Übersicht", "/ui/"),
]
WRONG_CREDENTIALS = "E-Mail oder Passwort ist falsch."


def path_is(path: str) -> re.Pattern[str]:
    """A URL pattern matching ``path`` exactly (any origin, no query)."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + r"$")


def answers(path: str) -> Callable[[Response], bool]:
    """A predicate for the response to a request for ``path``."""
    return lambda response: response.url.endswith(path)


def login_url() -> re.Pattern[str]:
    """A URL pattern for the login page, with or without a ``next`` parameter."""
    return re.compile(r"^https?://[^/]+/ui/login(\?.*)?$")


async def submit_login(tab: BrowserTab, email: str, password: str) -> Page:
    """Open the login form and submit it the way a user does."""
    page = tab.page
    await page.goto(tab.server.url("/ui/login"))
    await page.get_by_label("E-Mail").fill(email)
    await page.get_by_label("Passwort").fill(password)
    await page.get_by_role("button", name="Anmelden").click()
    return page


async def sign_in(tab: BrowserTab) -> Page:
    """Sign in as tenant A's admin and wait for the dashboard."""
    page = await submit_login(tab, tab.server.world.a.admin.email, PASSWORD)
    await expect(page).to_have_url(path_is("/ui/"))
    await expect(page.locator("main h1")).to_have_text("Übersicht")
    return page


async def test_sign_in_and_boosted_navigation_without_csp_violations(tab: BrowserTab) -> None:
    page = await submit_login(tab, tab.server.world.a.admin.email, PASSWORD)
    await expect(page).to_have_url(path_is("/ui/"))
    await expect(page.locator("main h1")).to_have_text("Übersicht")
    assert await page.evaluate("typeof window.htmx") == "object"
    await expect(page.locator("main")).to_contain_text("tenant-a-companies")

    nav = page.get_by_role("navigation", name="Hauptnavigation")
    for label, href in NAV_PAGES:
        await expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "href", href
        )
    await expect(nav.get_by_role("link", name="Übersicht")).to_have_attribute(
        "aria-current", "page"
    )

    # A marker on window survives a boosted swap but not a full page load.
    await page.evaluate("window.__sameDocument = true")
    for label, href in NAV_PAGES:
        async with page.expect_response(answers(href)) as answer:
            await nav.get_by_role("link", name=label, exact=True).click()
        response = await answer.value
        assert response.status == 200
        assert response.request.headers.get("hx-request") == "true", f"{label} was not boosted"
        await expect(page).to_have_url(path_is(href))
        await expect(page.locator("main h1")).to_have_text(label)
        await expect(nav.get_by_role("link", name=label, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        assert await page.evaluate("window.__sameDocument === true"), f"{label}: full reload"

    await page.screenshot(path=SCREENSHOT, full_page=True)
    assert await page.evaluate("window.__cspViolations") == []
    assert tab.problems() == []


async def test_wrong_password_shows_the_generic_error(tab: BrowserTab) -> None:
    email = tab.server.world.b.admin.email
    page = await submit_login(tab, email, "not the password")
    await expect(page.get_by_role("alert")).to_have_text(WRONG_CREDENTIALS)
    await expect(page).to_have_url(login_url())
    await expect(page.get_by_label("E-Mail")).to_have_value(email)
    await expect(page.get_by_label("Passwort")).to_have_value("")
    await expect(page.get_by_role("navigation", name="Hauptnavigation")).to_have_count(0)

    await page.goto(tab.server.url("/ui/"))
    await expect(page).to_have_url(login_url())


async def test_sign_out_ends_the_session(tab: BrowserTab) -> None:
    page = await sign_in(tab)
    cookies = {c["name"] for c in await page.context.cookies()}
    assert tab.server.session_cookie in cookies
    await page.get_by_role("button", name="Abmelden").click()
    await expect(page.get_by_label("Passwort")).to_be_visible()
    await expect(page.get_by_role("navigation", name="Hauptnavigation")).to_have_count(0)
    await expect(page).to_have_url(login_url())
    cookies = {c["name"] for c in await page.context.cookies()}
    assert tab.server.session_cookie not in cookies

    await page.goto(tab.server.url("/ui/"))
    await expect(page).to_have_url(tab.server.url("/ui/login?next=/ui/"))
    await expect(page.get_by_role("button", name="Anmelden")).to_be_visible()


async def test_pages_are_swiss_german(tab: BrowserTab) -> None:
    page = tab.page
    await page.goto(tab.server.url("/ui/login"))
    await expect(page.locator("html")).to_have_attribute("lang", "de-CH")
    await sign_in(tab)
    await expect(page.locator("html")).to_have_attribute("lang", "de-CH")


async def test_csp_violations_are_caught(tab: BrowserTab) -> None:
    """The probe behind the "no violations" check works: an inline script is refused and seen."""
    page = tab.page
    await page.goto(tab.server.url("/ui/login"))
    await page.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__inlineRan = true";
          document.body.append(script);
        }"""
    )
    await page.wait_for_function("window.__cspViolations.length > 0")
    for _ in range(50):  # the exposed binding reports asynchronously
        if tab.csp_violations:
            break
        await asyncio.sleep(0.02)
    assert tab.csp_violations, "the violation did not reach the test"
    assert "script-src" in tab.csp_violations[0]
    assert await page.evaluate("window.__inlineRan") is None
