"""API routes for notification targets: who is told when an interface's health changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field, model_validator

from app.api.deps import ApiActor, SessionDep, SettingsDep
from app.api.v1.schemas import Input, Output
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from app.models.enums import HealthChange, NotificationKind
from app.notify import targets
from app.notify.addresses import MAX_ADDRESS_CHARS, shown_address

router = APIRouter(
    prefix="/notification-targets", tags=["notifications"], responses={**Unauthenticated.schema()}
)


class NotificationTargetIn(Input):
    kind: NotificationKind
    address: str = Field(
        min_length=3, max_length=MAX_ADDRESS_CHARS, description="E-mail address or https URL."
    )
    tenant_id: uuid.UUID | None = Field(
        default=None, description="Operators: the tenant (implied by interface_id if given)."
    )
    interface_id: uuid.UUID | None = Field(default=None, description="Null: every interface.")
    changes: list[HealthChange] = Field(
        default_factory=list, max_length=len(HealthChange), description="Empty: every change."
    )


class NotificationTargetOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    interface_id: uuid.UUID | None
    kind: NotificationKind
    address: str = Field(description="Webhook URLs are shown without their secret path.")
    changes: list[HealthChange]
    active: bool
    created_at: datetime

    @model_validator(mode="after")
    def _hide_webhook_path(self) -> Self:
        self.address = shown_address(self.kind, self.address)
        return self


class TrialResultOut(BaseModel):
    ok: bool
    error: str | None = Field(description="Why the message was not delivered.")


@router.get("", response_model=list[NotificationTargetOut])
async def list_targets(actor: ApiActor, session: SessionDep) -> list[NotificationTargetOut]:
    """Notification targets the caller may see."""
    rows = await targets.list_targets(session, actor=actor)
    return [NotificationTargetOut.model_validate(t) for t in rows]


@router.post(
    "",
    response_model=NotificationTargetOut,
    status_code=status.HTTP_201_CREATED,
    responses={
        **Forbidden.schema(), **NotFound.schema(), **Conflict.schema(), **InvalidInput.schema()
    },
)  # fmt: skip
async def create_target(
    body: NotificationTargetIn, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> NotificationTargetOut:
    """Add an e-mail address or webhook to tell about health changes."""
    target = await targets.create_target(
        session, actor=actor, settings=settings, kind=body.kind, address=body.address,
        tenant_id=body.tenant_id, interface_id=body.interface_id, changes=body.changes,
    )  # fmt: skip
    return NotificationTargetOut.model_validate(target)


@router.delete(
    "/{target_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**Forbidden.schema(), **NotFound.schema()},
)
async def delete_target(target_id: uuid.UUID, actor: ApiActor, session: SessionDep) -> None:
    """Remove a notification target and its queued messages."""
    await targets.delete_target(session, actor=actor, target_id=target_id)


@router.post(
    "/{target_id}/test",
    response_model=TrialResultOut,
    responses={**Forbidden.schema(), **NotFound.schema()},
)
async def send_test_message(
    target_id: uuid.UUID, actor: ApiActor, session: SessionDep, settings: SettingsDep
) -> TrialResultOut:
    """Send a test message now and say whether it was delivered."""
    error = await targets.send_test(session, actor=actor, settings=settings, target_id=target_id)
    return TrialResultOut(ok=error is None, error=error)
