"""Settings: readable refusals, a generated development key, safe production defaults."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from app.core.settings import Environment, SettingsError, load_settings
from tests.isolated_env import isolate_environment

GOOD_KEY = "a-perfectly-good-secret-key-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HUBSYNC_* variable or .env file of this machine reaches the settings."""
    isolate_environment(monkeypatch, tmp_path)
    var_dir = tmp_path / "var"
    monkeypatch.setenv("HUBSYNC_VAR_DIR", str(var_dir))
    return var_dir


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql://x", "sqlite:///plain-driver.db", ""],
    ids=["garbage", "mysql", "no-async-driver", "empty"],
)
def test_malformed_database_url_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", url)
    with pytest.raises(SettingsError, match="HUBSYNC_DATABASE_URL"):
        load_settings()


@pytest.mark.parametrize(
    "url",
    ["sqlite+aiosqlite:///./var/x.db", "postgresql+asyncpg://user@db.example.com/hubsync"],
    ids=["aiosqlite", "asyncpg"],
)
def test_supported_database_urls_are_accepted(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", url)
    assert load_settings().database_url == url


def test_production_without_secret_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    monkeypatch.setenv("HUBSYNC_ENV", "production")
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", "https://hub.example.com")
    with pytest.raises(SettingsError, match="HUBSYNC_SECRET_KEY"):
        load_settings()
    assert not (clean_env / "secret_key").exists()


def test_development_generates_a_key_once_and_reuses_it(clean_env: Path) -> None:
    with pytest.warns(RuntimeWarning, match="HUBSYNC_SECRET_KEY is not set"):
        first = load_settings()
    key_file = clean_env / "secret_key"
    assert first.env == Environment.development
    assert key_file.is_file()
    generated = key_file.read_text(encoding="utf-8").strip()
    assert len(generated) >= 32
    assert first.secret_keys == [generated]
    assert key_file.stat().st_mode & 0o077 == 0

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = load_settings()
    assert second.secret_keys == [generated]
    assert key_file.read_text(encoding="utf-8").strip() == generated


@pytest.mark.parametrize(
    "key",
    ["changeme", "CHANGEME", "secret", "development", "too-short-key", f"{GOOD_KEY},dev"],
    ids=["changeme", "upper-changeme", "secret", "development", "short", "one-of-many"],
)
@pytest.mark.parametrize("env", ["development", "production"])
def test_placeholder_or_short_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path, key: str, env: str
) -> None:
    monkeypatch.setenv("HUBSYNC_ENV", env)
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", "https://hub.example.com")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", key)
    with pytest.raises(SettingsError, match="HUBSYNC_SECRET_KEY"):
        load_settings()
    assert not (clean_env / "secret_key").exists()


def test_several_keys_are_read_newest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    newer, older = GOOD_KEY + "-new", GOOD_KEY + "-old"
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", f" {newer} , {older} ,")
    assert load_settings().secret_keys == [newer, older]


def test_production_refuses_a_plain_http_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_ENV", "production")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", "http://hub.example.com")
    with pytest.raises(SettingsError, match="HUBSYNC_PUBLIC_URL"):
        load_settings()


def test_production_refuses_the_default_http_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_ENV", "production")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    with pytest.raises(SettingsError, match="HUBSYNC_PUBLIC_URL"):
        load_settings()


def test_production_defaults_docs_off_and_secure_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_ENV", "production")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", "https://hub.example.com/")
    settings = load_settings()
    assert settings.is_production()
    assert settings.public_url == "https://hub.example.com"
    assert settings.docs_enabled is False
    assert settings.secure_cookies is True
    assert settings.json_logs is True


def test_production_docs_can_be_turned_on_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_ENV", "production")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", "https://hub.example.com")
    monkeypatch.setenv("HUBSYNC_DOCS", "true")
    assert load_settings().docs_enabled is True


def test_development_defaults_docs_on_and_plain_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    settings = load_settings()
    assert settings.is_development()
    assert settings.docs_enabled is True
    assert settings.public_url.startswith("http://")
    assert settings.secure_cookies is False
    assert settings.json_logs is False


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://hub.example.com", True), ("http://localhost:8000", False)],
)
def test_secure_cookies_follow_the_public_url_scheme(
    monkeypatch: pytest.MonkeyPatch, public_url: str, secure: bool
) -> None:
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", public_url)
    assert load_settings().secure_cookies is secure


@pytest.mark.parametrize("public_url", ["ftp://hub.example.com", "hub.example.com", "https://"])
def test_public_url_must_be_absolute_http(monkeypatch: pytest.MonkeyPatch, public_url: str) -> None:
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("HUBSYNC_PUBLIC_URL", public_url)
    with pytest.raises(SettingsError, match="HUBSYNC_PUBLIC_URL"):
        load_settings()


def test_dotenv_in_the_working_directory_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(
        f"HUBSYNC_SECRET_KEY={GOOD_KEY}\nHUBSYNC_DATABASE_URL=mysql://from-dotenv\n",
        encoding="utf-8",
    )
    with pytest.raises(SettingsError, match="HUBSYNC_DATABASE_URL"):
        load_settings()


def test_an_empty_generated_key_file_is_refused(clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    (clean_env / "secret_key").write_text("\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="no usable key"):
        load_settings()
