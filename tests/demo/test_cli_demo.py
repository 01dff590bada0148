"""``hubsync demo``: builds the ERP, seeds the demo, prints how to get in, serves the demo app."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

import app.cli
from app.demo.server import DemoRuntime
from tests.test_cli import db_file, invoke, query

__all__ = ["db_file"]  # fixtures used by name


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[tuple[FastAPI, str, int]]:
    """Record the app instead of serving it."""
    started: list[tuple[FastAPI, str, int]] = []

    def fake_serve(asgi_app: FastAPI, host: str, port: int) -> None:
        started.append((asgi_app, host, port))

    monkeypatch.setattr(app.cli, "_serve_app", fake_serve)
    return started


class TestDemo:
    def test_sets_everything_up_and_serves_the_demo_app(
        self, db_file: Path, served: list[tuple[FastAPI, str, int]]
    ) -> None:
        result = invoke(["demo", "--port", "8123", "--activity-minutes", "5"])
        assert result.exit_code == 0, result.output
        runtime: DemoRuntime = served[0][0].state.demo
        assert served[0][1:] == ("127.0.0.1", 8123)
        assert runtime.config.activity_seconds == 300
        output = result.output
        assert "http://127.0.0.1:8123/ui/" in output
        assert "http://127.0.0.1:8123/hubspot-sandbox" in output
        assert runtime.config.token in output
        assert "operator@hubsync-demo.example.com" in output
        assert "admin@muster-handels.example.com" in output
        assert runtime.config.erp_path.exists()
        assert runtime.config.erp_path.parent == db_file.parent / "var"
        interfaces = query(db_file, "SELECT name, interval_minutes FROM interfaces ORDER BY name")
        assert interfaces == [("erp-auftraege-deals", 15), ("erp-firmen-kontakte", 10)]

    def test_starting_again_creates_nothing_twice(
        self, db_file: Path, served: list[tuple[FastAPI, str, int]]
    ) -> None:
        tables = ("tenants", "users", "connections", "interfaces", "mapping_versions")

        def counts() -> list[object]:
            return [query(db_file, f"SELECT count(*) FROM {t}")[0][0] for t in tables]  # noqa: S608

        assert invoke(["demo"]).exit_code == 0
        first = counts()
        assert first == [1, 2, 3, 2, 2]
        again = invoke(["demo"])
        assert again.exit_code == 0, again.output
        assert counts() == first
        tokens = [served_app.state.demo.config.token for served_app, _, _ in served]
        assert tokens[0] != tokens[1]

    def test_never_runs_in_production(
        self, db_file: Path, served: list[tuple[FastAPI, str, int]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("HUBSYNC_ENV", "production")
        monkeypatch.setenv("HUBSYNC_PUBLIC_URL", "https://hubsync.example.com")
        result = invoke(["demo"])
        assert result.exit_code == 1
        assert "production" in result.output
        assert served == []

    def test_keeps_its_database_in_the_var_dir_unless_told_otherwise(
        self, db_file: Path, served: list[tuple[FastAPI, str, int]], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("HUBSYNC_DATABASE_URL")
        result = invoke(["demo"])
        assert result.exit_code == 0, result.output
        database = db_file.parent / "var" / "hubsync.db"
        assert query(database, "SELECT count(*) FROM interfaces") == [(2,)]
        assert not db_file.exists()
