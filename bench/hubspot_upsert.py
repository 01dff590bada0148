"""Batch-upsert contacts into the sandbox portal through hubsync's HubSpot client.

Run: .venv/bin/python bench/hubspot_upsert.py [--records 100000] [--no-limits]

With limits (professional profile: 190 requests per 10 s) it prints records/s,
API calls, 429s received and the ratio to the ceiling (batch size × allowed
requests per second); the goal is ≥ 0.9 of the ceiling and no 429. With
--no-limits it prints what client and sandbox cost per record together, on one
core (in-process ASGI transport, no network).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.connectors.hubspot.auth import StaticTokenProvider
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig, PortalLimiter
from app.connectors.hubspot.objects import RecordInput
from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig

TOKEN = "bench-token"  # noqa: S105 - a sandbox credential
BATCH = 100
CHUNK = 1_000  # inputs handed to the client per call (it sends them 100 at a time)


@dataclass
class Counting(httpx.AsyncBaseTransport):
    """Counts API calls and 429 answers on their way through."""

    inner: httpx.AsyncBaseTransport
    calls: int = 0
    rate_limited: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        self.calls += 1
        self.rate_limited += response.status_code == 429
        return response


def contacts(start: int, count: int) -> list[RecordInput]:
    """``count`` contacts keyed by email, as an ERP export would give them."""
    return [
        RecordInput(
            id=f"kontakt{n}@muster-{n % 997}.example.ch",
            id_property="email",
            properties={
                "email": f"kontakt{n}@muster-{n % 997}.example.ch",
                "firstname": f"Vorname{n}",
                "lastname": f"Nachname{n}",
                "phone": f"+41 44 {n % 1000:03d} {n % 100:02d} {n % 97:02d}",
                "city": "Zürich",
            },
        )
        for n in range(start, start + count)
    ]


async def run(records: int, limits: bool) -> None:
    """Upsert ``records`` contacts and print the figures."""
    config = SandboxConfig(private_tokens=[TOKEN], rate_limits=limits, profile="professional")
    counting = Counting(httpx.ASGITransport(app=create_sandbox(config)))
    profile = config.rate_profile
    limit = (
        LimitConfig(burst=profile.burst, window_s=profile.window_ms / 1000)
        if limits
        else (LimitConfig(burst=10**9, window_s=1, search_per_second=10**6))
    )
    http = httpx.AsyncClient(transport=counting, base_url="http://sandbox", timeout=60)
    client = HubSpotClient(
        StaticTokenProvider(TOKEN),
        http=http,
        base_url="http://sandbox",
        limiter=PortalLimiter(limit),
    )
    started = time.perf_counter()
    failed = 0
    for start in range(0, records, CHUNK):
        result = await client.objects.batch_upsert("contacts", contacts(start, CHUNK))
        failed += len(result.failed)
    elapsed = time.perf_counter() - started
    await http.aclose()
    rate = records / elapsed
    print(f"{records:,} contacts upserted in {elapsed:.1f} s: {rate:,.0f} records/s")
    print(f"API calls {counting.calls:,}, 429s {counting.rate_limited}, failed records {failed}")
    if limits:
        ceiling = BATCH * profile.burst / (profile.window_ms / 1000)
        print(f"ceiling {ceiling:,.0f} records/s ({profile.name}); ratio {rate / ceiling:.3f}")
    else:
        print(f"cost per record (client + sandbox, one core): {elapsed / records * 1e6:.0f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--no-limits", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.records, limits=not args.no_limits))


if __name__ == "__main__":
    main()
