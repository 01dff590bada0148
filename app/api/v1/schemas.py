"""Request and response models of the JSON API; secrets never appear in a response."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.models.enums import (
    ConnectionKind,
    ErrorCategory,
    Health,
    InterfaceState,
    ItemAction,
    ItemStatus,
    Role,
    RunStatus,
    RunTrigger,
    SyncDirection,
)
from app.models.interface import MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Output(BaseModel):
    """Base of responses, read from ORM rows."""

    model_config = ConfigDict(from_attributes=True)


class TenantIn(Input):
    slug: str = Field(min_length=2, max_length=63)
    name: str = Field(min_length=1, max_length=200)


class TenantOut(Output):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime


class UserIn(Input):
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    tenant_id: uuid.UUID | None = None


class UserOut(Output):
    id: uuid.UUID
    email: str
    role: Role
    tenant_id: uuid.UUID | None
    is_active: bool
    last_login_at: datetime | None


class TokenIn(Input):
    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None


class TokenOut(Output):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="The token value. It is shown only in this response.")


class ConnectionIn(Input):
    tenant_id: uuid.UUID
    name: str = Field(min_length=1, max_length=100)
    kind: ConnectionKind
    connector: str = Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, description="Stored encrypted.")


class SecretsIn(Input):
    secrets: dict[str, str]


class ConnectionOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    kind: ConnectionKind
    connector: str
    config: dict[str, Any]
    secrets_set_at: datetime | None = Field(description="When credentials were last stored.")
    hub_id: int | None


INTERVAL_HELP = (
    f"minutes between runs, {MIN_INTERVAL_MINUTES} to {MAX_INTERVAL_MINUTES} "
    "(anything else is refused, naming the range)"
)


class InterfaceIn(Input):
    name: str = Field(min_length=1, max_length=100)
    source_connection_id: uuid.UUID
    hubspot_connection_id: uuid.UUID
    interval_minutes: int = Field(default=15, description=INTERVAL_HELP)


class InterfaceUpdate(Input):
    interval_minutes: int = Field(description=INTERVAL_HELP)


class InterfaceOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    source_connection_id: uuid.UUID
    hubspot_connection_id: uuid.UUID
    active_mapping_version_id: uuid.UUID | None
    interval_minutes: int
    state: InterfaceState
    health: Health
    health_reason: str | None
    last_run_at: datetime | None
    next_run_at: datetime | None


class RunOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    trigger: RunTrigger
    dry_run: bool
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error_summary: str | None
    error_category: ErrorCategory | None


class RunItemOut(Output):
    id: uuid.UUID
    object_name: str
    direction: SyncDirection
    action: ItemAction
    status: ItemStatus
    source_key: str | None
    hubspot_id: str | None
    error_message: str | None
    error_category: ErrorCategory | None
    http_status: int | None
    correlation_id: str | None
    created_at: datetime


class MappingVersionOut(Output):
    id: uuid.UUID
    tenant_id: uuid.UUID
    interface_id: uuid.UUID
    number: int
    author_id: uuid.UUID | None
    created_at: datetime
    approved_by_id: uuid.UUID | None = Field(description="Who approved it (null: not approved).")
    approved_at: datetime | None


class MappingVersionDetailOut(MappingVersionOut):
    yaml_text: str = Field(description="The mapping table as stored (YAML).")
