"""``hubsync interface apply|list`` and ``hubsync mapping approve`` against a SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import MAPPING_YAML
from tests.test_cli import acme, db_file, invoke, migrated, query

__all__ = ["acme", "db_file", "migrated"]  # fixtures used by name
TOKEN = "cli-canary-token-41c"


@pytest.fixture
def interface_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ERP_PASSWORD", "cli-canary-pw-77d")
    monkeypatch.setenv("HUBSPOT_TOKEN", TOKEN)
    body = "".join(f"  {line}\n" for line in MAPPING_YAML.splitlines())
    path = tmp_path / "erp.yaml"
    path.write_text(
        "tenant: acme\nname: erp-sync\ninterval_minutes: 20\n"
        "source:\n  connector: sql\n"
        "  config: {url: 'postgresql://erp:${ERP_PASSWORD}@db.example.com/erp'}\n"
        "hubspot:\n  access_token: ${HUBSPOT_TOKEN}\nmapping:\n" + body,
        encoding="utf-8",
    )
    return path


def test_apply_list_and_approve(acme: Path, interface_yaml: Path) -> None:
    applied = invoke(["interface", "apply", str(interface_yaml)])
    assert applied.exit_code == 0, applied.output
    assert "connection erp-sync-source: created" in applied.stdout
    assert "interface erp-sync: created" in applied.stdout
    assert "mapping version erp-sync v1: created" in applied.stdout
    assert "hubsync mapping approve erp-sync 1" in applied.stdout
    again = invoke(["interface", "apply", str(interface_yaml)])
    assert again.exit_code == 0, again.output
    assert "created" not in again.stdout
    assert again.stdout.count("unchanged") == 4
    listed = invoke(["interface", "list"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.split()[:5] == ["acme", "erp-sync", "draft", "20", "min"]
    assert "version -" in listed.stdout
    approved = invoke(["mapping", "approve", "erp-sync", "1"])
    assert approved.exit_code == 0, approved.output
    assert "erp-sync version 1 approved by cli at " in approved.stdout
    assert "version 1" in invoke(["interface", "list"]).stdout
    audit = query(acme, "SELECT actor_label FROM audit_entries WHERE action = 'mapping.approve'")
    assert audit == [("cli",)]
    files = (acme, acme.with_name(acme.name + "-wal"))
    raw = "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    assert TOKEN not in raw


def test_apply_refuses_unknown_tenant_and_bad_interval(
    migrated: Path, interface_yaml: Path
) -> None:
    result = invoke(["interface", "apply", str(interface_yaml)])
    assert result.exit_code == 1
    assert "tenant 'acme' not found" in result.stderr
    interface_yaml.write_text(
        interface_yaml.read_text().replace("interval_minutes: 20", "interval_minutes: 50")
    )
    result = invoke(["interface", "apply", str(interface_yaml)])
    assert result.exit_code == 1
    assert "between 10 and 45" in result.stderr


def test_approve_unknown_version_fails(acme: Path, interface_yaml: Path) -> None:
    assert invoke(["interface", "apply", str(interface_yaml)]).exit_code == 0
    result = invoke(["mapping", "approve", "erp-sync", "7"])
    assert result.exit_code == 1
    assert "has no mapping version 7" in result.stderr


def test_the_schedule_from_the_command_line(acme: Path, interface_yaml: Path) -> None:
    assert invoke(["interface", "apply", str(interface_yaml)]).exit_code == 0
    unapproved = invoke(["interface", "activate", "erp-sync"])
    assert unapproved.exit_code == 1
    assert "no approved mapping version" in unapproved.output
    assert invoke(["mapping", "approve", "erp-sync", "1"]).exit_code == 0
    active = invoke(["interface", "activate", "erp-sync"])
    assert active.exit_code == 0, active.output
    assert active.stdout.startswith("erp-sync: active, every 20 min, next run 20")
    for minutes in ("9", "46"):
        refused = invoke(["interface", "interval", "erp-sync", minutes])
        assert refused.exit_code == 1
        assert f"interval must be between 10 and 45 minutes, got {minutes}" in refused.output
    changed = invoke(["interface", "interval", "erp-sync", "30"])
    assert changed.exit_code == 0, changed.output
    assert "every 30 min" in changed.stdout
    paused = invoke(["interface", "pause", "erp-sync"])
    assert paused.stdout.strip() == "erp-sync: paused, every 30 min, next run -"
    resumed = invoke(["interface", "resume", "erp-sync"])
    assert "erp-sync: active, every 30 min, next run 20" in resumed.stdout
    audit = query(acme, "SELECT action FROM audit_entries WHERE action LIKE 'interface.%' "
                        "ORDER BY created_at")  # fmt: skip
    actions = [a for (a,) in audit]
    assert actions[-4:] == ["interface.activate", "interface.interval", "interface.pause",
                            "interface.resume"]  # fmt: skip
