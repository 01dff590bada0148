"""API routes for connecting a HubSpot portal through OAuth and for deleting its tokens.

Connecting needs a browser: the caller opens ``authorize_url``, approves on
HubSpot's page, and HubSpot sends the browser to hubsync's callback, where the
same user must be signed in to the UI (the state is bound to them).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from app.api.deps import ApiActor, SecretBoxDep, SessionDep, SettingsDep
from app.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from app.sync import hubspot_oauth

router = APIRouter(
    prefix="/connections", tags=["hubspot-oauth"], responses={**Unauthenticated.schema()}
)
ERRORS = {**Forbidden.schema(), **NotFound.schema(), **InvalidInput.schema()}


class AuthorizeOut(BaseModel):
    """Where to send the user who connects the portal."""

    authorize_url: str


@router.post(
    "/{connection_id}/hubspot/authorize",
    response_model=AuthorizeOut,
    responses={**ERRORS, **hubspot_oauth.OAuthNotConfigured.schema()},
)
async def authorize(
    connection_id: uuid.UUID,
    actor: ApiActor,
    session: SessionDep,
    box: SecretBoxDep,
    settings: SettingsDep,
) -> AuthorizeOut:
    """Start connecting a HubSpot portal: HubSpot's consent URL, valid 10 minutes, once."""
    url = await hubspot_oauth.start_authorization(
        session,
        actor=actor,
        box=box,
        config=hubspot_oauth.OAuthConfig.from_settings(settings),
        connection_id=connection_id,
        session_key=None,
    )
    return AuthorizeOut(authorize_url=url)


@router.delete(
    "/{connection_id}/hubspot/tokens",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ERRORS,
)
async def delete_tokens(
    connection_id: uuid.UUID, actor: ApiActor, session: SessionDep, box: SecretBoxDep
) -> Response:
    """Disconnect: revoke the refresh token at HubSpot where possible, delete the tokens."""
    await hubspot_oauth.disconnect(session, actor=actor, box=box, connection_id=connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
