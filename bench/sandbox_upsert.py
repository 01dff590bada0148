"""Records/s of 100-input batch upserts into the sandbox portal through httpx's ASGITransport.

Run: .venv/bin/python bench/sandbox_upsert.py [total records]
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from app.connectors.hubspot.sandbox.app import create_sandbox
from app.connectors.hubspot.sandbox.config import SandboxConfig

BATCH = 100


def batch(start: int, round_: str) -> dict[str, object]:
    """One upsert body of ``BATCH`` contacts keyed by email."""
    return {
        "inputs": [
            {
                "id": f"person{n}@example.com",
                "idProperty": "email",
                "properties": {"firstname": f"First{n}", "lastname": round_, "city": "Zürich"},
                "objectWriteTraceId": f"bench:{n}",
            }
            for n in range(start, start + BATCH)
        ]
    }


async def main(total: int) -> None:
    """Upsert ``total`` new contacts, then the same again as updates, and print records/s."""
    app = create_sandbox(SandboxConfig(rate_limits=False))
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": "Bearer sandbox-token"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox", headers=headers
    ) as http:
        for label in ("create", "update"):
            began = time.perf_counter()
            for start in range(0, total, BATCH):
                response = await http.post(
                    "/crm/v3/objects/contacts/batch/upsert", json=batch(start, label)
                )
                response.raise_for_status()
            elapsed = time.perf_counter() - began
            print(f"{label}: {total} records in {elapsed:.2f} s = {total / elapsed:,.0f} records/s")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
