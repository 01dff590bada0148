"""The README's run command end to end: ``hubsync demo`` as its own process.

Started on a fresh var directory (as on a fresh clone), the demo serves its
login page and the scheduler completes the first run of every demo interface
within a minute; SIGTERM then shuts it down cleanly.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.demo.provision import DEMO_INTERFACES
from tests.live_server import base_url_of, listening_socket

FIRST_RUNS_WITHIN_S = 60.0


@pytest.fixture
def demo_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, Path]]:
    """``hubsync demo`` on a free port with a fresh var directory; killed if still running."""
    with listening_socket() as probe:
        url = base_url_of(probe)
    port = url.rsplit(":", 1)[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUBSYNC_")}
    env["HUBSYNC_VAR_DIR"] = str(tmp_path)
    log = (tmp_path / "demo.log").open("wb")
    command = [str(Path(sys.executable).with_name("hubsync")), "demo", "--port", port]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        yield process, url, tmp_path
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        log.close()


def finished_runs(database: Path) -> dict[str, str]:
    """Each demo interface's latest finished run status, read from the demo's own database."""
    if not database.exists():
        return {}
    with sqlite3.connect(database) as connection:
        try:
            rows = connection.execute(
                "SELECT i.name, r.status FROM sync_runs r "
                "JOIN interfaces i ON i.id = r.interface_id "
                "WHERE r.status != 'running' ORDER BY r.started_at"
            ).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return {}
    return dict(rows)


def tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


def test_the_demo_completes_its_first_runs_within_a_minute(
    demo_process: tuple[subprocess.Popen[bytes], str, Path],
) -> None:
    process, url, var = demo_process
    started = time.monotonic()
    names = set(DEMO_INTERFACES)
    runs: dict[str, str] = {}
    while time.monotonic() - started < FIRST_RUNS_WITHIN_S:
        assert process.poll() is None, f"the demo exited early:\n{tail(var / 'demo.log')}"
        runs = finished_runs(var / "hubsync.db")
        if names <= set(runs):
            break
        time.sleep(0.5)
    took = time.monotonic() - started
    assert names <= set(runs), f"after {took:.0f} s: {runs}\n{tail(var / 'demo.log')}"
    assert {runs[n] for n in names} <= {"succeeded", "warning"}, runs
    assert httpx.get(f"{url}/ui/login", timeout=10).status_code == 200
    process.send_signal(signal.SIGTERM)
    code = process.wait(30)  # uvicorn shuts down gracefully, then re-raises the signal
    assert code in (0, -signal.SIGTERM), tail(var / "demo.log")
    assert "Application shutdown complete" in tail(var / "demo.log")
