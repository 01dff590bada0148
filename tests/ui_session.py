"""Signing in through the UI the way a browser does: fetch the form, post it with its token."""

from __future__ import annotations

import re

import httpx

from tests.factories import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_from(html: str) -> str:
    """The CSRF token embedded in a rendered page."""
    match = CSRF_FIELD.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


async def post_login(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Load the login form and submit it; returns the response to the POST."""
    form = await client.get("/ui/login")
    return await client.post(
        "/ui/login",
        data={"email": email, "password": password, "csrf_token": csrf_from(form.text)},
    )


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    """Sign in and return the CSRF token of the new session."""
    response = await post_login(client, email)
    assert response.status_code == 303, response.text
    dashboard = await client.get("/ui/")
    assert dashboard.status_code == 200
    return csrf_from(dashboard.text)
