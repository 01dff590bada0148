"""API routes for interfaces."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import ApiActor, SessionDep, StateDep
from app.api.v1.schemas import InterfaceIn, InterfaceOut, RunOut
from app.core.errors import Forbidden, NotFound, Unauthenticated
from app.sync import interfaces, running

router = APIRouter(
    prefix="/interfaces", tags=["interfaces"], responses={**Unauthenticated.schema()}
)


@router.get("", response_model=list[InterfaceOut])
async def list_interfaces(actor: ApiActor, session: SessionDep) -> list[InterfaceOut]:
    """Interfaces the caller may see."""
    rows = await interfaces.list_interfaces(session, actor=actor)
    return [InterfaceOut.model_validate(i) for i in rows]


@router.post(
    "",
    response_model=InterfaceOut,
    status_code=status.HTTP_201_CREATED,
    responses={**Forbidden.schema(), **NotFound.schema()},
)
async def create_interface(body: InterfaceIn, actor: ApiActor, session: SessionDep) -> InterfaceOut:
    """Create a draft interface between a source and a HubSpot connection (operators)."""
    interface = await interfaces.create_interface(
        session,
        actor=actor,
        name=body.name,
        source_connection_id=body.source_connection_id,
        hubspot_connection_id=body.hubspot_connection_id,
        interval_minutes=body.interval_minutes,
    )
    return InterfaceOut.model_validate(interface)


@router.get("/{interface_id}", response_model=InterfaceOut, responses={**NotFound.schema()})
async def get_interface(
    interface_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> InterfaceOut:
    """One interface."""
    return InterfaceOut.model_validate(
        await interfaces.get_interface(session, actor=actor, interface_id=interface_id)
    )


@router.post(
    "/{interface_id}/runs",
    response_model=RunOut,
    status_code=status.HTTP_201_CREATED,
    responses={**Forbidden.schema(), **NotFound.schema()},
)
async def run_interface_now(
    interface_id: uuid.UUID, actor: ApiActor, state: StateDep, dry_run: bool = False
) -> RunOut:
    """Run the interface now and answer with the finished run (dry_run: write nothing)."""
    run = await running.run_now(
        state.session_factory,
        actor=actor,
        box=state.secret_box,
        interface_id=interface_id,
        dry_run=dry_run,
    )
    return RunOut.model_validate(run)
