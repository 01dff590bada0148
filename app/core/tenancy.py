"""Tenant scoping in one place.

Every query on a tenant-owned table goes through ``TenantScope.apply``
(repositories call it), and a session-level hook adds the same criterion to
every ORM statement as defence in depth: a session marked with a one-tenant
scope cannot load, update or delete another tenant's rows even if a query
forgets to filter. Operators see all tenants only through an explicit
``TenantScope.all_tenants()``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from app.models.base import TenantOwned

SelectT = TypeVar("SelectT", bound=Select[Any])
_SCOPE_KEY = "hubsync_tenant_scope"


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The tenants a caller may touch: one tenant, or all (operators only)."""

    tenant_id: uuid.UUID | None

    @classmethod
    def only(cls, tenant_id: uuid.UUID) -> TenantScope:
        """A scope limited to one tenant."""
        return cls(tenant_id=tenant_id)

    @classmethod
    def all_tenants(cls) -> TenantScope:
        """The unrestricted scope of operators and the system."""
        return cls(tenant_id=None)

    def allows(self, tenant_id: uuid.UUID | None) -> bool:
        """Whether a row of ``tenant_id`` is visible in this scope."""
        return self.tenant_id is None or self.tenant_id == tenant_id

    def apply(self, statement: SelectT, model: type[TenantOwned]) -> SelectT:
        """Add this scope's tenant filter to a SELECT on ``model``."""
        if self.tenant_id is None:
            return statement
        return statement.where(model.tenant_id == self.tenant_id)


def bind_scope(session: AsyncSession, scope: TenantScope) -> None:
    """Mark ``session`` so every ORM statement in it is limited to ``scope``."""
    session.sync_session.info[_SCOPE_KEY] = scope


@event.listens_for(Session, "do_orm_execute")
def _enforce_scope(state: ORMExecuteState) -> None:
    scope: TenantScope | None = state.session.info.get(_SCOPE_KEY)
    if scope is None or scope.tenant_id is None:
        return
    if state.is_select or state.is_update or state.is_delete:
        tenant_id = scope.tenant_id
        state.statement = state.statement.options(
            with_loader_criteria(
                TenantOwned,
                lambda cls: cls.tenant_id == tenant_id,
                include_aliases=True,
            )
        )
