"""API routes for failed items on request: retry them on their own, or mark them resolved."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from pydantic import Field

from app.api.deps import ApiActor, SessionDep, StateDep
from app.api.v1.schemas import Input, Output, RunOut
from app.core.errors import Conflict, Forbidden, NotFound, Unauthenticated
from app.sync import retry

router = APIRouter(prefix="/run-items", tags=["runs"], responses={**Unauthenticated.schema()})
MAX_ITEMS = 1000


class ItemSelection(Input):
    item_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_ITEMS)


class Resolved(Output):
    resolved: int


@router.post(
    "/retry",
    response_model=list[RunOut],
    status_code=status.HTTP_202_ACCEPTED,
    responses={**Forbidden.schema(), **NotFound.schema(), **Conflict.schema()},
)
async def retry_items(
    body: ItemSelection, actor: ApiActor, session: SessionDep, state: StateDep
) -> list[RunOut]:
    """Retry failed items now, one background run per interface (the runs as they start)."""
    await session.commit()  # the runs write from their own sessions (SQLite: one writer)
    started = await retry.retry_items(
        state.session_factory, state.executor, actor=actor, item_ids=body.item_ids
    )
    return [RunOut.model_validate(run) for run in started]


@router.post(
    "/resolve", response_model=Resolved, responses={**Forbidden.schema(), **NotFound.schema()}
)
async def resolve_items(body: ItemSelection, actor: ApiActor, session: SessionDep) -> Resolved:
    """Mark failed items resolved without retrying them."""
    return Resolved(
        resolved=await retry.resolve_items(session, actor=actor, item_ids=body.item_ids)
    )
