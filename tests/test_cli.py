"""The ``hubsync`` command against a fresh SQLite file database."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner, Result

import app.cli
from app.cli import app as cli_app
from app.core import migrations
from tests.isolated_env import isolate_environment

SECRET_KEY = "cli-test-secret-key-0123456789"
PASSWORD = "a good long password"


@pytest.fixture
def db_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A fresh SQLite database file; no HUBSYNC_* of this machine and no .env leak in."""
    isolate_environment(monkeypatch, tmp_path)
    path = tmp_path / "hubsync.db"
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", SECRET_KEY)
    monkeypatch.setenv("HUBSYNC_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HUBSYNC_ENV", "test")
    return path


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record instead of starting uvicorn, so a wrong ``serve`` cannot hang the run."""
    started: list[tuple[str, int]] = []

    def fake_serve(_settings: object, host: str, port: int) -> None:
        started.append((host, port))

    monkeypatch.setattr(app.cli, "_serve", fake_serve)
    return started


def invoke(args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli_app, args, input=stdin)


def query(path: Path, sql: str, *params: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


@pytest.fixture
def migrated(db_file: Path) -> Path:
    result = invoke(["migrate"])
    assert result.exit_code == 0, result.output
    return db_file


@pytest.fixture
def acme(migrated: Path) -> Path:
    result = invoke(["tenant", "add", "acme", "--name", "Acme AG"])
    assert result.exit_code == 0, result.output
    return migrated


def test_migrate_brings_the_schema_to_head(db_file: Path) -> None:
    result = invoke(["migrate"])
    assert result.exit_code == 0, result.output
    head = migrations.head_revision()
    assert head is not None
    assert head in result.stdout
    assert query(db_file, "SELECT version_num FROM alembic_version") == [(head,)]
    again = invoke(["migrate"])
    assert again.exit_code == 0, again.output


def test_tenant_add_creates_the_tenant(migrated: Path) -> None:
    result = invoke(["tenant", "add", "acme", "--name", "Acme AG"])
    assert result.exit_code == 0, result.output
    assert "tenant acme created" in result.stdout
    assert query(migrated, "SELECT slug, name FROM tenants") == [("acme", "Acme AG")]


def test_duplicate_tenant_slug_fails_clearly(acme: Path) -> None:
    result = invoke(["tenant", "add", "acme", "--name", "Another Acme"])
    assert result.exit_code == 1
    assert "error:" in result.stderr
    assert "'acme' exists already" in result.stderr
    assert "Traceback" not in result.output
    assert query(acme, "SELECT name FROM tenants") == [("Acme AG",)]


def test_invalid_tenant_slug_fails(migrated: Path) -> None:
    result = invoke(["tenant", "add", "Not A Slug", "--name", "Acme AG"])
    assert result.exit_code == 1
    assert "slug must be" in result.stderr
    assert query(migrated, "SELECT count(*) FROM tenants") == [(0,)]


def test_user_add_with_password_on_stdin_stores_an_argon2id_hash(acme: Path) -> None:
    result = invoke(
        [
            "user",
            "add",
            "admin@acme.example.com",
            "--role",
            "admin",
            "--tenant",
            "acme",
            "--password-stdin",
        ],
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "user admin@acme.example.com created as admin" in result.stdout
    assert PASSWORD not in result.output
    rows = query(
        acme,
        "SELECT u.password_hash, u.role, t.slug FROM users u JOIN tenants t ON t.id = u.tenant_id "
        "WHERE u.email = ?",
        "admin@acme.example.com",
    )
    assert len(rows) == 1
    stored, role, slug = rows[0]
    assert isinstance(stored, str)
    assert (role, slug) == ("admin", "acme")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert PasswordHasher().verify(stored, PASSWORD)


def test_user_add_refuses_a_short_password(acme: Path) -> None:
    result = invoke(
        [
            "user",
            "add",
            "viewer@acme.example.com",
            "--role",
            "viewer",
            "--tenant",
            "acme",
            "--password-stdin",
        ],
        stdin="short\n",
    )
    assert result.exit_code == 1
    assert "password must have at least" in result.stderr
    assert query(acme, "SELECT count(*) FROM users") == [(0,)]


def test_user_add_refuses_an_operator_with_a_tenant(acme: Path) -> None:
    result = invoke(
        [
            "user",
            "add",
            "ops@integrator.example.com",
            "--role",
            "operator",
            "--tenant",
            "acme",
            "--password-stdin",
        ],
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert "operators belong to no tenant" in result.stderr
    assert query(acme, "SELECT count(*) FROM users") == [(0,)]


def test_user_add_refuses_an_unknown_tenant(migrated: Path) -> None:
    result = invoke(
        [
            "user",
            "add",
            "admin@nowhere.example.com",
            "--role",
            "admin",
            "--tenant",
            "nowhere",
            "--password-stdin",
        ],
        stdin=PASSWORD + "\n",
    )
    assert result.exit_code == 1
    assert "'nowhere' not found" in result.stderr
    assert query(migrated, "SELECT count(*) FROM users") == [(0,)]


def test_user_add_prompts_for_the_password_twice(migrated: Path) -> None:
    result = invoke(
        ["user", "add", "ops@integrator.example.com", "--role", "operator"],
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "user ops@integrator.example.com created as operator" in result.stdout
    assert "Password" in result.output
    assert PASSWORD not in result.output
    rows = query(
        migrated,
        "SELECT password_hash, tenant_id FROM users WHERE email = ?",
        "ops@integrator.example.com",
    )
    assert len(rows) == 1
    stored, tenant_id = rows[0]
    assert isinstance(stored, str)
    assert tenant_id is None
    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, PASSWORD)


def test_user_add_prompt_repeats_on_mismatch(migrated: Path) -> None:
    other = "a different long password"
    result = invoke(
        ["user", "add", "ops@integrator.example.com", "--role", "operator"],
        stdin=f"{PASSWORD}\n{other}\n{other}\n{other}\n",
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    (stored,) = query(migrated, "SELECT password_hash FROM users")[0]
    assert isinstance(stored, str)
    assert PasswordHasher().verify(stored, other)


def test_commands_refuse_an_unmigrated_database(db_file: Path) -> None:
    result = invoke(["tenant", "add", "acme", "--name", "Acme AG"])
    assert result.exit_code == 1
    assert "hubsync migrate" in result.stderr


def test_serve_refuses_an_unmigrated_database(
    db_file: Path, no_server: list[tuple[str, int]]
) -> None:
    result = invoke(["serve"])
    assert result.exit_code == 1
    assert "hubsync migrate" in result.stderr
    assert no_server == []


def test_serve_starts_on_a_migrated_database(
    migrated: Path, no_server: list[tuple[str, int]]
) -> None:
    result = invoke(["serve", "--host", "127.0.0.1", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert no_server == [("127.0.0.1", 8123)]


@pytest.mark.parametrize("url", ["not a url", "mysql://x"], ids=["garbage", "mysql"])
def test_serve_refuses_a_malformed_database_url(
    monkeypatch: pytest.MonkeyPatch, db_file: Path, no_server: list[tuple[str, int]], url: str
) -> None:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", url)
    result = invoke(["serve"])
    assert result.exit_code == 1
    assert "HUBSYNC_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.output
    assert no_server == []
    assert not db_file.exists()


def test_migrate_refuses_a_malformed_database_url(
    monkeypatch: pytest.MonkeyPatch, db_file: Path
) -> None:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", "not a url")
    result = invoke(["migrate"])
    assert result.exit_code == 1
    assert "HUBSYNC_DATABASE_URL" in result.stderr


def test_migrate_reports_an_unreachable_database(
    monkeypatch: pytest.MonkeyPatch, db_file: Path
) -> None:
    monkeypatch.setenv("HUBSYNC_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/none")
    result = invoke(["migrate"])
    assert result.exit_code == 1
    assert "HUBSYNC_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.output


def test_secrets_rotate_re_encrypts_under_the_new_key(
    monkeypatch: pytest.MonkeyPatch, acme: Path
) -> None:
    """Rotation keeps every secret readable with the new key alone."""
    from app.core.secrets_box import SecretBox

    old_box = SecretBox([SECRET_KEY])
    token = old_box.encrypt("c0ffee00-0000-4000-8000-000000000001", {"password": "pw"})
    tenant_id = query(acme, "SELECT id FROM tenants")[0][0]
    connection = sqlite3.connect(acme)
    connection.execute(
        "INSERT INTO connections (id, tenant_id, name, kind, connector, config, "
        "secrets_encrypted, created_at, modified_at) VALUES "
        "('c0ffee00000040008000000000000001', ?, 'erp', 'source', 'sql', '{}', ?, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        (tenant_id, token),
    )
    connection.commit()
    connection.close()
    new_key = "a-brand-new-master-key-0123456789"
    monkeypatch.setenv("HUBSYNC_SECRET_KEY", f"{new_key},{SECRET_KEY}")
    result = invoke(["secrets", "rotate"])
    assert result.exit_code == 0, result.output
    assert "1 connection" in result.stdout
    rotated = str(query(acme, "SELECT secrets_encrypted FROM connections")[0][0])
    assert rotated != token
    box = SecretBox([new_key])
    assert box.decrypt("c0ffee00-0000-4000-8000-000000000001", rotated) == {"password": "pw"}


def test_sandbox_command_builds_the_portal_it_was_asked_for(
    monkeypatch: pytest.MonkeyPatch, db_file: Path
) -> None:
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    result = invoke(
        [
            "sandbox",
            "--port",
            "8111",
            "--profile",
            "starter",
            "--token",
            "t-one",
            "--token",
            "t-two",
            "--no-rate-limits",
            "--portal-id",
            "4711",
        ]
    )
    assert result.exit_code == 0, result.output
    config = served["app"].state.sandbox.config
    assert (served["port"], config.profile, config.portal_id) == (8111, "starter", 4711)
    assert config.private_tokens == ["t-one", "t-two"]
    assert config.rate_limits is False
    assert "http://127.0.0.1:8111" in result.stdout


def test_sandbox_command_refuses_an_unknown_profile(db_file: Path) -> None:
    result = invoke(["sandbox", "--profile", "platinum"])
    assert result.exit_code == 1
    assert "free, starter, professional, enterprise" in result.stderr


def test_sandbox_command_sets_faults_from_the_start(
    monkeypatch: pytest.MonkeyPatch, db_file: Path
) -> None:
    import uvicorn

    served: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(app=app, **kw))
    result = invoke(["sandbox", "--faults", '{"error_rate": 0.25, "seed": 3}', "--search-lag", "2"])
    assert result.exit_code == 0, result.output
    config = served["app"].state.sandbox.config
    assert (config.faults.error_rate, config.faults.seed, config.search_lag_seconds) == (0.25, 3, 2)


@pytest.mark.parametrize("faults", ['{"error_rate": "lots"}', '{"no_such": 1}', "[1]", "{"])
def test_sandbox_command_refuses_bad_faults(db_file: Path, faults: str) -> None:
    result = invoke(["sandbox", "--faults", faults])
    assert result.exit_code == 1
    assert "--faults:" in result.stderr


def test_connectors_list_shows_built_in_and_third_party_connectors(db_file: Path) -> None:
    result = invoke(["connectors", "list"])
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert names == ["csv", "memory", "rest", "sql"]
    assert "hubsync-connector-example 0.1.0" in result.stdout
    assert "url*" in result.stdout
    assert "password*" in result.stdout


def test_mapping_validate_and_export_from_the_command_line(db_file: Path, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "docs" / "examples" / "erp-companies.yaml"
    checked = invoke(["mapping", "validate", str(example), "--offline"])
    assert checked.exit_code == 0, checked.output
    assert "valid (companies, contacts, deals)" in checked.stdout
    out = tmp_path / "signoff.xlsx"
    exported = invoke(["mapping", "export", str(example), "--format", "xlsx", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes().startswith(b"PK\x03\x04")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        example.read_text(encoding="utf-8").replace("interval_minutes: 15", "interval_minutes: 50")
    )
    refused = invoke(["mapping", "validate", str(broken)])
    assert refused.exit_code == 1
    assert "between 10 and 45" in refused.stderr


def test_purge_counts_then_deletes_what_is_past_its_retention(
    migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSYNC_WEBHOOK_EVENT_RETENTION_DAYS", "7")
    with sqlite3.connect(migrated) as connection:
        for event_id, age in (("old", 8), ("new", 1)):
            connection.execute(
                "INSERT INTO webhook_events (id, portal_id, event_id, subscription_type, state,"
                " attempts, received_at, payload) VALUES (?, 1, ?, 'contact.creation',"
                " 'processed', 0, datetime('now', ?), '{}')",
                (uuid.uuid4().hex, event_id, f"-{age} days"),
            )
    dry = invoke(["purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert (
        "would delete 0 settled items, 0 failed items, 1 webhook events, 0 runs, 0 audit entries"
        in dry.output
    )
    done = invoke(["purge"])
    assert "deleted 0 settled items, 0 failed items, 1 webhook events" in done.output
    assert query(migrated, "SELECT event_id FROM webhook_events") == [("new",)]


def test_purge_refuses_a_retention_longer_than_the_maximum(
    migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUBSYNC_WEBHOOK_EVENT_RETENTION_DAYS", "200")
    result = invoke(["purge"])
    assert result.exit_code == 1
    assert "webhook event retention must be at least one day and at most the maximum" in (
        result.output
    )
