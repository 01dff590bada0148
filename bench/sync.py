"""Sync runs of N ERP contacts into the sandbox portal through ``run_interface``.

Run: .venv/bin/python bench/sync.py [--rows 100000] [--quick] [--latency-ms 0]

The "ERP" is a fresh SQLite file read by the sql connector (1,000 rows per
batch, an index on its change cursor); hubsync's own database is another fresh
SQLite file, migrated to head. Contacts are matched on ``email`` (HubSpot's
unique property for contacts), with the mapping of the run-engine tests
(tests/sync/engine/runner_kit.py) minus the company association. Prints:

1. the initial sync at professional limits (sandbox in-process, 190 requests
   per 10 s on both sides): records/s and the ratio to the ceiling of 100
   records × 19 requests/s = 1,900 records/s (goal ≥ 0.9), API calls, 429s;
2. a no-op run right after (goal ≤ 2 s and ≤ 3 API calls);
3. a run with 1 % of the rows changed: API calls per changed record;
4. hubsync's own CPU time per record with limits off: the sandbox runs in its
   own process (``hubsync sandbox --no-rate-limits``) over loopback, so the
   process CPU time of this one is hubsync's (goal ≤ 100 µs), also split into the
   event loop's thread and the worker threads (database drivers);
5. peak RSS of this process after (4), when it held hubsync alone (goal
   < 300 MB), and at the end, when it also held the in-process sandbox.

Step 4 runs first so that its peak RSS is not inflated by the in-process
sandbox of steps 1 to 3. ``--latency-ms`` adds that much latency to every
sandbox answer in step 1, to see the initial sync with a real network's delay.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import bindparam, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig, PortalLimiter
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import PROFILES, FaultConfig, SandboxConfig
from app.connectors.sql import SqlConnector
from app.core import migrations
from app.core.db import SessionFactory, create_engine, create_session_factory, session_scope
from app.models import Connection, Interface, SyncRun, Tenant
from app.models.enums import ConnectionKind, RunStatus, RunTrigger
from app.sync.engine.runner import run_interface
from app.sync.mapping.model import MappingTable
from tests.sync.engine.runner_kit import CONTACTS, CountingTransport, Erp, table

TOKEN = "bench-token"  # noqa: S105 - a sandbox credential
BATCH = 100  # HubSpot's batch size: records per API call
READ_BATCH = 1_000  # rows per connector batch
LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "UNQUALIFIED")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
PROFILE = PROFILES["professional"]
UNBOUNDED = LimitConfig(burst=10**9, window_s=1, search_per_second=10**6, concurrency=10)


class Counting(CountingTransport):
    """The kit's request counter, also counting 429 answers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self.rate_limited = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.rate_limited += response.status_code == 429
        return response

    def reset(self) -> None:
        """Start counting from zero."""
        self.calls.clear()
        self.rate_limited = 0


def contacts_only() -> MappingTable:
    """The kit's contacts mapping (match on ``email``) without the company association."""
    contacts = table().mapping("contacts").model_copy(update={"associations": []})
    return MappingTable(objects=[contacts])


class BenchErp(Erp):
    """The kit's SQLite ERP, filled in bulk and read 1,000 rows per batch."""

    def __init__(self, path: Path, rows: int) -> None:
        super().__init__(path)
        self.rows = rows
        with self.engine.begin() as connection:
            connection.execute(text("CREATE INDEX ix_contacts_cursor ON contacts (updated_at, id)"))
            for start in range(0, rows, 10_000):
                stop = min(start + 10_000, rows)
                connection.execute(CONTACTS.insert(), [self._row(n) for n in range(start, stop)])
        self.clock = EPOCH + timedelta(seconds=rows)

    @staticmethod
    def _row(n: int) -> dict[str, Any]:
        return {
            "id": f"P{n:07d}",
            "email": f"Kontakt{n}@Muster-{n % 997}.example.ch",
            "first_name": f"Vorname{n}",
            "last_name": f"Nachname{n}",
            "lead_status": LEAD_STATUSES[n % len(LEAD_STATUSES)],
            "updated_at": EPOCH + timedelta(seconds=n),
        }

    def connector(self) -> SqlConnector:
        """A fresh sql connector reading ``READ_BATCH`` rows per batch."""
        spec = {"table": "contacts", "cursor": "updated_at", "soft_delete": "deleted_at"}
        return SqlConnector.from_settings(
            {
                "url": self.url,
                "allow_local_files": True,
                "objects": {"contacts": spec},
                "batch_size": READ_BATCH,
            }
        )

    def change(self, every: int) -> int:
        """Give every ``every``-th row a new last name and timestamp; the number changed."""
        numbers = range(0, self.rows, every)
        stamp = self._tick()
        values = [
            {
                "key": f"P{n:07d}",
                "last_name": f"Nachname{n}-neu",
                "stamp": stamp + timedelta(microseconds=i),
            }
            for i, n in enumerate(numbers)
        ]
        statement = (
            CONTACTS.update()
            .where(CONTACTS.c.id == bindparam("key"))
            .values(last_name=bindparam("last_name"), updated_at=bindparam("stamp"))
        )
        with self.engine.begin() as connection:
            connection.execute(statement, values)
        return len(values)


@dataclass
class Hub:
    """hubsync's own database (a fresh SQLite file) and the interface the runs belong to."""

    sessions: SessionFactory
    tenant_id: uuid.UUID
    interface_id: uuid.UUID


@asynccontextmanager
async def open_hub(path: Path) -> AsyncIterator[Hub]:
    """Migrate a fresh database at ``path`` and add a tenant with one interface."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrations.upgrade, url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with session_scope(sessions) as session:
        tenant = Tenant(slug="bench", name="Bench")
        session.add(tenant)
        await session.flush()
        source = Connection(
            tenant_id=tenant.id, name="erp", kind=ConnectionKind.source, connector="sql"
        )
        hubspot = Connection(
            tenant_id=tenant.id, name="hubspot", kind=ConnectionKind.hubspot, connector="hubspot"
        )
        session.add_all([source, hubspot])
        await session.flush()
        interface = Interface(
            tenant_id=tenant.id,
            name="bench-contacts",
            source_connection_id=source.id,
            hubspot_connection_id=hubspot.id,
        )
        session.add(interface)
    try:
        yield Hub(sessions, tenant.id, interface.id)
    finally:
        await engine.dispose()


@dataclass
class Portal:
    """A HubSpot client on a sandbox portal, with the request counter under it."""

    client: HubSpotClient
    counter: Counting


@asynccontextmanager
async def open_portal(
    base_url: str, inner: httpx.AsyncBaseTransport, limits: LimitConfig
) -> AsyncIterator[Portal]:
    """A client on the sandbox behind ``inner``, limited client-side by ``limits``."""
    counter = Counting(inner)
    async with httpx.AsyncClient(transport=counter, base_url=base_url, timeout=60) as http:
        client = HubSpotClient(
            StaticTokenProvider(TOKEN), http=http, base_url=base_url, limiter=PortalLimiter(limits)
        )
        yield Portal(client, counter)


@dataclass
class Measured:
    """One run and what it cost."""

    run: SyncRun
    seconds: float
    cpu_seconds: float
    loop_cpu_seconds: float  # of cpu_seconds: the event loop's thread (the rest: worker threads)
    calls: int
    rate_limited: int

    @property
    def contacts(self) -> dict[str, int]:
        """The run's counts for contacts, without the zeros."""
        counts = (self.run.counts or {}).get("contacts", {})
        return {outcome: n for outcome, n in counts.items() if n}


async def measure(erp: BenchErp, hub: Hub, portal: Portal, mapping: MappingTable) -> Measured:
    """One run of the interface; wall time, process CPU time and requests from zero."""
    portal.counter.reset()
    cpu, started, loop_cpu = time.process_time(), time.perf_counter(), time.thread_time()
    async with erp.connector() as connector:
        run = await run_interface(
            table=mapping,
            connector=connector,
            hubspot=portal.client,
            sessions=hub.sessions,
            tenant_id=hub.tenant_id,
            interface_id=hub.interface_id,
            trigger=RunTrigger.manual,
        )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    loop_cpu = time.thread_time() - loop_cpu
    if run.status is not RunStatus.succeeded:
        print(f"  ! run {run.status}: {run.error_summary} {run.counts}")
    calls = portal.counter.calls.total()
    return Measured(run, seconds, cpu, loop_cpu, calls, portal.counter.rate_limited)


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def sandbox_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``hubsync sandbox --no-rate-limits`` on ``port``, stopped on exit."""
    command = [str(Path(sys.executable).with_name("hubsync")), "sandbox", "--no-rate-limits"]
    command += ["--port", str(port), "--token", TOKEN]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=quiet, stderr=quiet)  # noqa: S603 - our own CLI
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)


async def wait_until_up(base_url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll the sandbox until it answers (or fail if its process ended)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        for _ in range(300):
            if process.poll() is not None:
                raise RuntimeError(f"the sandbox process ended with {process.returncode}")
            try:
                response = await http.get("/crm/v3/objects/contacts", params={"limit": 1})
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the sandbox did not come up within 30 s")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of process ``pid`` (Linux /proc), None where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass
class Unlimited:
    """(4) and (5): the initial sync with limits off, and the peak RSS right after it."""

    run: Measured
    sandbox_cpu_seconds: float | None
    rss_mb: float


@dataclass
class Limited:
    """(1)-(3): the runs at professional limits, and the peak RSS after them."""

    initial: Measured
    idle: Measured
    step: Measured
    changed: int
    rss_mb: float


async def bench_cpu(erp: BenchErp, tmp: Path, mapping: MappingTable) -> Unlimited:
    """(4) The initial sync with limits off against a sandbox in its own process."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with sandbox_process(port) as process:
        await wait_until_up(base_url, process)
        before = process_cpu_seconds(process.pid)
        async with open_hub(tmp / "hubsync-cpu.db") as hub:
            transport = httpx.AsyncHTTPTransport()
            async with open_portal(base_url, transport, UNBOUNDED) as portal:
                done = await measure(erp, hub, portal, mapping)
        after = process_cpu_seconds(process.pid)
    sandbox = after - before if before is not None and after is not None else None
    return Unlimited(done, sandbox, peak_rss_mb())


async def bench_limits(erp: BenchErp, tmp: Path, mapping: MappingTable, latency_ms: int) -> Limited:
    """(1)-(3) Initial sync, no-op and 1 % change at professional limits, sandbox in-process."""
    config = SandboxConfig(
        private_tokens=[TOKEN],
        profile=PROFILE.name,
        rate_limits=True,
        faults=FaultConfig(latency_ms=latency_ms),
    )
    limits = LimitConfig(burst=PROFILE.burst, window_s=PROFILE.window_ms / 1000)
    transport = httpx.ASGITransport(app=create_sandbox(config))
    async with (
        open_hub(tmp / "hubsync-limits.db") as hub,
        open_portal("http://sandbox", transport, limits) as portal,
    ):
        initial = await measure(erp, hub, portal, mapping)
        idle = await measure(erp, hub, portal, mapping)
        changed = erp.change(every=100)
        step = await measure(erp, hub, portal, mapping)
    return Limited(initial, idle, step, changed, peak_rss_mb())


def report(rows: int, latency_ms: int, limited: Limited, unlimited: Unlimited) -> None:
    """Print the figures, goal by goal."""
    initial, idle, step = limited.initial, limited.idle, limited.step
    ceiling = BATCH * PROFILE.burst / (PROFILE.window_ms / 1000)
    rate = rows / initial.seconds
    latency = f", {latency_ms} ms latency per request" if latency_ms else ""
    print(f"1. initial sync at {PROFILE.name} limits, sandbox in-process{latency}:")
    print(f"   {initial.seconds:.1f} s, {rate:,.0f} records/s; ceiling {ceiling:,.0f} records/s")
    print(f"   ratio {rate / ceiling:.3f} (goal >= 0.9)")
    print(f"   API calls {initial.calls:,}, 429s {initial.rate_limited}")
    print(f"   counts {initial.contacts}")
    print("2. no-op run right after:")
    print(f"   {idle.seconds:.2f} s (goal <= 2), API calls {idle.calls} (goal <= 3)")
    print(f"   counts {idle.contacts}")
    print(f"3. run with 1 % changed ({limited.changed:,} rows: new last name and updated_at):")
    per_record = step.calls / limited.changed
    print(f"   {step.seconds:.2f} s, API calls {step.calls} = {per_record:.3f} per changed record")
    print(f"   429s {step.rate_limited}, counts {step.contacts}")
    free = unlimited.run
    print("4. limits off, sandbox in its own process over loopback (initial sync):")
    print(f"   {free.seconds:.1f} s wall, API calls {free.calls:,}, counts {free.contacts}")
    cpu_us = free.cpu_seconds / rows * 1e6
    print(f"   hubsync CPU {free.cpu_seconds:.1f} s = {cpu_us:.0f} µs per record (goal <= 100)")
    loop_us = free.loop_cpu_seconds / rows * 1e6
    print(f"   (event-loop thread {loop_us:.0f} µs, worker threads {cpu_us - loop_us:.0f} µs)")
    if unlimited.sandbox_cpu_seconds is not None:
        spent = unlimited.sandbox_cpu_seconds
        print(f"   (sandbox process CPU {spent:.1f} s = {spent / rows * 1e6:.0f} µs per record)")
    print(f"5. peak RSS with hubsync alone (after 4): {unlimited.rss_mb:.0f} MB (goal < 300)")
    print(f"   peak RSS at the end, in-process sandbox included: {limited.rss_mb:.0f} MB")


async def main() -> None:
    """Parse the arguments, build the ERP, run (4) then (1)-(3), print (1)-(5)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=100_000, help="ERP contacts (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="10,000 rows, for a fast check")
    parser.add_argument("--latency-ms", type=int, default=0, help="sandbox latency in step 1")
    args = parser.parse_args()
    rows = 10_000 if args.quick else args.rows
    mapping = contacts_only()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        started = time.perf_counter()
        erp = BenchErp(tmp / "erp.sqlite", rows)
        filled = time.perf_counter() - started
        print(f"{rows:,} ERP contacts in SQLite (filled in {filled:.1f} s); hubsync on SQLite")
        unlimited = await bench_cpu(erp, tmp, mapping)
        limited = await bench_limits(erp, tmp, mapping, args.latency_ms)
        erp.engine.dispose()
    report(rows, args.latency_ms, limited, unlimited)


if __name__ == "__main__":
    asyncio.run(main())
