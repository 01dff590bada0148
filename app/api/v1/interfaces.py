"""API routes for interfaces."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from app.api.deps import ApiActor, SessionDep, StateDep
from app.api.v1.schemas import InterfaceIn, InterfaceOut, InterfaceUpdate, RunOut
from app.auth.actor import Permission
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from app.models.enums import RunTrigger
from app.sync import interface_control, interfaces, running

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


@router.patch(
    "/{interface_id}",
    response_model=InterfaceOut,
    responses={**Forbidden.schema(), **NotFound.schema(), **InvalidInput.schema()},
)
async def update_interface(
    interface_id: uuid.UUID, body: InterfaceUpdate, actor: ApiActor, session: SessionDep
) -> InterfaceOut:
    """Change the interval (10–45 minutes); the next run is rescheduled at once."""
    interface = await interface_control.set_interval(
        session, actor=actor, interface_id=interface_id, minutes=body.interval_minutes
    )
    return InterfaceOut.model_validate(interface)


@router.post(
    "/{interface_id}/runs",
    response_model=RunOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **Forbidden.schema(), **NotFound.schema(), **Conflict.schema(),
        200: {"description": "A dry run's report, or the finished run with `wait=true`"},
    },
)  # fmt: skip
async def run_interface_now(
    interface_id: uuid.UUID,
    actor: ApiActor,
    session: SessionDep,
    state: StateDep,
    response: Response,
    dry_run: bool = False,
    wait: bool = False,
) -> RunOut:
    """Start a run now (202, the run as it starts; 409 while one runs) — ``wait=true``
    answers when it has finished (200); a dry run writes nothing and answers its report."""
    if dry_run:
        run = await running.run_now(
            state.session_factory, actor=actor, box=state.secret_box,
            interface_id=interface_id, dry_run=True, public_url=state.settings.public_url,
            oauth_app=state.executor.oauth_app,
        )  # fmt: skip
        response.status_code = status.HTTP_200_OK
        return RunOut.model_validate(run)
    await interfaces.get_interface(session, actor=actor, interface_id=interface_id)
    actor.require(Permission.operate_interfaces)
    await session.commit()  # the run writes from its own sessions (SQLite: one writer)
    if wait:
        run = await state.executor.run(interface_id, trigger=RunTrigger.manual, actor=actor)
        response.status_code = status.HTTP_200_OK
        return RunOut.model_validate(run)
    started = await state.executor.start(interface_id, trigger=RunTrigger.manual, actor=actor)
    if started.run is None:
        raise Conflict(f"a run cannot start now: the {started.busy} is busy with another run")
    return RunOut.model_validate(started.run)


STATE_ERRORS = {**Forbidden.schema(), **NotFound.schema(), **InvalidInput.schema()}


@router.post("/{interface_id}/activate", response_model=InterfaceOut, responses=STATE_ERRORS)
async def activate_interface(
    interface_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> InterfaceOut:
    """Put the interface on its schedule (needs an approved mapping version); it runs now."""
    return InterfaceOut.model_validate(
        await interface_control.activate_interface(session, actor=actor, interface_id=interface_id)
    )


@router.post("/{interface_id}/pause", response_model=InterfaceOut, responses=STATE_ERRORS)
async def pause_interface(
    interface_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> InterfaceOut:
    """Take the interface off its schedule until it is resumed."""
    return InterfaceOut.model_validate(
        await interface_control.pause_interface(session, actor=actor, interface_id=interface_id)
    )


@router.post("/{interface_id}/resume", response_model=InterfaceOut, responses=STATE_ERRORS)
async def resume_interface(
    interface_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> InterfaceOut:
    """Put a paused interface back on its schedule; it runs now."""
    return InterfaceOut.model_validate(
        await interface_control.resume_interface(session, actor=actor, interface_id=interface_id)
    )
