"""The connector's one engine, the per-transaction guards, and error translation.

Every dialect runs on a sync driver, called from worker threads. Each
transaction opens with a guard: reads are read-only and every statement has
a timeout, so a slow or hostile query ends on the server, not only here.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, InterfaceError, NoSuchModuleError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.connectors.errors import (
    ConnectorAuthError,
    ConnectorConfigError,
    ConnectorError,
    ConnectorUnavailable,
)
from app.connectors.sql.config import SqlConfig

# Driver codes (PostgreSQL SQLSTATE, MySQL error numbers) that decide the error class.
_AUTH_CODES: frozenset[str | int] = frozenset({"28P01", "28000", 1044, 1045, 1698})
_TIMEOUT_CODES: frozenset[str | int] = frozenset({"57014", "55P03", 1205, 1969, 3024})
# libpq reports a refused login without a SQLSTATE: recognise its words.
_AUTH_PHRASES = ("password authentication failed", "no pg_hba.conf entry", "FATAL:  role")
_REFUSED_CODES: frozenset[str | int] = frozenset({"25006", 1792})  # write in a read-only txn
_POSTGRES_READ = {"transaction_read_only": "on"}


def connect_args(url: URL, config: SqlConfig) -> dict[str, Any]:
    """Driver arguments: connect timeouts everywhere, and never LOAD DATA LOCAL on MySQL."""
    seconds = max(1, math.ceil(config.connect_timeout))
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {"connect_timeout": seconds}
    if backend in {"mysql", "mariadb"}:
        # read_timeout also bounds the handshake with a server that accepts and stays silent.
        reading = seconds + math.ceil(config.query_timeout)
        return {
            "connect_timeout": seconds,
            "read_timeout": reading,
            "write_timeout": reading,
            "local_infile": False,
        }
    if backend == "mssql":
        return {"timeout": seconds}
    return {"timeout": config.query_timeout}  # sqlite: how long to wait for a locked file


def build_engine(config: SqlConfig) -> Engine:
    """The engine of one connector instance (pre-ping, pool waits bounded by connect_timeout)."""
    url = config.sqlalchemy_url()
    try:
        engine = create_engine(
            url,
            connect_args=connect_args(url, config),
            pool_pre_ping=True,
            pool_size=2,
            pool_timeout=config.connect_timeout,
        )
    except (NoSuchModuleError, ImportError):
        raise ConnectorConfigError("url", f"the {url.drivername} driver is not installed") from None
    if url.get_backend_name() == "sqlite":
        _sqlite_begins_transactions(engine)
    return engine


def _sqlite_begins_transactions(engine: Engine) -> None:
    """Let SQLAlchemy emit BEGIN, so SAVEPOINTs and reads sit inside real transactions."""

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


def guard(connection: Connection, config: SqlConfig, *, read: bool) -> None:
    """Open the transaction with timeouts, and read-only for reads, on each dialect."""
    dialect = connection.dialect
    query_ms = math.ceil(config.query_timeout * 1000)
    if dialect.name == "postgresql":
        settings = {"statement_timeout": str(query_ms), "lock_timeout": str(min(query_ms, 5000))}
        settings["idle_in_transaction_session_timeout"] = str(query_ms)
        _postgres_settings(connection, {**_POSTGRES_READ, **settings} if read else settings)
    elif dialect.name in {"mysql", "mariadb"}:
        _mysql_guard(connection, query_ms, read=read)
    elif dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA query_only = 1" if read else "PRAGMA query_only = 0")
    elif dialect.name == "mssql":
        connection.exec_driver_sql(f"SET LOCK_TIMEOUT {min(query_ms, 5000):d}")


def _postgres_settings(connection: Connection, settings: dict[str, str]) -> None:
    """Transaction-local settings in one round trip, names and values bound."""
    calls = (func.set_config(name, value, True) for name, value in settings.items())
    connection.execute(select(*calls))


def _mysql_guard(connection: Connection, query_ms: int, *, read: bool) -> None:
    """Statement and lock timeouts per session; reads in START TRANSACTION READ ONLY."""
    if getattr(connection.dialect, "is_mariadb", False):
        connection.execute(text("SET SESSION max_statement_time = :s"), {"s": query_ms / 1000})
    else:
        connection.execute(text("SET SESSION max_execution_time = :ms"), {"ms": query_ms})
    lock_s = max(1, min(query_ms // 1000, 5))
    connection.execute(text("SET SESSION innodb_lock_wait_timeout = :s"), {"s": lock_s})
    if read:
        connection.exec_driver_sql("START TRANSACTION READ ONLY")


def describe(url: URL) -> str:
    """Where the database is, without credentials: "postgresql at db.example:5432/erp"."""
    if url.get_backend_name() == "sqlite":
        return f"sqlite database {url.database}"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()} at {url.host}{port}/{url.database or ''}"


def _code(error: DBAPIError) -> str | int | None:
    """MySQL's error number, else the SQLSTATE (psycopg, pyodbc)."""
    args = getattr(error.orig, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate:
        return str(sqlstate)
    return args[0] if args and isinstance(args[0], str) else None


def _refused_login(error: DBAPIError, message: str) -> bool:
    """Whether the server turned the login away (libpq gives no SQLSTATE for that)."""
    return _code(error) in _AUTH_CODES or any(p in message for p in _AUTH_PHRASES)


def driver_message(error: BaseException, config: SqlConfig) -> str:
    """The first line of the driver's message, with the password scrubbed out."""
    cause = error.orig if isinstance(error, DBAPIError) else error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    password = config.sqlalchemy_url().password
    return lines[0].replace(password, "***") if password else lines[0]


def translate(error: Exception, config: SqlConfig, *, field: str) -> ConnectorError:
    """The connector error for a driver or pool failure; ``field`` names a refused object."""
    if isinstance(error, ConnectorError):
        return error
    where = describe(config.sqlalchemy_url())
    if isinstance(error, PoolTimeout | TimeoutError):
        limits = f"{config.connect_timeout:g} s to connect, {config.query_timeout:g} s per query"
        return ConnectorUnavailable(f"{where} did not answer in time ({limits})")
    message = driver_message(error, config)
    if not isinstance(error, DBAPIError):
        return ConnectorUnavailable(f"{where} is unreachable: {message}")
    code = _code(error)
    if _refused_login(error, message):
        return ConnectorAuthError(f"{where} refused the credentials: {message}")
    if code in _TIMEOUT_CODES:
        return ConnectorUnavailable(
            f"a statement ran past the {config.query_timeout:g} s timeout on {where}: {message}"
        )
    if code in _REFUSED_CODES:
        return ConnectorConfigError(field, f"the read-only transaction refused it: {message}")
    if isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated:
        return ConnectorUnavailable(f"{where} is unreachable: {message}")
    return ConnectorConfigError(field, f"the database refused the statement: {message}")
