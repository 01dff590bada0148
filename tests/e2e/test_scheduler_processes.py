"""Three ``hubsync serve`` processes on one PostgreSQL database run twenty interfaces.

The scheduler's proof, with nothing faked: twenty interfaces of one tenant, on
four HubSpot connections (four portal leases), read twenty tables of a
PostgreSQL "ERP" into the sandbox served over loopback by this process; three
real ``hubsync serve`` processes share hubsync's own PostgreSQL database.

Two rounds (the activation, then every interface due again as if its interval
had passed) must each run every interface exactly once, spread over the
processes, never two runs on one portal at a time. Then one interface gets
2,000 new rows and the sandbox some latency; the process running it is killed
(SIGKILL) after its first committed batch: its run is reaped as ``aborted``,
another process resumes from the committed cursor, and the sandbox ends up
holding every ERP row exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TypeVar

import httpx
import pytest
import sqlalchemy
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

from app.auth.actor import Actor
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.core import migrations
from app.core.db import SessionFactory, create_engine, create_session_factory, session_scope
from app.core.secrets_box import SecretBox
from app.models import Interface, RunItem, SyncRun
from app.models.base import utcnow
from app.models.enums import RunStatus
from app.sync.apply import apply_interface_file
from app.sync.interface_control import activate_interface
from app.sync.tenants import create_tenant
from app.sync.versions import approve_version
from tests.conftest import TEST_SECRET_KEY, make_settings
from tests.databases import fresh_database
from tests.live_server import listening_socket, serving

T = TypeVar("T")
INTERFACES, PORTALS, PROCESSES = 20, 4, 3  # four HubSpot connections: four portal leases
ROWS, BIG_ROWS = 5, 2_000  # per ERP table; added to interface 0 to kill its run midway
TICK_S, TTL_S, POLL_S = 0.3, 3.0, 0.1
LATENCY_MS = 150  # per sandbox request in the kill phase: the big run's 20 batches take seconds
TOKENS = [f"portal-{n}-token" for n in range(PORTALS)]
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)
OPERATOR = Actor.system("test")
COLUMNS = "customer_no varchar(20) PRIMARY KEY, name text, updated_at timestamptz NOT NULL"
INTERFACE = """\
tenant: fleet
name: erp-{n:02d}
interval_minutes: 15
source:
  connector: sql
  config:
    url: "{erp_url}"
    batch_size: 100
    objects: {{customers: {{table: customers_{n:02d}, key: [customer_no], cursor: updated_at}}}}
hubspot:
{hubspot}
mapping:
  objects:
    - name: companies
      source: {{object: customers, key: customer_no, updated: updated_at}}
      hubspot: {{object: companies, match: erp_customer_no}}
      fields:
        - {{source: customer_no, hubspot: erp_customer_no}}
        - {{source: name, hubspot: name}}
"""


def add_rows(erp_url: str, n: int, start: int, count: int, stamp: datetime) -> None:
    """Insert customers ``i<n>-<row>`` (unique across tables) into interface ``n``'s table."""
    rows = [
        {"k": f"i{n:02d}-{r:05d}", "name": f"Kunde {r}", "t": stamp}
        for r in range(start, start + count)
    ]
    engine = sqlalchemy.create_engine(erp_url)
    with engine.begin() as connection:
        insert = (
            f"INSERT INTO customers_{n:02d} (customer_no, name, updated_at) VALUES (:k, :name, :t)"  # noqa: S608 - fixed test tables
        )
        connection.execute(text(insert), rows)
    engine.dispose()


def erp_keys(erp_url: str) -> set[str]:
    """Every customer number of every ERP table."""
    engine = sqlalchemy.create_engine(erp_url)
    with engine.connect() as connection:
        selects = [f"SELECT customer_no FROM customers_{n:02d}" for n in range(INTERFACES)]  # noqa: S608
        union = " UNION ALL ".join(selects)
        keys = set(connection.execute(text(union)).scalars())
    engine.dispose()
    return keys


@pytest.fixture
async def erp(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh PostgreSQL "ERP" with one customers table per interface."""
    async with fresh_database("postgresql", tmp_path) as url:
        sync_url = make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)
        engine = sqlalchemy.create_engine(sync_url)
        with engine.begin() as connection:
            for n in range(INTERFACES):
                connection.execute(text(f"CREATE TABLE customers_{n:02d} ({COLUMNS})"))
        engine.dispose()
        for n in range(INTERFACES):
            await asyncio.to_thread(add_rows, sync_url, n, 0, ROWS, EPOCH)
        yield sync_url


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[str]:
    """hubsync's own fresh PostgreSQL database, migrated to head."""
    async with fresh_database("postgresql", tmp_path) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url


@dataclass(frozen=True, slots=True)
class Sandbox:
    """The sandbox portal over loopback; its config changes its faults while it runs."""

    base_url: str
    config: SandboxConfig


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    """One sandbox portal, four private tokens, no rate limits, the unique match property."""
    config = SandboxConfig(private_tokens=TOKENS, rate_limits=False)
    async with serving(create_sandbox(config), listening_socket()) as base_url:
        async with portal_api(base_url) as api:
            await api.post(
                "/crm/v3/properties/companies/groups", json={"name": "erp", "label": "ERP"}
            )
            created = await api.post(
                "/crm/v3/properties/companies",
                json={"name": "erp_customer_no", "label": "ERP-Nr.", "type": "string",
                      "fieldType": "text", "groupName": "erp", "hasUniqueValue": True},
            )  # fmt: skip
            assert created.status_code == 201, created.text
        yield Sandbox(base_url, config)


def portal_api(base_url: str) -> httpx.AsyncClient:
    """A client on the sandbox with the first token."""
    return httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {TOKENS[0]}"})


async def companies_by_key(base_url: str) -> Counter[str]:
    """How many sandbox companies hold each ERP number (more than 1 is a duplicate)."""
    found: Counter[str] = Counter()
    params = {"limit": "100", "properties": "erp_customer_no"}
    async with portal_api(base_url) as api:
        while True:
            page = (await api.get("/crm/v3/objects/companies", params=params)).json()
            found.update(r["properties"].get("erp_customer_no") for r in page["results"])
            params["after"] = page.get("paging", {}).get("next", {}).get("after")
            if params["after"] is None:
                return found


async def set_up(
    sessions: SessionFactory, box: SecretBox, erp_url: str, sandbox_url: str
) -> list[uuid.UUID]:
    """The tenant and its twenty interfaces, applied and approved (not yet active).

    The first interface of each portal brings its token; the others refer to its connection.
    """
    async with session_scope(sessions) as session:
        await create_tenant(session, actor=OPERATOR, slug="fleet", name="Fleet AG")
    ids: list[uuid.UUID] = []
    for n in range(INTERFACES):
        own = f"  base_url: {sandbox_url}\n  access_token: {TOKENS[n]}" if n < PORTALS else ""
        hubspot = own or f"  connection: erp-{n % PORTALS:02d}-hubspot"
        async with session_scope(sessions) as session:
            applied = await apply_interface_file(
                session, actor=OPERATOR, box=box, environ={},
                text=INTERFACE.format(n=n, erp_url=erp_url, hubspot=hubspot),
            )  # fmt: skip
            await approve_version(session, actor=OPERATOR, version_id=applied.version.id)
            ids.append(applied.interface.id)
    return ids


@dataclass
class Server:
    """One ``hubsync serve`` process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def tail(self, lines: int = 30) -> str:
        """The last lines it logged (without APScheduler's skipped-tick noise)."""
        logged = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        kept = [line for line in logged if "maximum number of running instances" not in line]
        body = "\n".join(kept[-lines:])
        return f"--- hubsync serve pid {self.process.pid} (exit {self.process.poll()}) ---\n{body}"


@dataclass
class Fleet:
    """The serve processes of the test."""

    servers: list[Server] = field(default_factory=list)
    killed: set[int] = field(default_factory=set)

    def report(self) -> str:
        """Every process's output tail, for a failure message."""
        return "\n".join(server.tail() for server in self.servers)

    def require_alive(self) -> None:
        """Fail at once if a process the test did not kill has ended."""
        for server in self.servers:
            if server.process.pid not in self.killed and server.process.poll() is not None:
                pytest.fail(f"hubsync serve {server.process.pid} ended by itself\n{self.report()}")

    def kill(self, pid: int) -> None:
        """SIGKILL one of the processes: no shutdown, no lease released."""
        assert pid in {s.process.pid for s in self.servers}, f"{pid} is not ours\n{self.report()}"
        self.killed.add(pid)
        os.kill(pid, signal.SIGKILL)
        next(s for s in self.servers if s.process.pid == pid).process.wait(timeout=10)


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_env(hub_url: str, tmp_path: Path) -> dict[str, str]:
    """This machine's environment without its HUBSYNC_*, plus the test's settings."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HUBSYNC_")}
    env.update(
        HUBSYNC_DATABASE_URL=hub_url, HUBSYNC_SECRET_KEY=TEST_SECRET_KEY, HUBSYNC_ENV="test",
        HUBSYNC_VAR_DIR=str(tmp_path / "var"), HUBSYNC_SCHEDULER_ENABLED="true",
        HUBSYNC_SCHEDULER_TICK_SECONDS=str(TICK_S), HUBSYNC_LEASE_TTL_SECONDS=str(TTL_S),
    )  # fmt: skip
    return env


@contextmanager
def fleet_of(count: int, env: dict[str, str], tmp_path: Path) -> Iterator[Fleet]:
    """Start ``count`` serve processes; always stop (or kill) them on the way out."""
    hubsync = str(Path(sys.executable).with_name("hubsync"))
    fleet, logs = Fleet(), list[IO[bytes]]()
    try:
        for n in range(count):
            port, log = free_port(), tmp_path / f"serve-{n}.log"
            logs.append(log.open("wb"))
            process = subprocess.Popen(  # noqa: S603 - our own CLI
                [hubsync, "serve", "--port", str(port)],
                env=env, cwd=tmp_path, stdout=logs[-1], stderr=subprocess.STDOUT,
            )  # fmt: skip
            fleet.servers.append(Server(process, port, log))
        yield fleet
    finally:
        running = [s.process for s in fleet.servers if s.process.poll() is None]
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for handle in logs:
            handle.close()


async def until(
    fleet: Fleet, what: str, within: float, check: Callable[[], Awaitable[T | None]]
) -> T:
    """Poll ``check`` until it answers something; fail naming ``what``, with the logs, if not."""
    deadline = time.monotonic() + within
    while (found := await check()) is None:
        fleet.require_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within:.0f} s\n{fleet.report()}")
        await asyncio.sleep(POLL_S)
    return found


async def healthy(fleet: Fleet) -> None:
    """Wait until every process answers /healthz."""
    async with httpx.AsyncClient(timeout=2) as http:
        for server in fleet.servers:

            async def answers(url: str = f"http://127.0.0.1:{server.port}/healthz") -> bool | None:
                try:
                    return True if (await http.get(url)).status_code == 200 else None
                except httpx.TransportError:
                    return None

            await until(fleet, f"hubsync serve {server.process.pid} up", 60, answers)


def pid_of(worker: str | None) -> int:
    """The process id in a lease holder name ``serve:<host>:<pid>:<tag>``."""
    assert worker is not None
    assert worker.startswith("serve:"), worker
    return int(worker.split(":")[-2])


@dataclass
class Scene:
    """What the phases share: hubsync's database, the processes, the ERP and the sandbox."""

    sessions: SessionFactory
    fleet: Fleet
    ids: list[uuid.UUID]
    erp_url: str
    sandbox: Sandbox

    async def runs(self) -> dict[uuid.UUID, list[SyncRun]]:
        """Every interface's runs, oldest first."""
        async with session_scope(self.sessions) as session:
            runs: dict[uuid.UUID, list[SyncRun]] = {i: [] for i in self.ids}
            for run in await session.scalars(select(SyncRun).order_by(SyncRun.started_at)):
                runs[run.interface_id].append(run)
            return runs

    async def plan(self, ids: list[uuid.UUID], slot: datetime) -> None:
        """Plan the interfaces for ``slot``, as if their interval had passed."""
        async with session_scope(self.sessions) as session:
            await session.execute(
                update(Interface).where(Interface.id.in_(ids)).values(next_run_at=slot)
            )

    async def settled(self) -> bool | None:
        """Whether no run is running and every interface is planned an interval ahead."""
        soon = utcnow() + timedelta(minutes=10)
        async with session_scope(self.sessions) as session:
            running = await session.scalar(
                select(func.count()).where(SyncRun.status == RunStatus.running)
            )
            waiting = await session.scalar(select(func.count()).where(Interface.next_run_at < soon))
        return True if running == 0 and waiting == 0 else None

    async def newest(
        self, interface_id: uuid.UUID, known: set[uuid.UUID]
    ) -> tuple[SyncRun, int] | None:
        """The interface's newest run that is none of ``known``, and the items it committed."""
        async with session_scope(self.sessions) as session:
            run = await session.scalar(
                select(SyncRun)
                .where(SyncRun.interface_id == interface_id, SyncRun.id.not_in(known))
                .order_by(SyncRun.started_at.desc()).limit(1)
            )  # fmt: skip
            if run is None:
                return None
            return run, int(
                await session.scalar(select(func.count()).where(RunItem.run_id == run.id)) or 0
            )

    async def sandbox_matches_erp(self) -> None:
        """The sandbox holds each ERP customer exactly once, and nothing else."""
        found = await companies_by_key(self.sandbox.base_url)
        expected = await asyncio.to_thread(erp_keys, self.erp_url)
        assert [k for k, n in found.items() if n > 1] == [], "duplicates in the sandbox"
        missing, extra = sorted(expected - set(found)), sorted(set(found) - expected)
        assert (missing[:10], extra[:10]) == ([], []), "the sandbox differs from the ERP"


def portal_overlaps(runs: dict[uuid.UUID, list[SyncRun]], ids: list[uuid.UUID]) -> list[str]:
    """Runs that wrote to one portal at the same time (its lease should make that impossible)."""
    overlaps: list[str] = []
    for portal in range(PORTALS):
        on_portal = sorted(
            (r for i in ids[portal::PORTALS] for r in runs[i]), key=lambda r: r.started_at
        )
        for n, run in enumerate(on_portal[1:], 1):
            overlaps += [
                f"portal {portal}: {describe(earlier)} overlaps {describe(run)}"
                for earlier in on_portal[:n]
                if earlier.finished_at is None or run.started_at < earlier.finished_at
            ]
    return overlaps


def describe(run: SyncRun) -> str:
    """One run in a failure message: status, start and end, worker."""
    end = f"{run.finished_at:%T.%f}" if run.finished_at else "…"
    why = f" {run.error_summary[:60]}" if run.error_summary else ""
    return f"[{run.status} {run.started_at:%T.%f}-{end} {run.worker}{why}]"


def assert_once_per_slot(
    runs: dict[uuid.UUID, list[SyncRun]], ids: list[uuid.UUID], slots: list[datetime]
) -> None:
    """Per interface: exactly one succeeded scheduled run per slot, none twice, none missing."""
    for interface_id in ids:
        got = [(r.planned_at, r.status) for r in runs[interface_id]]
        expected = [(slot, RunStatus.succeeded) for slot in slots]
        assert got == expected, ", ".join(describe(r) for r in runs[interface_id])


async def two_rounds(scene: Scene) -> list[datetime]:
    """The activation runs everything once; the interval passing runs everything once more."""
    first = utcnow()
    async with session_scope(scene.sessions) as session:
        for interface_id in scene.ids:
            await activate_interface(session, actor=OPERATOR, interface_id=interface_id, now=first)
    await until(scene.fleet, "round 1 (every interface run and planned ahead)", 45, scene.settled)
    second = utcnow()
    await scene.plan(scene.ids, second)
    await until(scene.fleet, "round 2 (every interface run and planned ahead)", 45, scene.settled)
    runs = await scene.runs()
    assert portal_overlaps(runs, scene.ids) == []
    assert_once_per_slot(runs, scene.ids, [first, second])
    per_process = Counter(pid_of(r.worker) for rs in runs.values() for r in rs)
    assert set(per_process) == {s.process.pid for s in scene.fleet.servers}, per_process
    await scene.sandbox_matches_erp()
    return [first, second]


async def kill_mid_run(scene: Scene, slots: list[datetime]) -> None:
    """Kill the process running a big run: aborted, taken over, completed without duplicates."""
    big, fleet = scene.ids[0], scene.fleet
    known = {r.id for r in (await scene.runs())[big]}
    scene.sandbox.config.faults.latency_ms = LATENCY_MS
    await asyncio.to_thread(
        add_rows, scene.erp_url, 0, ROWS, BIG_ROWS, utcnow() - timedelta(seconds=1)
    )
    await scene.plan([big], utcnow())

    async def first_batch() -> tuple[SyncRun, int] | None:
        found = await scene.newest(big, known)
        return found if found and found[0].status is RunStatus.running and found[1] else None

    async def aborted() -> bool | None:
        async with session_scope(scene.sessions) as session:
            status = await session.scalar(select(SyncRun.status).where(SyncRun.id == victim.id))
        return True if status is RunStatus.aborted else None

    async def completed() -> SyncRun | None:
        found = await scene.newest(big, known | {victim.id})
        return found[0] if found and found[0].finished_at else None

    victim, committed = await until(fleet, "the big run's first committed batch", 30, first_batch)
    fleet.kill(pid_of(victim.worker))
    await until(fleet, "the killed run reaped as aborted", 3 * TTL_S + 2, aborted)
    successor = await until(fleet, "another process completing the big run", 60, completed)
    scene.sandbox.config.faults.latency_ms = 0
    runs = await scene.runs()
    assert [(r.status, r.id) for r in runs[big][2:]] == [
        (RunStatus.aborted, victim.id), (RunStatus.succeeded, successor.id),
    ], ", ".join(describe(r) for r in runs[big])  # fmt: skip
    assert "lease expired" in (runs[big][2].error_summary or "")
    assert pid_of(successor.worker) != pid_of(victim.worker)
    assert sum(successor.counts["companies"].values()) <= BIG_ROWS - committed  # resumed
    assert portal_overlaps(runs, scene.ids) == []
    assert_once_per_slot(runs, scene.ids[1:], slots)
    await scene.sandbox_matches_erp()


async def test_three_processes_run_each_due_run_once_and_take_over_a_killed_one(
    hub: str, erp: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    engine = create_engine(hub)
    box = SecretBox(make_settings(hub, tmp_path / "var").secret_keys)
    try:
        ids = await set_up(create_session_factory(engine), box, erp, sandbox.base_url)
        with fleet_of(PROCESSES, serve_env(hub, tmp_path), tmp_path) as fleet:
            await healthy(fleet)
            scene = Scene(create_session_factory(engine), fleet, ids, erp, sandbox)
            await kill_mid_run(scene, await two_rounds(scene))
    finally:
        await engine.dispose()
