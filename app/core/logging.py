"""Structured logging: JSON in production, readable lines in development.

Every line carries the request id bound by the HTTP middleware. A redaction
processor is the last line of defence: keys that name secrets are masked
whatever a caller passes, and CR/LF are escaped so a value cannot forge lines.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
_SECRET_KEY_PATTERN = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|credential|session",
    re.IGNORECASE,
)
_NOISY_LOGGERS = ("httpx", "httpcore", "sqlalchemy.engine", "aiosqlite", "asyncio", "apscheduler")


def redact(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Mask values of secret-looking keys and escape line breaks in strings."""
    for key, value in list(event.items()):
        if _SECRET_KEY_PATTERN.search(key):
            event[key] = REDACTED
        elif isinstance(value, str):
            event[key] = value.replace("\r", "\\r").replace("\n", "\\n")
    return event


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Route stdlib and structlog output through one renderer with shared processors."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").disabled = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger for module ``name``."""
    return structlog.stdlib.get_logger(name)
