"""Liveness and readiness probes for load balancers and the container health check."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import StateDep
from app.core.migrations import current_revision_of, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: StateDep) -> JSONResponse:
    """The database answers and its schema matches this code."""
    try:
        async with state.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            revision = await connection.run_sync(current_revision_of)
    except Exception:  # noqa: BLE001 - any database failure means not ready
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    head = head_revision()
    if revision != head:
        return JSONResponse(
            {"status": "unavailable", "database": "schema out of date; run `hubsync migrate`"},
            503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": revision})
