"""Webhook intake: sustained events per second accepted, and the p99 time to acknowledge.

Run: .venv/bin/python bench/webhooks.py [--seconds 15] [--concurrency 10] [--postgres]

hubsync's database is a fresh SQLite file (``--postgres``: a fresh database on
HUBSYNC_TEST_POSTGRES_URL's server), migrated to head. HubSpot's deliveries are
imitated: batches of 100 distinct events (a ``company.propertyChange`` each, as
the sandbox sends them), each request signed v3 with the client secret when it
is sent. Every request goes through the whole receiver: body cap, signature
over the raw body, parsing, one INSERT … ON CONFLICT DO NOTHING of the batch,
commit, answer. Two series each:

- paced: the goal's load, 2,000 events/s = 20 requests/s on a fixed schedule
  (whatever the answers), at most ``--concurrency`` in flight (HubSpot's
  ``maxConcurrentRequests``; its API example uses 10), for ``--seconds``:
  the events/s accepted and the acknowledge time per request (send to answer);
- saturated: ``--concurrency`` senders posting as fast as the answers come,
  the same number of events: the ceiling in events/s. Its acknowledge times
  are queueing by design (Little's law: senders × batch / rate), shown anyway.

1. in-process: the real app through ``httpx.ASGITransport`` (no network, no
   scheduler; hubsync's log at WARNING so the figures are the receiver's). On
   SQLite without a scheduler, the commit that fills the WAL checkpoints it;
2. over loopback: ``hubsync serve`` in its own process (uvicorn, log at INFO to
   /dev/null, scheduler on, so its webhook worker routes — here: ignores, the
   portal being unknown — the events while they arrive, and its job checkpoints
   SQLite's WAL outside the requests), this process only sending; the server's
   CPU time per event is printed too.

Goal: ≥ 2,000 events/s sustained with p99 acknowledge < 50 ms on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.connectors.hubspot.signatures import sign_v3
from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.core.settings import Settings
from app.main import create_app
from app.models import WebhookEvent
from bench.sync import free_port, process_cpu_seconds
from tests.databases import fresh_database

SECRET = "bench-client-secret"  # noqa: S105 - a benchmark credential
SECRET_KEY = "bench-secret-key-0123456789abcdef"  # noqa: S105
PATH = "/api/v1/webhooks/hubspot"
PER_BATCH = 100  # HubSpot's most events per request
WARM_UP = 5  # batches sent before timing
GOAL_EVENTS_PER_S = 2_000
GOAL_P99_MS = 50.0


class Batches:
    """Request bodies of ``PER_BATCH`` new events each, ids never repeating."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def body(self) -> bytes:
        """The next batch, serialised as HubSpot does (compact JSON)."""
        now = int(time.time() * 1000)
        events = [
            {"eventId": n, "subscriptionId": 7, "portalId": 62515, "appId": 54321,
             "occurredAt": now, "subscriptionType": "company.propertyChange",
             "attemptNumber": 0, "objectId": 1_000_000 + n, "propertyName": "name",
             "propertyValue": f"Muster AG {n}", "changeSource": "CRM_UI"}
            for n in itertools.islice(self._ids, PER_BATCH)
        ]  # fmt: skip
        return json.dumps(events, separators=(",", ":")).encode()

    def series(self, count: int) -> list[bytes]:
        """``count`` bodies, built before the clock starts."""
        return [self.body() for _ in range(count)]


@dataclass
class Series:
    """One series of requests: how many events, how long it took, each request's ack time."""

    label: str
    events: int
    seconds: float
    acks_ms: list[float]
    queueing: bool = False  # saturated: its ack times are queueing by design, not the goal

    @property
    def rate(self) -> float:
        """Events accepted per second over the series."""
        return self.events / self.seconds

    def percentile(self, q: int) -> float:
        """The ``q``-th percentile of the acknowledge times, in ms."""
        return statistics.quantiles(self.acks_ms, n=100, method="inclusive")[q - 1]

    def lines(self) -> list[str]:
        """The figures, compared with the goals."""
        rate, p99 = self.rate, self.percentile(99)
        rate_ok = "ok" if rate >= GOAL_EVENTS_PER_S * 0.98 else "MISSED"  # 2 %: the last answer
        p99_ok = "ok" if p99 < GOAL_P99_MS else "MISSED"
        judged = f"{p99_ok}: goal < {GOAL_P99_MS:.0f}"
        if self.queueing:
            judged = "queueing, not the goal's load"
        return [
            f"   {self.label}: {rate:,.0f} events/s accepted "
            f"({rate_ok}: goal >= {GOAL_EVENTS_PER_S:,})",
            f"      ack p50 {self.percentile(50):.1f} ms, p99 {p99:.1f} ms "
            f"({judged}), max {max(self.acks_ms):.1f} ms",
        ]


async def post(client: httpx.AsyncClient, uri: str, body: bytes) -> float:
    """Sign and send one batch; the time to its answer in ms (it must be a 200)."""
    stamp = int(time.time() * 1000)
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": sign_v3(SECRET, "POST", uri, body, stamp),
        "X-HubSpot-Request-Timestamp": str(stamp),
    }
    started = time.perf_counter()
    response = await client.post(PATH, content=body, headers=headers)
    took = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return took


async def saturated(
    client: httpx.AsyncClient, uri: str, bodies: list[bytes], senders: int, label: str
) -> Series:
    """Send ``bodies`` with ``senders`` senders, each posting as soon as its last answer came."""
    pending = iter(bodies)
    acks: list[float] = []

    async def sender() -> None:
        for body in pending:
            acks.append(await post(client, uri, body))

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(senders)))
    seconds = time.perf_counter() - started
    return Series(label, len(bodies) * PER_BATCH, seconds, acks, queueing=True)


async def paced(
    client: httpx.AsyncClient, uri: str, bodies: list[bytes], per_second: float, in_flight: int
) -> Series:
    """Send ``bodies`` on a fixed schedule, ``per_second`` requests a second whatever the
    answers, at most ``in_flight`` at once (HubSpot's throttling), as deliveries arrive."""
    slots = asyncio.Semaphore(in_flight)
    acks: list[float] = []
    started = time.perf_counter()

    async def deliver(n: int, body: bytes) -> None:
        await asyncio.sleep(max(0.0, started + n / per_second - time.perf_counter()))
        async with slots:
            acks.append(await post(client, uri, body))

    await asyncio.gather(*(deliver(n, body) for n, body in enumerate(bodies)))
    label = f"paced at {per_second * PER_BATCH:,.0f} events/s"
    return Series(label, len(bodies) * PER_BATCH, time.perf_counter() - started, acks)


async def warm_up(client: httpx.AsyncClient, uri: str, batches: Batches) -> None:
    """A few batches before timing (imports, connection pools, caches)."""
    await saturated(client, uri, batches.series(WARM_UP), 1, "warm-up")


async def timed(
    client: httpx.AsyncClient, uri: str, batches: Batches, args: argparse.Namespace
) -> list[Series]:
    """The goal's load on a fixed schedule, then as much as ``--concurrency`` senders manage."""
    per_second = GOAL_EVENTS_PER_S / PER_BATCH
    count = int(args.seconds * per_second)
    return [
        await paced(client, uri, batches.series(count), per_second, args.concurrency),
        await saturated(
            client,
            uri,
            batches.series(count),
            args.concurrency,
            f"saturated by {args.concurrency} senders",
        ),
    ]


def settings_env(database_url: str, tmp: Path, public_url: str) -> dict[str, str]:
    """The ``HUBSYNC_*`` variables of the benchmarked hubsync."""
    return {
        "HUBSYNC_ENV": "development",
        "HUBSYNC_DATABASE_URL": database_url,
        "HUBSYNC_SECRET_KEY": SECRET_KEY,
        "HUBSYNC_VAR_DIR": str(tmp / "var"),
        "HUBSYNC_PUBLIC_URL": public_url,
        "HUBSYNC_HUBSPOT_CLIENT_SECRET": SECRET,
    }


async def in_process(database_url: str, tmp: Path, args: argparse.Namespace) -> list[Series]:
    """(1) The app through ``ASGITransport``."""
    public_url = "http://127.0.0.1:8000"
    values = {k.removeprefix("HUBSYNC_").lower(): v
              for k, v in settings_env(database_url, tmp, public_url).items()}  # fmt: skip
    settings = Settings.model_validate({**values, "scheduler_enabled": False,
                                        "log_level": "WARNING"})  # fmt: skip
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=public_url) as client:
            batches = Batches()
            await warm_up(client, public_url + PATH, batches)
            return await timed(client, public_url + PATH, batches, args)
    finally:
        await app.state.web.engine.dispose()


@contextmanager
def serve_process(database_url: str, tmp: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``hubsync serve`` on ``port``, its output discarded, stopped on exit."""
    env = {**os.environ, **settings_env(database_url, tmp, f"http://127.0.0.1:{port}")}
    command = [str(Path(sys.executable).with_name("hubsync")), "serve", "--port", str(port)]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet)  # noqa: S603
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=20)


async def wait_until_up(client: httpx.AsyncClient, process: subprocess.Popen[bytes]) -> None:
    """Poll ``/healthz`` until hubsync answers (or fail if its process ended)."""
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"hubsync serve ended with {process.returncode}")
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("hubsync serve did not come up within 30 s")


async def over_loopback(
    database_url: str, tmp: Path, args: argparse.Namespace
) -> tuple[list[Series], float | None]:
    """(2) ``hubsync serve`` in its own process; also its CPU seconds for the timed series."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    limits = httpx.Limits(max_connections=args.concurrency)
    with serve_process(database_url, tmp, port) as process:
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
            await wait_until_up(client, process)
            batches = Batches()
            await warm_up(client, base_url + PATH, batches)
            before = process_cpu_seconds(process.pid)
            series = await timed(client, base_url + PATH, batches, args)
            after = process_cpu_seconds(process.pid)
    cpu = after - before if before is not None and after is not None else None
    return series, cpu


async def stored_events(database_url: str) -> int:
    """How many events the database holds."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            counted = await session.scalar(select(func.count()).select_from(WebhookEvent))
            return int(counted or 0)
    finally:
        await engine.dispose()


@asynccontextmanager
async def hub_database(tmp: Path, postgres: bool) -> AsyncIterator[str]:
    """A fresh hubsync database, migrated to head."""
    async with fresh_database("postgresql" if postgres else "sqlite", tmp) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        yield url


def report(title: str, series: list[Series], sent: int, kept: int) -> None:
    """Print one part's figures."""
    print(title)
    for one in series:
        print("\n".join(one.lines()))
    print(f"   events stored: {kept:,} of {sent:,} sent (each once)")


async def bench(args: argparse.Namespace, tmp: Path) -> None:
    """Run (1) and (2), each on a fresh database, and print the figures."""
    backend = "PostgreSQL" if args.postgres else "SQLite"
    per_series = int(args.seconds * GOAL_EVENTS_PER_S)
    sent = 2 * per_series + WARM_UP * PER_BATCH
    print(f"hubsync on {backend}; {per_series:,} events per series in batches of {PER_BATCH}; "
          f"{os.cpu_count()} CPUs")  # fmt: skip
    async with hub_database(tmp / "in-process", args.postgres) as url:
        series = await in_process(url, tmp, args)
        kept = await stored_events(url)
    report("1. in-process (httpx.ASGITransport), receiver only:", series, sent, kept)
    async with hub_database(tmp / "loopback", args.postgres) as url:
        series, cpu = await over_loopback(url, tmp, args)
        kept = await stored_events(url)
    report("2. over loopback, `hubsync serve` in its own process (worker on):", series, sent, kept)
    if cpu is not None:
        print(f"   server CPU {cpu:.1f} s = {cpu / (2 * per_series) * 1e6:.0f} µs per event")


def main() -> None:
    """Parse the arguments and run the benchmark in a temporary directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of a paced series (15)")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight (10)")
    parser.add_argument("--postgres", action="store_true", help="hubsync on PostgreSQL")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        (tmp / "in-process").mkdir()
        (tmp / "loopback").mkdir()
        asyncio.run(bench(args, tmp))


if __name__ == "__main__":
    main()
