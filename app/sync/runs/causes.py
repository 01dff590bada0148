"""The error log's causes, the most recently seen first, without ranking every cause.

Open failures are grouped by interface, object, category, HTTP status and
stored cause digest. Ranking all groups by their newest failure means a
database sort of every group for each page: on a large hub nearly as many
groups as failures (24,000). A page needs far fewer, and the most recently
seen causes are the causes of the most recent failures. So the newest
failures are read a window at a time (``recent``), the window grown until it
holds the page's causes with certainty, and only those causes are counted
exactly (``counted``); how many causes there are is one plain grouped count.
The result equals ``GROUP BY … ORDER BY max(created_at) DESC, count(*) DESC``;
a window that would grow past ``MAX_WINDOW`` falls back to that query. One
tenant's or one interface's causes are few: the database ranks them all and
counts them in that same query (``ranked_page``), one round trip.

The conditions say ``error_cause IS NOT NULL`` literally: the error log's
index on ``run_items`` is partial on it (only failed and resolved items carry a
cause), and SQLite uses a partial index only for a query that says so. A
tenant's whole error log leaves the term out: the tenant's failures are found
faster through ``(tenant_id, status, created_at)`` than by reading every
tenant's from the partial index, which SQLite would otherwise prefer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.core.repository import TenantRepository
from app.models import RunItem
from app.models.enums import ErrorCategory, ItemStatus
from app.sync.error_groups import CauseCount
from app.sync.keyset import prefix

FIRST_WINDOW = 200  # newest failures read first (at least four per cause wanted)
GROWTH = 4
MAX_WINDOW = 12_800  # past this, the database ranks every cause instead
GROUP_COLUMNS = (
    RunItem.interface_id,
    RunItem.object_name,
    RunItem.error_category,
    RunItem.http_status,
    RunItem.error_cause,
)
GroupRow = tuple[uuid.UUID, str, ErrorCategory | None, int | None, str | None]


@dataclass(frozen=True, slots=True)
class FailureFilter:
    """Which failed tasks the error log groups."""

    interface_id: uuid.UUID | None = None
    object_name: str | None = None
    category: ErrorCategory | None = None
    status: ItemStatus = ItemStatus.failed
    since: datetime | None = None
    until: datetime | None = None
    key: str | None = None


def failure_conditions(filters: FailureFilter, *, partial: bool = True) -> list[Any]:
    """The WHERE terms of ``filters``, with the partial index's own term unless not
    ``partial`` (every failed or resolved item has a cause: the rows are the same)."""
    conditions: list[Any] = [RunItem.status == filters.status]
    if partial:
        conditions.append(RunItem.error_cause.is_not(None))
    if filters.interface_id is not None:
        conditions.append(RunItem.interface_id == filters.interface_id)
    if filters.object_name:
        conditions.append(RunItem.object_name == filters.object_name)
    if filters.category is not None:
        conditions.append(RunItem.error_category == filters.category)
    if filters.since is not None:
        conditions.append(RunItem.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(RunItem.created_at < filters.until)
    if filters.key:
        conditions.append(prefix(RunItem.source_key, filters.key))
    return conditions


def row_key(count: CauseCount) -> GroupRow:
    """The group columns of a counted cause, as the database returns them."""
    return (count.interface_id, count.object_name, count.category, count.http_status, count.digest)


@dataclass(frozen=True, slots=True)
class _Window:
    """The causes among the newest ``size`` failures, counted within them."""

    causes: list[CauseCount]
    size: int  # failures the window was asked for

    @property
    def complete(self) -> bool:
        """Whether the window holds every failure (so its counts are the real ones)."""
        return sum(c.count for c in self.causes) < self.size

    def certain(self) -> list[CauseCount]:
        """The causes whose newest failure is surely in the window: newer than its oldest
        failure (every failure newer than that is in it), the newest first."""
        if self.complete:
            return rank(self.causes)
        oldest = min(c.first_at for c in self.causes)
        return rank(c for c in self.causes if c.last_at > oldest)


def rank(causes: Iterable[CauseCount]) -> list[CauseCount]:
    """``causes`` the most recently seen first, then the most frequent, then by key."""
    ordered = sorted(causes, key=_tie_break)
    return sorted(ordered, key=lambda c: (c.last_at, c.count), reverse=True)  # stable


def _tie_break(count: CauseCount) -> tuple[str, str, str, int, str]:
    category = count.category.value if count.category else ""
    return (
        count.interface_id.hex,
        count.object_name,
        category,
        count.http_status or 0,
        count.digest or "",
    )


class CauseRepository(TenantRepository[RunItem]):
    """Failed (or resolved) tasks counted per stored cause."""

    model = RunItem

    async def count(self, filters: FailureFilter) -> int:
        """How many causes match ``filters``."""
        groups = self._grouped(select(RunItem.interface_id), filters).subquery()
        result = await self.session.execute(select(func.count()).select_from(groups))
        return int(result.scalar_one())

    async def recent(self, filters: FailureFilter, size: int) -> list[CauseCount]:
        """The causes of the newest ``size`` failures, counted within those failures."""
        newest: Any = select(*GROUP_COLUMNS, RunItem.created_at)
        newest = self.scope.apply(newest, RunItem).where(*self._conditions(filters))
        window = newest.order_by(RunItem.created_at.desc()).limit(size).subquery()
        columns = [window.c[c.key] for c in GROUP_COLUMNS]
        at = window.c.created_at
        statement: Any = select(*columns, func.count(), func.min(at), func.max(at))
        statement = statement.group_by(*columns)
        return [CauseCount(*row) for row in (await self.session.execute(statement)).all()]

    async def counted(self, filters: FailureFilter, keys: Sequence[GroupRow]) -> list[CauseCount]:
        """The exact counts of the causes ``keys``."""
        wanted = set(keys)
        digests = {k[4] for k in wanted}
        statement = self._grouped(self._aggregates(), filters).where(
            RunItem.interface_id.in_({k[0] for k in wanted}), RunItem.error_cause.in_(digests)
        )
        rows = (await self.session.execute(statement)).all()
        return [c for c in (CauseCount(*row) for row in rows) if row_key(c) in wanted]

    async def ranked(
        self, filters: FailureFilter, *, offset: int, limit: int | None
    ) -> list[CauseCount]:
        """Causes ranked by the database: every cause grouped and sorted."""
        statement = self._ranked(self._aggregates(), filters).offset(offset).limit(limit)
        return [CauseCount(*row) for row in (await self.session.execute(statement)).all()]

    async def ranked_page(
        self, filters: FailureFilter, *, offset: int, limit: int
    ) -> tuple[list[CauseCount], int]:
        """Causes ranked by the database and how many there are (0 past the last page),
        in one query."""
        statement = self._ranked(self._aggregates(func.count().over()), filters)
        rows = (await self.session.execute(statement.offset(offset).limit(limit))).all()
        return [CauseCount(*row[:-1]) for row in rows], int(rows[0][-1]) if rows else 0

    def _aggregates(self, *more: Any) -> Any:
        at = RunItem.created_at
        return select(*GROUP_COLUMNS, func.count(), func.min(at), func.max(at), *more)

    def _ranked(self, statement: Any, filters: FailureFilter) -> Any:
        last, count = func.max(RunItem.created_at), func.count()
        return self._grouped(statement, filters).order_by(last.desc(), count.desc(), *GROUP_COLUMNS)

    def _grouped(self, statement: Any, filters: FailureFilter) -> Any:
        statement = self.scope.apply(statement, RunItem).where(*self._conditions(filters))
        return statement.group_by(*GROUP_COLUMNS)

    def _conditions(self, filters: FailureFilter) -> list[Any]:
        """All tenants' or one interface's failures: through the partial index; one
        tenant's: through the tenant's own index (see the module docstring)."""
        whole_tenant = self.scope.tenant_id is not None and filters.interface_id is None
        return failure_conditions(filters, partial=not whole_tenant)

    def few(self, filters: FailureFilter) -> bool:
        """Whether the causes are one tenant's or one interface's, not every tenant's."""
        return self.scope.tenant_id is not None or filters.interface_id is not None


async def cause_page(
    repo: CauseRepository, filters: FailureFilter, *, offset: int, limit: int
) -> tuple[list[CauseCount], int]:
    """Causes ``offset`` to ``offset + limit`` by recency, and how many causes there are."""
    if repo.few(filters):
        return await repo.ranked_page(filters, offset=offset, limit=limit)
    total = await repo.count(filters)
    if not total:
        return [], 0
    return await page_of_causes(repo, filters, offset=offset, limit=limit), total


async def page_of_causes(
    repo: CauseRepository, filters: FailureFilter, *, offset: int, limit: int
) -> list[CauseCount]:
    """Causes ``offset`` to ``offset + limit`` by recency, from a window of the newest
    failures grown until it holds them (or ranked by the database past ``MAX_WINDOW``)."""
    wanted = offset + limit
    size = max(FIRST_WINDOW, GROWTH * wanted)
    while size <= MAX_WINDOW:
        window = _Window(await repo.recent(filters, size), size)
        certain = window.certain()
        if window.complete:
            return certain[offset:wanted]
        if len(certain) >= wanted:
            return rank(await repo.counted(filters, _contenders(certain, wanted)))[offset:wanted]
        size *= GROWTH
    return await repo.ranked(filters, offset=offset, limit=limit)


def _contenders(certain: list[CauseCount], wanted: int) -> list[GroupRow]:
    """The causes that can be among the first ``wanted``: as recent as the ``wanted``-th
    (equal times are ordered by exact counts)."""
    cutoff = certain[wanted - 1].last_at
    return [row_key(c) for c in certain if c.last_at >= cutoff]
