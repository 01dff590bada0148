"""Settings of the sql connector, and the URL checks of SECURITY.md §12.

A URL names one of a few allowlisted drivers. Each dialect runs on a sync
driver in worker threads; the async driver names are accepted and mapped to
their sync twin, so one code path serves all. SQLite opens files on the hub's
own host: it is refused unless ``allow_local_files`` is set, which hubsync
only does for operators in dev and demo deployments.
"""

from __future__ import annotations

import re
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.connectors.base import ConnectorConfig

# Accepted driver names → the sync driver that actually runs.
DRIVERS: dict[str, str] = {
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql+asyncpg": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "mysql+aiomysql": "mysql+pymysql",
    "mysql+asyncmy": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
    "mariadb+pymysql": "mariadb+pymysql",
    "mariadb+aiomysql": "mariadb+pymysql",
    "mariadb+asyncmy": "mariadb+pymysql",
    "mssql": "mssql+pyodbc",
    "mssql+pyodbc": "mssql+pyodbc",
    "mssql+aioodbc": "mssql+pyodbc",
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "sqlite+aiosqlite": "sqlite+pysqlite",
}
# Parameters that reach local sockets or files on the hub, or run SQL at connect time.
REFUSED_PARAMETERS = frozenset(
    {"host", "unix_socket", "passfile", "sslkey", "sslcert", "options", "init_command"}
    | {"local_infile", "read_default_file", "read_default_group", "service", "sslrootcert"}
)
_HOST = re.compile(r"[A-Za-z0-9._:-]+")  # a name or an address: no path, list or escape
ALLOWED_PARAMETERS = frozenset(
    {"sslmode", "ssl", "application_name", "connect_timeout", "charset", "driver"}
)


def checked_url(raw: str, *, allow_local_files: bool) -> URL:
    """Parse ``raw`` and apply the §12 rules; the URL with its sync driver, or ValueError."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise ValueError("not a valid database URL (dialect+driver://user:pass@host/db)") from None
    shown = url.render_as_string(hide_password=True)
    driver = DRIVERS.get(url.drivername)
    if driver is None:
        known = ", ".join(sorted(DRIVERS))
        raise ValueError(f"driver {url.drivername!r} is not allowed in {shown} (allowed: {known})")
    if driver.startswith("sqlite"):
        if not allow_local_files:
            raise ValueError("sqlite opens files on the hub host; only operators may enable it")
        if url.database in {None, "", ":memory:"}:
            raise ValueError("sqlite needs a file: each worker thread would see its own memory")
    elif not _HOST.fullmatch(url.host or ""):
        raise ValueError(f"{shown} must name one network host (no local socket)")
    for name in url.query:
        if name in REFUSED_PARAMETERS:
            raise ValueError(f"query parameter {name!r} reaches the hub's own files or sockets")
        if name not in ALLOWED_PARAMETERS:
            allowed = ", ".join(sorted(ALLOWED_PARAMETERS))
            raise ValueError(f"query parameter {name!r} is not allowed (allowed: {allowed})")
    return url.set(drivername=driver)


class ObjectSpec(BaseModel):
    """One configured object: a table or view, or a SELECT with its key and cursor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str | None = Field(None, min_length=1, description="table or view, schema.name allowed")
    query: str | None = Field(None, min_length=1, description="one SELECT, read as a subquery")
    key: tuple[str, ...] = Field((), description="key columns (default: the primary key)")
    cursor: str | None = Field(None, description="change cursor column: timestamp or sequence")
    soft_delete: str | None = Field(None, description="set (not NULL) on deleted rows")

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.table is None) == (self.query is None):
            raise ValueError("set exactly one of table and query")
        if self.query is not None and not self.key:
            raise ValueError("a query object needs key columns")
        return self


class SqlConfig(ConnectorConfig):
    """Where the database is, which objects to expose, and how long to wait for it."""

    allow_local_files: bool = Field(False, description="permit sqlite (operators, dev/demo only)")
    url: SecretStr = Field(description="SQLAlchemy URL, e.g. postgresql://user:pw@host/db")
    db_schema: str | None = Field(None, description="schema to discover (default: the user's)")
    objects: dict[str, ObjectSpec] = Field(
        default_factory=dict, description="exposed objects (default: every table and view)"
    )
    batch_size: int = Field(1000, ge=1, le=100_000)
    connect_timeout: float = Field(10.0, gt=0, le=300, description="seconds")
    query_timeout: float = Field(60.0, gt=0, le=3600, description="seconds per statement")
    read_only: bool = Field(False, description="refuse writes and deletes")
    timezone: str = Field("UTC", description="zone of timestamps stored without one")

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        allow = bool(info.data.get("allow_local_files", False))
        checked_url(value.get_secret_value(), allow_local_files=allow)
        return value

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    def sqlalchemy_url(self) -> URL:
        """The checked URL, with the sync driver that runs it."""
        raw = self.url.get_secret_value()
        return checked_url(raw, allow_local_files=self.allow_local_files)

    def zone(self) -> ZoneInfo:
        """The zone that naive database timestamps are read in."""
        return ZoneInfo(self.timezone)
