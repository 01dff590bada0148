"""One ``hubsync serve`` scheduler with 1,000 interfaces: CPU per idle tick, delay of due runs.

Run: .venv/bin/python bench/scheduler.py [--interfaces 1000] [--tick 5] [--postgres]

hubsync's database is a fresh SQLite file (``--postgres``: a fresh database on
HUBSYNC_TEST_POSTGRES_URL's server), migrated to head, with one tenant and N
active interfaces, each with an approved mapping version, spread over P HubSpot
connections (so P portal leases). The process is built exactly as
``hubsync serve`` builds itself (``WebState.build`` and ``build_scheduler``):
the real ``Scheduler``, ``RunExecutor`` and ``Leases`` on the real clock, with
the settings' tick, lease TTL and ``max_concurrent_runs``. Nothing about
scheduling is stubbed; only the runs are made short and honest: every
interface reads an empty table of a SQLite "ERP" through the sql connector and
would write to the sandbox portal served over loopback in this process. Each
run is a whole run (plan, leases, run row, read, finish, health, next slot).

Prints:

1. idle tick: every interface planned an hour ahead; ``Scheduler.tick()`` called
   back to back; process CPU time (``time.process_time``) and wall time per tick;
2. scheduling delay at the real arrival rate: interfaces come due one after the
   other as N interfaces on a 15-minute interval do (N / 900 per second), for
   ``--window`` seconds, while the scheduler ticks on its own; delay = the run's
   ``started_at`` − its ``planned_at``: p50, p99 and max; runs per second;
3. a burst: ``--burst`` interfaces due at the same moment; how long until all
   have run, runs per second, and the p50/p99 delay. A process looks for due
   interfaces once per tick (at most four per free run slot), so this is its ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.auth.actor import Actor
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig
from app.core import migrations
from app.core.db import SessionFactory, session_scope
from app.core.settings import Environment, Settings
from app.models import Interface, MappingVersion, SyncRun
from app.models.base import utcnow
from app.models.enums import ConnectionKind, InterfaceState, RunStatus
from app.sync.apply import apply_interface_file
from app.sync.connections import create_connection
from app.sync.scheduling.scheduler import Scheduler
from app.sync.tenants import create_tenant
from app.sync.versions import approve_version
from app.web import WebState, build_scheduler
from tests.databases import fresh_database
from tests.live_server import listening_socket, serving

TOKEN = "bench-token"  # noqa: S105 - a sandbox credential
SECRET_KEY = "bench-secret-key-0123456789abcdef"  # noqa: S105 - a throwaway database
OPERATOR = Actor.system("bench")
INTERVAL_MINUTES = 15
LATER = timedelta(hours=1)
DEFAULTS = Settings.model_fields
INTERFACE = """\
tenant: bench
name: bench-0000
interval_minutes: 15
source:
  connector: sql
  config:
    url: "sqlite:///{erp}"
    allow_local_files: true
    objects: {{customers: {{table: customers, key: [customer_no], cursor: updated_at}}}}
hubspot:
  base_url: {sandbox_url}
  access_token: {token}
mapping:
  objects:
    - name: companies
      source: {{object: customers, key: customer_no, updated: updated_at}}
      hubspot: {{object: companies, match: erp_customer_no}}
      fields:
        - {{source: customer_no, hubspot: erp_customer_no}}
        - {{source: name, hubspot: name}}
"""


def empty_erp(path: Path) -> Path:
    """A SQLite "ERP" whose customers table is empty: every run reads nothing."""
    engine = create_sync_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE TABLE customers (customer_no TEXT PRIMARY KEY, name TEXT, updated_at TEXT)"
            )
        )
    engine.dispose()
    return path


@asynccontextmanager
async def hub_database(tmp: Path, postgres: bool) -> AsyncIterator[str]:
    """A fresh hubsync database, migrated to head."""
    async with fresh_database("postgresql" if postgres else "sqlite", tmp) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url


async def populate(
    state: WebState, *, erp: Path, sandbox_url: str, args: argparse.Namespace
) -> list[uuid.UUID]:
    """The tenant, its first interface applied from a file, the rest cloned from it."""
    async with session_scope(state.session_factory) as session:
        tenant = await create_tenant(session, actor=OPERATOR, slug="bench", name="Bench")
        text_ = INTERFACE.format(erp=erp, sandbox_url=sandbox_url, token=TOKEN)
        first = await apply_interface_file(
            session, actor=OPERATOR, box=state.secret_box, text=text_, environ={}
        )
        await approve_version(session, actor=OPERATOR, version_id=first.version.id)
        first.interface.state, first.interface.next_run_at = InterfaceState.active, utcnow() + LATER
    portals = [first.interface.hubspot_connection_id]
    portals += await add_portals(state, tenant.id, sandbox_url, args.portals - 1)
    async with session_scope(state.session_factory) as session:
        clones = await clone(session, first.interface, first.version, portals, args.interfaces - 1)
    return [first.interface.id, *clones]


async def add_portals(
    state: WebState, tenant_id: uuid.UUID, sandbox_url: str, count: int
) -> list[uuid.UUID]:
    """``count`` more HubSpot connections on the sandbox, each its own portal lease."""
    ids: list[uuid.UUID] = []
    async with session_scope(state.session_factory) as session:
        for n in range(1, count + 1):
            portal = await create_connection(
                session, actor=OPERATOR, box=state.secret_box, tenant_id=tenant_id,
                name=f"portal-{n:03d}", kind=ConnectionKind.hubspot, connector="hubspot",
                config={"base_url": sandbox_url}, secrets={"access_token": TOKEN},
            )  # fmt: skip
            ids.append(portal.id)
    return ids


async def clone(
    session: AsyncSession,
    first: Interface,
    version: MappingVersion,
    portals: list[uuid.UUID],
    count: int,
) -> list[uuid.UUID]:
    """``count`` active copies of ``first`` over the portals, each with its approved version."""
    copies: list[Interface] = []
    for n in range(1, count + 1):
        copy = Interface(
            id=uuid.uuid4(), tenant_id=first.tenant_id, name=f"bench-{n:04d}",
            source_connection_id=first.source_connection_id,
            hubspot_connection_id=portals[n % len(portals)], interval_minutes=INTERVAL_MINUTES,
            state=InterfaceState.active, next_run_at=first.next_run_at,
        )  # fmt: skip
        copies.append(copy)
    session.add_all(copies)
    await session.flush()
    approved = [
        MappingVersion(id=uuid.uuid4(), tenant_id=first.tenant_id, interface_id=copy.id, number=1,
                       yaml_text=version.yaml_text, parsed=version.parsed, approved_at=utcnow())
        for copy in copies
    ]  # fmt: skip
    session.add_all(approved)
    await session.flush()  # the versions first: interfaces point at them
    for copy, its_version in zip(copies, approved, strict=True):
        copy.active_mapping_version_id = its_version.id
    return [copy.id for copy in copies]


async def idle_ticks(scheduler: Scheduler, count: int) -> tuple[float, float]:
    """CPU and wall seconds per ``tick()`` when nothing is due."""
    await scheduler.tick()  # warm up: first queries, statement caches
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        report = await scheduler.tick()
        assert not report.started, "nothing should be due in the idle phase"
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


async def plan(sessions: SessionFactory, slots: dict[uuid.UUID, datetime]) -> None:
    """Plan each interface for its slot."""
    async with session_scope(sessions) as session:
        for interface_id, slot in slots.items():
            await session.execute(
                update(Interface).where(Interface.id == interface_id).values(next_run_at=slot)
            )


@dataclass
class Served:
    """The runs that served a set of slots."""

    delays: list[float]
    seconds: float  # from the first slot to the last run's end
    statuses: dict[str, int]

    @property
    def runs_per_second(self) -> float:
        """Runs completed per second over ``seconds``."""
        return len(self.delays) / self.seconds if self.seconds else 0.0


async def served(
    sessions: SessionFactory, slots: dict[uuid.UUID, datetime], within: float
) -> Served:
    """Wait until every slot has a finished run; the delays of their starts."""
    first = min(slots.values())
    deadline = time.monotonic() + within
    while True:
        async with session_scope(sessions) as session:
            runs = list(
                await session.scalars(
                    select(SyncRun).where(
                        SyncRun.interface_id.in_(list(slots)), SyncRun.planned_at >= first
                    )
                )
            )
        finished = [r for r in runs if r.status is not RunStatus.running]
        if len(finished) >= len(slots) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    ends = [r.finished_at for r in finished if r.finished_at is not None]
    return Served(
        delays=sorted(
            (r.started_at - r.planned_at).total_seconds() for r in finished if r.planned_at
        ),
        seconds=(max(ends) - first).total_seconds() if ends else 0.0,
        statuses=dict(Counter(str(r.status) for r in runs)),
    )


def staggered(ids: list[uuid.UUID], window: float, n: int) -> dict[uuid.UUID, datetime]:
    """Slots one after another at the rate of ``n`` interfaces on a 15-minute interval."""
    gap = INTERVAL_MINUTES * 60 / n
    start = utcnow() + timedelta(seconds=1)
    count = int(window / gap)
    return {ids[i]: start + timedelta(seconds=i * gap) for i in range(count)}


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of sorted ``values`` (nearest rank)."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(share * len(values) + 0.5) - 1))]


def describe(name: str, result: Served, expected: int) -> None:
    """Print one phase's figures."""
    d = result.delays
    print(f"{name}: {len(d)} of {expected} runs served, statuses {result.statuses}")
    if d:
        print(
            f"   delay p50 {percentile(d, 0.5):.2f} s, p99 {percentile(d, 0.99):.2f} s, "
            f"max {d[-1]:.2f} s, mean {statistics.fmean(d):.2f} s"
        )
    print(f"   {result.runs_per_second:.2f} runs/s over {result.seconds:.1f} s")


def settings_for(url: str, tmp: Path, args: argparse.Namespace) -> Settings:
    """The process's settings: the given database, tick and concurrency, nothing from the env."""
    overrides: dict[str, object] = {"scheduler_tick_seconds": args.tick}
    if args.max_concurrent:
        overrides["max_concurrent_runs"] = args.max_concurrent
    return Settings.model_validate(
        {"env": Environment.test, "database_url": url, "secret_key": SECRET_KEY,
         "var_dir": tmp / "var", "log_level": "WARNING", **overrides}
    )  # fmt: skip


def knobs(settings: Settings) -> str:
    """The settings that shape scheduling."""
    return (
        f"tick {settings.scheduler_tick_seconds} s, max_concurrent_runs "
        f"{settings.max_concurrent_runs}, lease TTL {settings.lease_ttl_seconds} s"
    )


async def bench(args: argparse.Namespace, tmp: Path) -> None:
    """Set up, then measure the three phases and print them."""
    erp = empty_erp(tmp / "erp.sqlite")
    sandbox = create_sandbox(SandboxConfig(private_tokens=[TOKEN], rate_limits=False))
    async with (
        hub_database(tmp, args.postgres) as url,
        serving(sandbox, listening_socket()) as sandbox_url,
    ):
        state = WebState.build(settings_for(url, tmp, args))
        try:
            started = time.perf_counter()
            ids = await populate(state, erp=erp, sandbox_url=sandbox_url, args=args)
            backend = "PostgreSQL" if args.postgres else "SQLite"
            took = time.perf_counter() - started
            print(f"{len(ids):,} active interfaces on {args.portals} portals, hubsync on {backend}")
            print(f"   (set up in {took:.1f} s); {knobs(state.settings)}")
            await measure(state, ids, args)
        finally:
            await state.engine.dispose()


async def measure(state: WebState, ids: list[uuid.UUID], args: argparse.Namespace) -> None:
    """The three phases, printed as they finish."""
    scheduler = build_scheduler(state)
    cpu, wall = await idle_ticks(scheduler, args.ticks)
    print(f"1. idle tick ({args.ticks} ticks back to back, nothing due):")
    print(f"   CPU {cpu * 1e3:.2f} ms per tick, wall {wall * 1e3:.2f} ms per tick")
    slots = staggered(ids, args.window, len(ids))
    await plan(state.session_factory, slots)
    scheduler.start()
    try:
        result = await served(state.session_factory, slots, args.window + 120)
        rate = len(ids) / (INTERVAL_MINUTES * 60)
        describe(
            f"2. staggered: {len(slots)} slots over {args.window:.0f} s ({rate:.2f}/s)",
            result,
            len(slots),
        )
        burst = dict.fromkeys(ids[len(slots) : len(slots) + args.burst], utcnow())
        await plan(state.session_factory, burst)
        result = await served(state.session_factory, burst, 240)
        describe(f"3. burst: {len(burst)} due at once", result, len(burst))
    finally:
        await scheduler.stop(5)
    async with session_scope(state.session_factory) as session:
        total = await session.scalar(select(func.count()).select_from(SyncRun))
    print(f"   ({total} runs in all)")


def main() -> None:
    """Parse the arguments and run the benchmark in a temporary directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interfaces", type=int, default=1_000, help="active interfaces (1,000)")
    parser.add_argument("--portals", type=int, default=20, help="HubSpot connections (20)")
    parser.add_argument("--tick", type=float, default=DEFAULTS["scheduler_tick_seconds"].default,
                        help="scheduler tick in seconds (the default setting)")  # fmt: skip
    parser.add_argument("--max-concurrent", type=int, default=0, help="runs at once (setting)")
    parser.add_argument("--ticks", type=int, default=200, help="idle ticks measured (200)")
    parser.add_argument("--window", type=float, default=60.0, help="staggered phase, s (60)")
    parser.add_argument("--burst", type=int, default=100, help="interfaces due at once (100)")
    parser.add_argument("--postgres", action="store_true", help="hubsync on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        asyncio.run(bench(args, Path(name)))


if __name__ == "__main__":
    main()
