"""Server time of the backend pages over 1,000 interfaces and 1,000,000 run items.

Run: .venv/bin/python bench/ui.py [--items 1000000] [--interfaces 1000] [--requests 50]
     [--sqlite | --sqlite-only] [--quick] [--keep FILE]

Seeds a fresh PostgreSQL database (and with ``--sqlite`` a fresh SQLite file),
migrated to head, in bulk: ``build_world``'s users, then tenants, connections,
mapping versions, interfaces, runs (every interval, about 200 per interface)
and run items (an initial load per interface, then a few changes per run; ~3 %
failed with varied messages, a fifth of those resolved; payloads of ~250
bytes) — PostgreSQL through ``COPY``, SQLite through ``executemany`` of plain
tuples, the stored ``synced`` and ``error_cause`` filled by the application's
own functions — then ANALYZE (PostgreSQL: VACUUM ANALYZE, so index-only scans
see the visibility map autovacuum keeps on a live database, which a fresh COPY
lacks). A few interfaces fail (blockers), some run right now, some are paused.

Then times, in-process (httpx ``ASGITransport``, so hubsync's own cost without
network), ``--requests`` sequential GETs per page after two warm-ups, as the
operator (every tenant) and as tenant A's admin: the Übersicht, the history,
a large and a small run, the error log, one cause's records and an interface.
Prints p50/p95 against the goal (p95 < 200 ms); for a page that misses it, the
statements that dominate its SQL time (SQLAlchemy cursor events). ``--quick``
seeds a tenth (100 interfaces, 100,000 items). ``--keep FILE`` seeds the SQLite
database into FILE once (with ``FILE.json`` beside it) and later runs reuse it,
migrated to head first: seeding a million items takes minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import pstats
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.main import create_app
from app.models.run import records_written
from app.sync.error_groups import cause_digest
from app.sync.mapping.loader import load_mapping
from tests.conftest import BASE_URL, make_settings
from tests.databases import fresh_database
from tests.factories import build_world
from tests.ui_session import sign_in

GOAL_MS = 200.0
CHUNK = 20_000  # rows per COPY / executemany
INTERVAL = timedelta(minutes=15)
INITIAL_SHARE = 0.4  # of an interface's items: its first (full) load
FAILED_SHARE, RESOLVED_SHARE = 0.03, 0.2
OBJECTS = ("companies", "contacts")
OUTCOMES = {"create": "created", "update": "updated", "delete": "deleted", "skip": "skipped"}
MAPPING_YAML = """\
objects:
  - name: companies
    source: {object: customers, key: customer_no}
    hubspot: {object: companies, match: erp_customer_no}
    fields:
      - {source: customer_no, hubspot: erp_customer_no}
      - {source: name, hubspot: name}
      - {source: city, hubspot: city}
  - name: contacts
    source: {object: people, key: person_no}
    hubspot: {object: contacts, match: email}
    fields:
      - {source: email, hubspot: email}
      - {source: name, hubspot: lastname}
      - {source: city, hubspot: city}
"""
CITIES = ("Zürich", "Bern", "Basel", "Genève", "Lausanne", "Luzern", "St. Gallen", "Chur")
FAILURES: tuple[tuple[str, int | None, str, int], ...] = (  # message, HTTP status, category, weight
    ("Email address {email} is invalid", 400, "data", 20),
    ("{word} was not one of the allowed options: ['customer', 'lead', 'other']", 400, "data", 15),
    ('Property "{prop}" does not exist', 400, "data", 5),
    ("Contact already exists. Existing ID: {id}", 409, "data", 10),
    ("{n} was not a valid number.", 400, "data", 8),
    ("2024-13-{day} was not a valid date.", 400, "data", 5),
    ("You have reached your secondly limit.", 429, "transient", 12),
    ("Internal error (correlation id: {uuid})", 500, "transient", 8),
    ("the match property 'erp_customer_no' is empty", None, "data", 10),
    ("the source refused the record: value too long for type character varying(40)", None,
     "system", 7),
)  # fmt: skip
RUN_ERRORS = (  # why a failing interface's runs fail: (summary, category)
    ("INVALID_AUTHENTICATION: The access token was revoked", "config"),
    ("the source could not be reached: connection refused (erp.example.ch:5432)", "config"),
)
TABLES: dict[str, tuple[str, ...]] = {
    "tenants": ("id", "slug", "name", "created_at", "modified_at"),
    "connections": ("id", "tenant_id", "name", "kind", "connector", "config", "created_at",
                    "modified_at"),
    "mapping_versions": ("id", "tenant_id", "interface_id", "number", "yaml_text", "parsed",
                         "created_at", "approved_at"),
    "interfaces": ("id", "tenant_id", "name", "source_connection_id", "hubspot_connection_id",
                   "active_mapping_version_id", "interval_minutes", "state", "next_run_at",
                   "last_run_at", "health", "health_reason", "created_at", "modified_at"),
    "sync_runs": ("id", "tenant_id", "interface_id", "mapping_version_id", "trigger", "dry_run",
                  "status", "started_at", "finished_at", "counts", "synced", "cursors_before",
                  "cursors_after", "error_summary", "error_category"),
    "run_items": ("id", "tenant_id", "run_id", "interface_id", "object_name", "direction",
                  "action", "status", "source_key", "hubspot_id", "error_message",
                  "error_category", "error_cause", "http_status", "correlation_id", "payload",
                  "created_at"),
}  # fmt: skip
Row = tuple[Any, ...]
# Interfaces and versions point at each other: interfaces go in without, then this.
ACTIVATE_VERSIONS = """UPDATE interfaces SET active_mapping_version_id = (
  SELECT mv.id FROM mapping_versions mv WHERE mv.interface_id = interfaces.id AND mv.number = 1)
WHERE active_mapping_version_id IS NULL"""


@dataclass(frozen=True, slots=True)
class Shape:
    """How much to seed."""

    interfaces: int
    items: int
    runs_per_interface: int
    tenants: int


@dataclass(slots=True)
class Seeded:
    """What the timing needs to know about the seeded data (kept beside a ``--keep`` file)."""

    operator: str  # who signs in: the operator and tenant A's admin
    admin: str
    runs: int = 0
    items: int = 0
    failed: int = 0
    large_run: uuid.UUID | None = None  # tenant A's biggest run (an initial load)
    small_run: uuid.UUID | None = None  # tenant A's newest run
    interface: uuid.UUID | None = None  # one of tenant A's interfaces
    shape: list[int] = field(default_factory=list)  # interfaces, items, runs, tenants

    def dump(self) -> bytes:
        """As JSON."""
        return orjson.dumps(asdict(self))

    @classmethod
    def load(cls, data: bytes) -> Seeded:
        """From ``dump``'s JSON."""
        found = orjson.loads(data)
        for name in ("large_run", "small_run", "interface"):
            found[name] = uuid.UUID(found[name]) if found[name] else None
        return cls(**found)


class Seeder:
    """Repeatable rows for every table (seeded random, fresh ids), one interface at a time."""

    def __init__(self, shape: Shape, first_tenant: uuid.UUID, now: datetime) -> None:
        self.shape, self.now = shape, now
        self.rng = random.Random(20261128)
        self.mapping = orjson.dumps(load_mapping(MAPPING_YAML).model_dump(mode="json")).decode()
        self.tenant_ids = [first_tenant] + [uuid.uuid4() for _ in range(shape.tenants - 1)]
        self.info = Seeded(operator="", admin="", shape=list(asdict(shape).values()))

    def tenants(self) -> list[Row]:
        """The tenants beyond ``build_world``'s."""
        return [(t, f"bench-{n}", f"Bench-Mandant {n}", self.now, self.now)
                for n, t in enumerate(self.tenant_ids[1:], start=1)]  # fmt: skip

    def interfaces(self) -> Iterator[dict[str, list[Row]]]:
        """Per interface: its connections, version, interface row, runs and items."""
        per_tenant = -(-self.shape.interfaces // self.shape.tenants)
        items_each = self.shape.items // self.shape.interfaces
        for index in range(self.shape.interfaces):
            tenant = self.tenant_ids[min(index // per_tenant, len(self.tenant_ids) - 1)]
            yield self._interface(index, tenant, items_each)

    def _interface(self, index: int, tenant: uuid.UUID, items: int) -> dict[str, list[Row]]:
        ids = [uuid.uuid4() for _ in range(4)]  # source, hubspot, version, interface
        source, hubspot, version, interface = ids
        now, name = self.now, f"schnittstelle-{index:04d}"
        rows: dict[str, list[Row]] = defaultdict(list)
        rows["connections"] += [
            (
                source,
                tenant,
                f"{name}-erp",
                "source",
                "sql",
                '{"host": "erp.example.ch"}',
                now,
                now,
            ),
            (hubspot, tenant, f"{name}-hubspot", "hubspot", "hubspot", "{}", now, now),
        ]
        rows["mapping_versions"].append(
            (version, tenant, interface, 1, MAPPING_YAML, self.mapping, now, now)
        )
        kind = self._kind(index)
        runs, items_rows = self._runs(index, tenant, interface, version, items, kind)
        rows["sync_runs"], rows["run_items"] = runs, items_rows
        last = next((r for r in reversed(runs) if r[6] != "running"), None)
        health = {"failing": "error", "paused": "paused"}.get(
            kind, "warning" if last and last[6] == "warning" else "ok"
        )
        reason = RUN_ERRORS[index % 2][0] if kind == "failing" else None
        state = "paused" if kind == "paused" else "active"
        last_at = last[8] if last else None
        next_at = last_at + INTERVAL if last_at and state == "active" else None
        rows["interfaces"].append(
            (interface, tenant, name, source, hubspot, None, 15, state, next_at, last_at,
             health, reason, now, now)
        )  # fmt: skip
        if tenant == self.tenant_ids[0] and self.info.interface is None:
            self.info.interface = interface
        return rows

    def _kind(self, index: int) -> str:
        if index % 33 == 5:
            return "failing"
        if index % 97 == 7:
            return "running"
        return "paused" if index % 50 == 11 else "normal"

    def _runs(
        self, index: int, tenant: uuid.UUID, interface: uuid.UUID, version: uuid.UUID,
        items: int, kind: str,
    ) -> tuple[list[Row], list[Row]]:  # fmt: skip
        count = self.shape.runs_per_interface
        initial = int(items * INITIAL_SHARE)
        spread = [0] * count
        spread[0] = initial
        for _ in range(items - initial):
            spread[self.rng.randrange(1, count)] += 1
        runs: list[Row] = []
        all_items: list[Row] = []
        for k in range(count):
            started = self.now - (count - k) * INTERVAL + timedelta(seconds=self.rng.random() * 30)
            failing = kind == "failing" and k >= count - 3
            running = kind == "running" and k == count - 1
            run_id = uuid.uuid4()
            items_k = [] if failing else self._items(index, k, tenant, run_id, interface,
                                                     started, spread[k])  # fmt: skip
            all_items += items_k
            runs.append(self._run(run_id, tenant, interface, version, k, started, items_k,
                                  failing, running))  # fmt: skip
            if tenant == self.tenant_ids[0]:
                if k == 0 and self.info.large_run is None:
                    self.info.large_run = run_id
                self.info.small_run = run_id
        self.info.runs += len(runs)
        self.info.items += len(all_items)
        self.info.failed += sum(1 for i in all_items if i[7] == "failed")
        return runs, all_items

    def _run(
        self, run_id: uuid.UUID, tenant: uuid.UUID, interface: uuid.UUID, version: uuid.UUID,
        k: int, started: datetime, items: Sequence[Row], failing: bool, running: bool,
    ) -> Row:  # fmt: skip
        counts: dict[str, dict[str, int]] = {o: {} for o in OBJECTS}
        for item in items:
            outcome = OUTCOMES[item[6]] if item[7] == "succeeded" else "failed"
            per = counts[item[4]]
            per[outcome] = per.get(outcome, 0) + 1
        for per in counts.values():
            per["unchanged"] = self.rng.randrange(0, 40)
        has_failed = any(i[7] != "succeeded" for i in items)
        status = "failed" if failing else "running" if running else (
            "warning" if has_failed else "succeeded")  # fmt: skip
        trigger = "manual" if k == 0 else self.rng.choices(
            ("schedule", "webhook", "manual", "retry"), (90, 6, 3, 1))[0]  # fmt: skip
        finished = None if running else started + timedelta(seconds=2 + len(items) / 50)
        cursor = orjson.dumps({"customers": {"updated_at": started.isoformat()}}).decode()
        summary, category = RUN_ERRORS[k % 2] if failing else (None, None)
        return (run_id, tenant, interface, version, trigger, False, status, started, finished,
                orjson.dumps(counts).decode(), 0 if running else records_written(counts), cursor,
                cursor, summary, category)  # fmt: skip

    def _items(
        self, index: int, k: int, tenant: uuid.UUID, run_id: uuid.UUID, interface: uuid.UUID,
        started: datetime, n: int,
    ) -> list[Row]:  # fmt: skip
        rows = []
        rng = self.rng
        for j in range(n):
            object_name = OBJECTS[j % 2]
            prefix = "K" if object_name == "companies" else "P"
            key = f"{prefix}{index:04d}-{rng.randrange(10**6):06d}"
            action = "create" if k == 0 else rng.choices(
                ("update", "create", "delete", "skip"), (80, 15, 3, 2))[0]  # fmt: skip
            failed = rng.random() < FAILED_SHARE
            status = ("resolved" if rng.random() < RESOLVED_SHARE else "failed") if failed else (
                "succeeded")  # fmt: skip
            message = http = category = correlation = cause = None
            if failed:
                message, http, category = self._failure(key)
                cause = cause_digest(message)
                correlation = str(uuid.uuid4()) if http and http >= 429 else None
            hubspot_id = None if failed else str(10**10 + rng.randrange(10**9))
            payload = self._payload(key, object_name)
            created = started + timedelta(milliseconds=5 * j)
            rows.append((uuid.uuid4(), tenant, run_id, interface, object_name, "to_hubspot",
                         action, status, key, hubspot_id, message, category, cause, http,
                         correlation, payload, created))  # fmt: skip
        return rows

    def _failure(self, key: str) -> tuple[str, int | None, str]:
        rng = self.rng
        template, http, category, _weight = rng.choices(FAILURES, [f[3] for f in FAILURES])[0]
        message = template.format(
            email=f"{key.lower()}@beispiel{rng.randrange(100)}",
            word=rng.choice(("Kunde", "Partner", "VIP")),
            prop=rng.choice(("erp_segment", "branche", "umsatzklasse")), id=rng.randrange(10**9),
            n=f"{rng.randrange(10**4)},{rng.randrange(100)}", day=rng.randrange(32, 99),
            uuid=uuid.uuid4(),
        )  # fmt: skip
        return message, http, category

    def _payload(self, key: str, object_name: str) -> str:
        name = f"Muster {key[-4:]} AG"
        city = CITIES[int(key[-6:]) % len(CITIES)]
        record = {
            "customer_no": key,
            "name": name,
            "city": city,
            "email": f"info@{key.lower()}.example.ch",
            "updated_at": self.now.isoformat(),
        }
        match = "erp_customer_no" if object_name == "companies" else "email"
        properties = {match: key, "name": name, "city": city}
        return orjson.dumps({"record": record, "properties": properties}).decode()


class Writer:
    """Bulk rows into one table at a time: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.backend = self.url.get_backend_name()
        self.pg: asyncpg.Connection | None = None
        self.lite: sqlite3.Connection | None = None

    async def __aenter__(self) -> Writer:
        if self.backend == "postgresql":
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.pg = await asyncpg.connect(dsn)
        else:
            self.lite = sqlite3.connect(str(self.url.database))
            self.lite.execute("PRAGMA journal_mode=WAL")
            self.lite.execute("PRAGMA synchronous=OFF")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.pg is not None:
            await self.pg.execute(ACTIVATE_VERSIONS)
            await self.pg.execute("VACUUM ANALYZE")  # the visibility map autovacuum keeps
            await self.pg.close()
        if self.lite is not None:
            self.lite.execute(ACTIVATE_VERSIONS)
            self.lite.commit()
            self.lite.execute("ANALYZE")
            self.lite.close()

    async def write(self, table: str, rows: Sequence[Row]) -> None:
        """Insert ``rows`` (tuples in ``TABLES[table]`` order) into ``table``."""
        if not rows:
            return
        columns = TABLES[table]
        if self.pg is not None:
            await self.pg.copy_records_to_table(table, records=rows, columns=columns)
            return
        assert self.lite is not None
        marks = ", ".join("?" * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        self.lite.executemany(statement, [tuple(map(_sqlite, row)) for row in rows])


def _sqlite(value: Any) -> Any:
    """A value as SQLAlchemy stores it on SQLite: UUIDs as hex, UTC times as text."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, bool):
        return int(value)
    return value


async def seed(url: str, shape: Shape) -> Seeded:
    """``build_world`` through the ORM, then everything else in bulk."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as db:
            world = await build_world(db)
    finally:
        await engine.dispose()
    seeder = Seeder(shape, world.a.tenant.id, datetime.now(UTC))
    seeder.info.operator, seeder.info.admin = world.operator.email, world.a.admin.email
    buffers: dict[str, list[Row]] = defaultdict(list)
    order = ("connections", "interfaces", "mapping_versions", "sync_runs", "run_items")
    async with Writer(url) as writer:
        await writer.write("tenants", seeder.tenants())
        for rows in seeder.interfaces():
            for table, found in rows.items():
                buffers[table] += found
            if len(buffers["run_items"]) >= CHUNK:
                await _flush(writer, buffers, order)
        await _flush(writer, buffers, order)
    return seeder.info


async def _flush(writer: Writer, buffers: dict[str, list[Row]], order: Sequence[str]) -> None:
    for table in order:
        await writer.write(table, buffers.pop(table, []))


@dataclass(slots=True)
class QueryLog:
    """SQL time per statement while ``active``, via the engine's cursor events."""

    active: bool = False
    spent: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    starts: list[float] = field(default_factory=list)

    def attach(self, engine: Any) -> None:
        """Listen to ``engine``'s cursor executions."""
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(engine.sync_engine, "after_cursor_execute", self._after)

    def _before(self, *_args: Any) -> None:
        self.starts.append(time.perf_counter())

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        elapsed = (time.perf_counter() - self.starts.pop()) * 1000
        if self.active:
            self.spent[" ".join(statement.split())].append(elapsed)


@dataclass(frozen=True, slots=True)
class Timing:
    """One page's samples and the statements behind them."""

    label: str
    samples: list[float]
    queries: dict[str, list[float]]

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


async def time_page(
    client: httpx.AsyncClient, log: QueryLog, label: str, url: str, n: int
) -> Timing:
    """``n`` sequential GETs of ``url`` after two warm-ups, with their SQL time."""
    for _ in range(2):
        response = await client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    log.spent = defaultdict(list)
    samples = []
    log.active = True
    try:
        for _ in range(n):
            started = time.perf_counter()
            response = await client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    finally:
        log.active = False
    return Timing(label, samples, dict(log.spent))


def report(timing: Timing, requests: int) -> bool:
    """One line per page; the dominant statements of a page over the goal. Whether it missed."""
    p50 = statistics.median(timing.samples)
    missed = timing.p95 >= GOAL_MS
    print(f"  {timing.label:56} p50 {p50:7.1f} ms  p95 {timing.p95:7.1f} ms  "
          f"{'MISSED' if missed else 'ok'}")  # fmt: skip
    if not missed:
        return False
    sql = sum(sum(v) for v in timing.queries.values()) / requests
    statements = sum(len(v) for v in timing.queries.values()) / requests
    print(f"      per request {statements:.0f} statements, {sql:.0f} ms in SQL, "
          f"{statistics.mean(timing.samples) - sql:.0f} ms elsewhere; top statements:")  # fmt: skip
    top = sorted(timing.queries.items(), key=lambda kv: -sum(kv[1]))[:3]
    for statement, spent in top:
        each, times = sum(spent) / requests, len(spent) / requests
        print(f"      {each:8.1f} ms {times:4.0f}×  {statement[:140]}")
    return True


async def hotspots(client: httpx.AsyncClient, url: str) -> None:
    """Profile one more request: template rendering and hubsync's slowest service calls."""
    profiler = cProfile.Profile()
    profiler.enable()
    await client.get(url)
    profiler.disable()
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    cumulative = {
        (Path(file).name, line, name): seconds * 1000
        for (file, line, name), (_cc, _nc, _tt, seconds, _callers) in entries.items()
        if "/app/" in file
    }
    render = max((ms for (f, _l, n), ms in cumulative.items() if n == "render"), default=0.0)
    services = sorted(
        ((ms, f"{f}:{line} {n}") for (f, line, n), ms in cumulative.items()
         if (f, n) != ("templating.py", "render") and f not in ("routes.py", "middleware.py")
         and not n.startswith(("_call", "__call__", "dispatch"))),
        reverse=True,
    )[:4]  # fmt: skip
    print(f"      profiled request (cProfile adds overhead): Jinja render {render:.0f} ms; "
          + "; ".join(f"{where} {ms:.0f} ms" for ms, where in services))  # fmt: skip


async def bench(
    backend: str, shape: Shape, requests: int, tmp: Path, keep: Path | None = None
) -> None:
    """Seed ``backend`` (or reuse the kept SQLite file) and time the pages."""
    kept = keep if backend == "sqlite" else None
    async with _database(backend, tmp, kept) as url:
        started = time.perf_counter()
        seeded = await _seeded(url, shape, kept)
        print(
            f"{backend}: {shape.interfaces:,} interfaces in {shape.tenants} tenants, "
            f"{seeded.runs:,} runs, {seeded.items:,} items ({seeded.failed:,} failed and "
            f"open), ready in {time.perf_counter() - started:.0f} s"
        )
        app = create_app(make_settings(url, tmp, log_level="WARNING"))
        log = QueryLog()
        log.attach(app.state.web.engine)
        try:
            await _time_pages(app, seeded, shape, requests, log)
        finally:
            await app.state.web.engine.dispose()


@contextlib.asynccontextmanager
async def _database(backend: str, tmp: Path, kept: Path | None) -> AsyncIterator[str]:
    """A fresh database, or the kept SQLite file."""
    if kept is None:
        async with fresh_database(backend, tmp) as url:
            yield url
    else:
        yield f"sqlite+aiosqlite:///{kept}"


async def _seeded(url: str, shape: Shape, kept: Path | None) -> Seeded:
    """Migrate to head and seed; a kept file seeded before is only migrated (and analysed
    again when that changed its schema)."""
    notes = kept.with_name(kept.name + ".json") if kept else None
    if notes is None or not notes.exists():
        await asyncio.to_thread(migrations.upgrade, url)
        seeded = await seed(url, shape)
        if notes is not None:
            notes.write_bytes(seeded.dump())
        return seeded
    seeded = Seeded.load(notes.read_bytes())
    if seeded.shape != list(asdict(shape).values()):
        sys.exit(f"{kept} was seeded with another shape {seeded.shape}: remove it first")
    assert kept is not None
    before = _revision(kept)
    await asyncio.to_thread(migrations.upgrade, url)
    if _revision(kept) != before:
        with contextlib.closing(sqlite3.connect(kept)) as lite:
            lite.execute("ANALYZE")
    return seeded


def _revision(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as lite:
        return str(lite.execute("SELECT version_num FROM alembic_version").fetchone()[0])


async def _time_pages(app: Any, seeded: Seeded, shape: Shape, requests: int, log: QueryLog) -> None:
    transport = httpx.ASGITransport(app=app)
    per_tenant = -(-shape.interfaces // shape.tenants)
    for who, email in (("operator", seeded.operator), ("admin A", seeded.admin)):
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            await sign_in(client, email)
            group = await _a_group(client, seeded)
            shown = shape.interfaces + 2 if who == "operator" else per_tenant + 1
            pages = [
                (f"GET /ui/ dashboard, {shown:,} interfaces", "/ui/"),
                ("GET /ui/runs history, newest 50", "/ui/runs"),
                ("GET /ui/runs?interface= one interface's history",
                 f"/ui/runs?interface={seeded.interface}"),
                ("GET /ui/runs/{id} initial load, first 100 tasks", f"/ui/runs/{seeded.large_run}"),
                ("GET /ui/runs/{id} newest run", f"/ui/runs/{seeded.small_run}"),
                ("GET /ui/errors error log", "/ui/errors"),
                ("GET /ui/errors/groups/{id} one cause's records", group),
                ("GET /ui/interfaces Schnittstellen, first 50", "/ui/interfaces"),
                ("GET /ui/interfaces/{id} interface overview",
                 f"/ui/interfaces/{seeded.interface}"),
            ]  # fmt: skip
            print(f" as {who}:")
            for label, url in pages:
                if report(await time_page(client, log, label, url, requests), requests):
                    await hotspots(client, url)


async def _a_group(client: httpx.AsyncClient, seeded: Seeded) -> str:
    """The first cause of the error log, filtered to tenant A's interface."""
    page = await client.get(f"/ui/errors?interface={seeded.interface}")
    found = re.search(r'href="(/ui/errors/groups/[0-9a-f]+)"', page.text)
    assert found, "the interface has no open error group"
    return found.group(1) + "?embedded=true"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--interfaces", type=int, default=1_000, help="interfaces (1,000)")
    parser.add_argument("--items", type=int, default=1_000_000, help="run items (1,000,000)")
    parser.add_argument("--runs", type=int, default=200, help="runs per interface (200)")
    parser.add_argument("--tenants", type=int, default=10, help="tenants (10; A is one)")
    parser.add_argument("--requests", type=int, default=50, help="timed GETs per page (50)")
    parser.add_argument("--sqlite", action="store_true", help="also on SQLite")
    parser.add_argument("--sqlite-only", action="store_true", help="on SQLite alone")
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    parser.add_argument("--keep", type=Path, help="SQLite: seed into this file once, reuse it")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    shape = Shape(args.interfaces // scale, args.items // scale, args.runs, args.tenants)
    keep = args.keep.resolve() if args.keep else None
    with tempfile.TemporaryDirectory() as tmp:
        for backend in (
            ("sqlite",)
            if args.sqlite_only
            else ("postgresql", "sqlite")
            if args.sqlite
            else ("postgresql",)
        ):
            await bench(backend, shape, args.requests, Path(tmp), keep)


if __name__ == "__main__":
    asyncio.run(main())
