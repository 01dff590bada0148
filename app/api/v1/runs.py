"""API routes for the sync history."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from app.api.deps import ApiActor, SessionDep
from app.api.v1.schemas import RunItemOut, RunOut
from app.core.errors import NotFound, Unauthenticated
from app.sync import runs

router = APIRouter(prefix="/runs", tags=["runs"], responses={**Unauthenticated.schema()})


@router.get("", response_model=list[RunOut], responses={**NotFound.schema()})
async def list_runs(
    actor: ApiActor, session: SessionDep, interface_id: uuid.UUID | None = None
) -> list[RunOut]:
    """The newest runs, optionally of one interface."""
    rows = await runs.list_runs(session, actor=actor, interface_id=interface_id)
    return [RunOut.model_validate(r) for r in rows]


@router.get("/{run_id}", response_model=RunOut, responses={**NotFound.schema()})
async def get_run(run_id: uuid.UUID, actor: ApiActor, session: SessionDep) -> RunOut:
    """One run with its counts."""
    return RunOut.model_validate(await runs.get_run(session, actor=actor, run_id=run_id))


@router.get("/{run_id}/items", response_model=list[RunItemOut], responses={**NotFound.schema()})
async def list_run_items(
    run_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> list[RunItemOut]:
    """The per-record tasks of one run."""
    rows = await runs.list_run_items(session, actor=actor, run_id=run_id)
    return [RunItemOut.model_validate(i) for i in rows]
