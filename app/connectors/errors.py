"""Connector errors, classified by what the sync runner does with them.

    ConnectorError                 base: a message safe to show, and a failure type
    ├── ConnectorConfigError       config: a setting is wrong (names the field); fix the connection
    ├── ConnectorUnavailable       transient: the system did not answer in time; retry later
    ├── ConnectorAuthError         config: the credentials were refused
    └── RecordError                data: one record failed; the rest of the run goes on

Messages never contain secrets: connectors scrub URLs and credentials first.
"""

from __future__ import annotations

from typing import ClassVar


class ConnectorError(Exception):
    """A connector failure with a user-safe message."""

    failure_type: ClassVar[str] = "system"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectorConfigError(ConnectorError):
    """A configuration value is invalid; ``field`` names it."""

    failure_type = "config"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class ConnectorUnavailable(ConnectorError):
    """The third-party system could not be reached or did not answer within the timeout."""

    failure_type = "transient"


class ConnectorAuthError(ConnectorError):
    """The third-party system refused the credentials."""

    failure_type = "config"


class RecordError(ConnectorError):
    """One record could not be read or written; it fails alone."""

    failure_type = "data"
