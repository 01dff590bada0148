"""A client secret rotation: deliveries signed with the previous secret are still accepted
while ``HUBSYNC_HUBSPOT_CLIENT_SECRET_PREVIOUS`` names it, and no longer once it is removed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.settings import Settings
from app.main import create_app
from app.sync.webhooks.verify import accepted_secrets
from app.web import WebState
from tests.conftest import BASE_URL, make_settings
from tests.webhooks.kit import PATH, SECRET, batch, count_events, event, legacy_headers, v3_headers

pytestmark = pytest.mark.database
URI = BASE_URL + PATH
NEW_SECRET = "rotated-client-secret"


async def rotating(settings: Settings, **secrets: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of hubsync configured with ``secrets``."""
    app = create_app(make_settings(settings.database_url, settings.var_dir, **secrets))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL
        ) as client:
            yield client
    finally:
        await app.state.web.engine.dispose()


@pytest.fixture
async def mid_rotation(settings: Settings, web: WebState) -> AsyncIterator[httpx.AsyncClient]:
    """hubsync with the new secret, the old one still accepted (``web`` empties the tables)."""
    async for client in rotating(settings, hubspot_client_secret=NEW_SECRET,
                                 hubspot_client_secret_previous=SECRET):  # fmt: skip
        yield client


@pytest.fixture
async def rotated(settings: Settings, web: WebState) -> AsyncIterator[httpx.AsyncClient]:
    """hubsync after the rotation: the new secret only."""
    async for client in rotating(settings, hubspot_client_secret=NEW_SECRET):
        yield client


@pytest.mark.parametrize("secret", [NEW_SECRET, SECRET], ids=["new", "previous"])
async def test_during_a_rotation_both_secrets_sign(
    mid_rotation: httpx.AsyncClient, web: WebState, secret: str
) -> None:
    v3 = batch(event(1))
    v2 = batch(event(2))

    signed = await mid_rotation.post(PATH, content=v3, headers=v3_headers(v3, URI, secret=secret))
    legacy = await mid_rotation.post(
        PATH, content=v2, headers=legacy_headers(v2, URI, "v2", secret=secret)
    )

    assert (signed.status_code, legacy.status_code) == (200, 200)
    assert await count_events(web.session_factory) == 2


async def test_during_a_rotation_other_secrets_are_refused(
    mid_rotation: httpx.AsyncClient, web: WebState
) -> None:
    body = batch(event(1))

    response = await mid_rotation.post(
        PATH, content=body, headers=v3_headers(body, URI, secret="someone-else")
    )

    assert response.status_code == 401
    assert await count_events(web.session_factory) == 0


async def test_after_the_rotation_the_previous_secret_is_refused(
    rotated: httpx.AsyncClient, web: WebState
) -> None:
    body = batch(event(1))

    response = await rotated.post(PATH, content=body, headers=v3_headers(body, URI))

    assert response.status_code == 401
    assert await count_events(web.session_factory) == 0


class TestAcceptedSecrets:
    def test_the_current_secret_comes_first(self) -> None:
        assert accepted_secrets("new", "old") == ["new", "old"]

    def test_a_previous_secret_equal_to_the_current_one_counts_once(self) -> None:
        assert accepted_secrets("same", "same") == ["same"]

    def test_a_previous_secret_alone_configures_nothing(self) -> None:
        assert accepted_secrets(None, "old") == []

    def test_the_previous_secret_is_never_shown(self) -> None:
        settings = Settings.model_validate(
            {"env": "test", "secret_key": "k" * 32, "hubspot_client_secret_previous": "old-one"}
        )

        assert "old-one" not in repr(settings)
