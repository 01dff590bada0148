"""API routes for connections; credentials are write-only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from app.api.deps import ApiActor, SecretBoxDep, SessionDep
from app.api.v1.schemas import ConnectionIn, ConnectionOut, SecretsIn
from app.core.errors import Forbidden, NotFound, Unauthenticated
from app.sync import connections

router = APIRouter(
    prefix="/connections", tags=["connections"], responses={**Unauthenticated.schema()}
)


@router.get("", response_model=list[ConnectionOut])
async def list_connections(actor: ApiActor, session: SessionDep) -> list[ConnectionOut]:
    """Connections the caller may see."""
    rows = await connections.list_connections(session, actor=actor)
    return [ConnectionOut.model_validate(c) for c in rows]


@router.post(
    "",
    response_model=ConnectionOut,
    status_code=status.HTTP_201_CREATED,
    responses={**Forbidden.schema(), **NotFound.schema()},
)
async def create_connection(
    body: ConnectionIn, actor: ApiActor, session: SessionDep, box: SecretBoxDep
) -> ConnectionOut:
    """Create a connection (operators); secrets are stored encrypted."""
    connection = await connections.create_connection(
        session,
        actor=actor,
        box=box,
        tenant_id=body.tenant_id,
        name=body.name,
        kind=body.kind,
        connector=body.connector,
        config=body.config,
        secrets=body.secrets,
    )
    return ConnectionOut.model_validate(connection)


@router.get("/{connection_id}", response_model=ConnectionOut, responses={**NotFound.schema()})
async def get_connection(
    connection_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> ConnectionOut:
    """One connection, without its secrets."""
    return ConnectionOut.model_validate(
        await connections.get_connection(session, actor=actor, connection_id=connection_id)
    )


@router.put(
    "/{connection_id}/secrets",
    response_model=ConnectionOut,
    responses={**Forbidden.schema(), **NotFound.schema()},
)
async def set_secrets(
    connection_id: uuid.UUID,
    body: SecretsIn,
    actor: ApiActor,
    session: SessionDep,
    box: SecretBoxDep,
) -> ConnectionOut:
    """Replace a connection's credentials."""
    connection = await connections.set_connection_secrets(
        session, actor=actor, box=box, connection_id=connection_id, secrets=body.secrets
    )
    return ConnectionOut.model_validate(connection)
