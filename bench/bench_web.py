"""Request latency of the web shell and the cost of a sign-in, on SQLite and PostgreSQL.

Run: .venv/bin/python bench/bench_web.py [--requests 300] [--interfaces 200]
Prints p50/p95 per route and backend, and argon2 hash/verify times. In-process
(ASGI transport), so the figures are hubsync's own cost without network.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.auth.passwords import hash_password, verify_password
from app.core import migrations
from app.main import create_app
from app.models import Connection, Interface
from app.models.enums import ConnectionKind
from tests.conftest import BASE_URL, make_settings
from tests.databases import fresh_database
from tests.factories import bearer, build_world
from tests.ui_session import sign_in


def percentiles(samples: list[float]) -> str:
    """p50 and p95 in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms"


async def time_requests(client: httpx.AsyncClient, url: str, n: int, **kw: object) -> list[float]:
    """Latency of ``n`` sequential GETs of ``url`` in milliseconds."""
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await client.get(url, **kw)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return samples


async def bench_backend(backend: str, tmp: Path, requests: int, interfaces: int) -> None:
    """Seed ``interfaces`` interfaces and time the list routes on ``backend``."""
    async with fresh_database(backend, tmp) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        app = create_app(make_settings(url, tmp, log_level="WARNING"))
        state = app.state.web
        async with state.session_factory() as db:
            world = await build_world(db)
            for i in range(interfaces):
                source = Connection(
                    tenant_id=world.a.tenant.id,
                    name=f"erp-{i}",
                    kind=ConnectionKind.source,
                    connector="sql",
                    config={},
                )
                hubspot = Connection(
                    tenant_id=world.a.tenant.id,
                    name=f"hs-{i}",
                    kind=ConnectionKind.hubspot,
                    connector="hubspot",
                    config={},
                )
                db.add_all([source, hubspot])
                await db.flush()
                db.add(
                    Interface(
                        tenant_id=world.a.tenant.id,
                        name=f"interface-{i:04d}",
                        source_connection_id=source.id,
                        hubspot_connection_id=hubspot.id,
                    )
                )
            await db.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            api = await time_requests(
                client, "/api/v1/interfaces", requests, headers=bearer(world.a.admin_token)
            )
            await sign_in(client, world.a.admin.email)
            page = await time_requests(client, "/ui/", requests)
            health = await time_requests(client, "/healthz", requests)
        await state.engine.dispose()
    print(f"{backend:10} GET /api/v1/interfaces ({interfaces + 1} rows)  {percentiles(api)}")
    print(f"{backend:10} GET /ui/ dashboard ({interfaces + 1} rows)      {percentiles(page)}")
    print(f"{backend:10} GET /healthz                          {percentiles(health)}")


async def bench_passwords(rounds: int = 10) -> None:
    """Time argon2id hashing and verification (the cost of one sign-in)."""
    started = time.perf_counter()
    phc = ""
    for _ in range(rounds):
        phc = await hash_password("a long enough password")
    hashed = (time.perf_counter() - started) * 1000 / rounds
    started = time.perf_counter()
    for _ in range(rounds):
        await verify_password(phc, "a long enough password")
    verified = (time.perf_counter() - started) * 1000 / rounds
    print(f"argon2id (m=64 MiB, t=3, p=4): hash {hashed:.0f} ms, verify {verified:.0f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--interfaces", type=int, default=200)
    args = parser.parse_args()
    await bench_passwords()
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "postgresql"):
            await bench_backend(backend, Path(tmp), args.requests, args.interfaces)


if __name__ == "__main__":
    asyncio.run(main())
