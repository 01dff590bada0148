"""Checking notification addresses: e-mail syntax, https webhooks, loopback only in tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.errors import InvalidInput
from app.core.settings import Environment, Settings
from app.models.enums import NotificationKind
from app.notify.addresses import check_address, shown_address
from tests.conftest import make_settings

EMAIL, WEBHOOK = NotificationKind.email, NotificationKind.webhook


@pytest.fixture
def production(tmp_path: Path) -> Settings:
    return make_settings("sqlite+aiosqlite:///:memory:", tmp_path, env=Environment.production,
                         public_url="https://hubsync.example.com")  # fmt: skip


@pytest.fixture
def testing(tmp_path: Path) -> Settings:
    return make_settings("sqlite+aiosqlite:///:memory:", tmp_path)


@pytest.mark.parametrize(
    ("kind", "address", "normal"),
    [
        (EMAIL, "Ops@Tenant-A.example.com", "Ops@tenant-a.example.com"),
        (WEBHOOK, "https://hooks.slack.com/services/T0/B0/x", "https://hooks.slack.com/services/T0/B0/x"),
        (WEBHOOK, "https://acme.webhook.office.com/webhookb2/x", "https://acme.webhook.office.com/webhookb2/x"),
    ],
)  # fmt: skip
def test_good_addresses_pass_everywhere(
    production: Settings, testing: Settings, kind: NotificationKind, address: str, normal: str
) -> None:
    for settings in (production, testing):
        assert check_address(kind, address, settings=settings) == normal


@pytest.mark.parametrize(
    ("kind", "address"),
    [
        (EMAIL, "ops"),
        (EMAIL, "ops@localhost"),
        (EMAIL, "a@b@example.com"),
        (WEBHOOK, "http://hooks.example.com/x"),
        (WEBHOOK, "http://10.0.0.1/x"),
        (WEBHOOK, "ftp://hooks.example.com/x"),
        (WEBHOOK, "//hooks.example.com/x"),
        (WEBHOOK, "https:///x"),
        (WEBHOOK, "https://" + "x" * 500 + ".example.com/"),
    ],
)
def test_bad_addresses_are_refused(testing: Settings, kind: NotificationKind, address: str) -> None:
    with pytest.raises(InvalidInput):
        check_address(kind, address, settings=testing)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]/hook"]
)
def test_plain_http_to_loopback_only_outside_production(
    production: Settings, testing: Settings, url: str
) -> None:
    assert check_address(WEBHOOK, url, settings=testing) == url
    with pytest.raises(InvalidInput, match="https"):
        check_address(WEBHOOK, url, settings=production)


def test_responses_hide_the_webhook_path() -> None:
    assert shown_address(WEBHOOK, "https://user:pw@hooks.slack.com/services/T0/B0/x") == (
        "https://hooks.slack.com/…"
    )
    assert shown_address(EMAIL, "ops@example.com") == "ops@example.com"
