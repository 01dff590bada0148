"""Logging: secrets never reach the output, values cannot forge log lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from app.core.logging import REDACTED, configure_logging, get_logger, redact

CANARY = "canary-pw-123"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put back the root handlers and structlog's configuration after a test configures them."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    watched = ("httpx", "httpcore", "sqlalchemy.engine", "aiosqlite", "asyncio")
    levels = {name: logging.getLogger(name).level for name in watched}
    access_disabled = logging.getLogger("uvicorn.access").disabled
    config = structlog.get_config()
    yield
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)
    logging.getLogger("uvicorn.access").disabled = access_disabled


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "Password",
        "pass",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "client_secret",
        "authorization",
        "Authorization",
        "cookie",
        "set_cookie",
        "api_key",
        "api-key",
        "credentials",
        "session",
    ],
)
def test_redact_masks_secret_keys(key: str) -> None:
    event: dict[str, Any] = {"event": "login", key: CANARY}
    result = redact(None, "info", event)
    assert result[key] == REDACTED
    assert result["event"] == "login"


def test_redact_masks_non_string_secret_values() -> None:
    result = redact(None, "info", {"event": "x", "token": {"value": CANARY}, "password": 12345})
    assert result["token"] == REDACTED
    assert result["password"] == REDACTED


def test_redact_keeps_harmless_keys() -> None:
    result = redact(None, "info", {"event": "sync done", "records": 12, "interface": "erp"})
    assert result == {"event": "sync done", "records": 12, "interface": "erp"}


def test_redact_escapes_line_breaks() -> None:
    forged = "ok\r\n2025-01-01 level=info event=admin logged in\nmore"
    result = redact(None, "info", {"event": forged, "email": "a@b.ch\r\nx"})
    assert "\n" not in result["event"]
    assert "\r" not in result["event"]
    assert result["event"] == "ok\\r\\n2025-01-01 level=info event=admin logged in\\nmore"
    assert result["email"] == "a@b.ch\\r\\nx"


@pytest.mark.usefixtures("restore_logging")
def test_json_output_has_no_password(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    get_logger("hubsync.test").info(
        "user signed in", password=CANARY, email="a@example.ch", note="line1\nline2"
    )
    err = capsys.readouterr().err
    assert CANARY not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == "user signed in"
    assert record["password"] == REDACTED
    assert record["email"] == "a@example.ch"
    assert record["note"] == "line1\\nline2"
    assert record["level"] == "info"
    assert record["logger"] == "hubsync.test"


@pytest.mark.usefixtures("restore_logging")
def test_stdlib_records_get_line_breaks_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=True)
    logging.getLogger("some.library").warning("forged\nline with %s", CANARY)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["event"] == f"forged\\nline with {CANARY}"
    assert record["level"] == "warning"


@pytest.mark.usefixtures("restore_logging")
def test_console_output_has_no_password(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=False)
    get_logger("hubsync.test").warning("token refreshed", access_token=CANARY)
    err = capsys.readouterr().err
    assert "token refreshed" in err
    assert CANARY not in err
    assert REDACTED in err
