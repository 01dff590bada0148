"""The sql connector's settings: the URL rules of SECURITY.md §12, without a database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from app.connectors.errors import ConnectorConfigError
from app.connectors.sql import SqlConnector
from app.connectors.sql.config import SqlConfig
from app.connectors.sql.engine import connect_args

PASSWORD = "s3cret-Pa55"


def refusal(url: str, **settings: Any) -> ConnectorConfigError:
    """The error that building a connector on ``url`` raises."""
    with pytest.raises(ConnectorConfigError) as raised:
        SqlConnector.from_settings({"url": url, **settings})
    return raised.value


class TestRefusedUrls:
    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("sqlite:////var/lib/hubsync/hubsync.db", "only operators"),
            (f"postgresql://erp:{PASSWORD}@db.example/erp?host=/run/postgresql", "'host'"),
            (f"mysql+pymysql://erp:{PASSWORD}@db.example/erp?local_infile=1", "'local_infile'"),
            (f"postgresql://erp:{PASSWORD}@db.example/erp?passfile=/root/.pgpass", "'passfile'"),
            (f"postgresql://erp:{PASSWORD}@db.example/erp?sslkey=/etc/key.pem", "'sslkey'"),
            (f"mysql://erp:{PASSWORD}@db.example/erp?init_command=DROP+TABLE+x", "'init_command'"),
            (f"postgresql://erp:{PASSWORD}@db.example/erp?target_session_attrs=any", "allowed"),
            (f"oracle+oracledb://erp:{PASSWORD}@db.example/erp", "not allowed"),
            (f"postgresql://erp:{PASSWORD}@/erp", "no local socket"),
            (f"postgresql://erp:{PASSWORD}@%2Frun%2Fpostgresql/erp", "no local socket"),
            ("not a url", "not a valid database URL"),
        ],
    )
    def test_is_refused_naming_the_url_field(self, url: str, reason: str) -> None:
        error = refusal(url)
        assert error.field == "url"
        assert reason in error.message
        assert PASSWORD not in str(error)

    def test_sqlite_needs_allow_local_files(self, tmp_path: Any) -> None:
        url = f"sqlite:///{tmp_path / 'erp.db'}"
        assert refusal(url).field == "url"
        connector = SqlConnector.from_settings({"url": url, "allow_local_files": True})
        assert connector.config.sqlalchemy_url().drivername == "sqlite+pysqlite"

    def test_sqlite_in_memory_is_refused_even_when_allowed(self) -> None:
        error = refusal("sqlite://", allow_local_files=True)
        assert error.field == "url"

    def test_the_password_is_not_in_the_settings_repr(self) -> None:
        config = SqlConfig.model_validate({"url": f"postgresql://erp:{PASSWORD}@db.example/erp"})
        assert PASSWORD not in repr(config)
        assert config.secret_fields() == {"url"}


class TestAcceptedUrls:
    @pytest.mark.parametrize(
        ("url", "driver"),
        [
            ("postgresql://erp:pw@db.example/erp?sslmode=verify-full", "postgresql+psycopg"),
            ("postgresql+asyncpg://erp:pw@db.example:6432/erp", "postgresql+psycopg"),
            ("mysql://erp:pw@db.example/erp?charset=utf8mb4", "mysql+pymysql"),
            ("mysql+aiomysql://erp:pw@db.example/erp", "mysql+pymysql"),
            ("mariadb+pymysql://erp:pw@db.example/erp?connect_timeout=3", "mariadb+pymysql"),
        ],
    )
    def test_runs_on_the_sync_driver(self, url: str, driver: str) -> None:
        config = SqlConfig.model_validate({"url": url})
        assert config.sqlalchemy_url().drivername == driver

    def test_a_missing_driver_is_a_config_error(self) -> None:
        error = refusal("mssql+pyodbc://erp:pw@db.example/erp?driver=ODBC+Driver+18")
        assert (error.field, "not installed" in error.message) == ("url", True)


class TestConnectArgs:
    @pytest.mark.parametrize("url", ["mysql://erp@db.example/erp", "mariadb://erp@db.example/e"])
    def test_mysql_never_loads_local_files(self, url: str) -> None:
        config = SqlConfig.model_validate({"url": url, "connect_timeout": 2.5})
        args = connect_args(config.sqlalchemy_url(), config)
        assert args["local_infile"] is False
        assert args["connect_timeout"] == 3
        assert args["read_timeout"] == 3 + 60  # also bounds a handshake that never comes

    def test_postgresql_gets_a_connect_timeout(self) -> None:
        config = SqlConfig.model_validate({"url": "postgresql://erp@db.example/erp"})
        assert connect_args(make_url("postgresql+psycopg://x@h/d"), config) == {
            "connect_timeout": 10
        }


class TestObjectSettings:
    @pytest.mark.parametrize(
        ("spec", "field"),
        [
            ({"table": "a", "query": "SELECT 1"}, "objects.orders"),
            ({"query": "SELECT 1 AS id"}, "objects.orders"),
            ({"table": "a", "where": "1=1"}, "objects.orders.where"),
        ],
    )
    def test_invalid_object_names_its_setting(self, spec: dict[str, Any], field: str) -> None:
        error = refusal("postgresql://erp@db.example/erp", objects={"orders": spec})
        assert error.field == field

    def test_unknown_time_zone(self) -> None:
        error = refusal("postgresql://erp@db.example/erp", timezone="Europe/Nowhere")
        assert error.field == "timezone"
