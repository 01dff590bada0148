"""Repositories: all SQL lives here, built on one generic base.

Repository methods take domain arguments, never a session, and only flush:
the caller's outer frame commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, Self, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import TenantScope
from app.models.base import Base

M = TypeVar("M", bound=Base)


class RepositoryBase(Generic[M]):
    """Generic access to one table."""

    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        """A repository working in ``session``."""
        return cls(session)

    async def get_one_or_none(self, statement: Select[M]) -> M | None:
        """The single row ``statement`` selects, or None."""
        result = await self.session.execute(statement)
        return result.scalars().unique().one_or_none()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        """Every row ``statement`` selects."""
        result = await self.session.execute(statement)
        return result.scalars().unique().all()

    async def create(self, obj: M, *, flush: bool = False) -> M:
        """Add ``obj``; flush at once when the caller needs database defaults or errors now."""
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj


class TenantRepository(RepositoryBase[M]):
    """A repository over a tenant-owned table: every query is limited to a scope."""

    def __init__(self, session: AsyncSession, scope: TenantScope) -> None:
        super().__init__(session)
        self.scope = scope

    @classmethod
    def from_session(cls, session: AsyncSession) -> Self:
        """Tenant repositories need a scope: use ``scoped`` instead."""
        raise TypeError(f"{cls.__name__} needs a tenant scope; use {cls.__name__}.scoped()")

    @classmethod
    def scoped(cls, session: AsyncSession, scope: TenantScope) -> Self:
        """A repository that sees only the rows ``scope`` allows."""
        return cls(session, scope)

    def select(self) -> Select[M]:
        """A SELECT on this table limited to the scope."""
        model: Any = self.model
        return self.scope.apply(select(model), model)

    async def get_by_id(self, object_id: uuid.UUID) -> M | None:
        """The row with ``object_id`` if it exists in the scope (else None, never another's)."""
        model: Any = self.model
        return await self.get_one_or_none(self.select().where(model.id == object_id))
