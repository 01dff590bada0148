"""Fehlerprotokoll queries: open failed tasks grouped by cause in SQL, and blockers.

Each failed task stores its cause's digest (``run_items.error_cause``, see
``app.sync.error_groups.cause_digest``), so the database groups and counts the
causes (``causes`` pages them by recency); only the groups shown reach Python,
worded by their newest message with a few sample keys. The grouping and a
group's records newest first both follow one index (``status`` and the group's
columns, then ``created_at``; partial on ``error_cause IS NOT NULL``, which
every query here says literally). Blockers take three queries, never one per
interface.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.auth.actor import Actor
from app.core.errors import NotFound
from app.core.repository import TenantRepository
from app.models import Interface, RunItem, SyncRun
from app.models.enums import Health, ItemStatus, RunStatus
from app.sync.error_groups import (
    MAX_SAMPLE_KEYS,
    CauseCount,
    ErrorGroup,
    GroupKey,
    group_of,
    interface_of,
)
from app.sync.interfaces import get_interface
from app.sync.keyset import Cursor, Page, cut_page, keyset
from app.sync.repositories import InterfaceChoice
from app.sync.runs.causes import (
    GROUP_COLUMNS,
    CauseRepository,
    FailureFilter,
    GroupRow,
    cause_page,
    failure_conditions,
    row_key,
)

GROUP_PAGE = 25
GROUP_ITEM_PAGE = 50
BLOCKER_STATUSES = (RunStatus.succeeded, RunStatus.warning, RunStatus.failed)


@dataclass(frozen=True, slots=True)
class GroupListing:
    """One page of the error log's groups, most recent first, and how many there are."""

    groups: list[ErrorGroup]
    total: int


@dataclass(frozen=True, slots=True)
class Blocker:
    """An interface whose latest finished run failed: since when and how often in a row."""

    interface_id: uuid.UUID
    run: SyncRun
    since: datetime
    failures: int


class FailureRepository(TenantRepository[RunItem]):
    """Failed (or resolved) tasks of the causes shown: their newest messages and records."""

    model = RunItem

    async def newest(
        self, counts: Sequence[CauseCount], filters: FailureFilter
    ) -> dict[GroupRow, list[tuple[str | None, str | None]]]:
        """The newest few (message, source key) pairs of each counted cause, newest first."""
        if not counts:
            return {}
        rank = func.row_number().over(
            partition_by=GROUP_COLUMNS, order_by=(RunItem.created_at.desc(), RunItem.id.desc())
        )
        inner: Any = select(
            *GROUP_COLUMNS, RunItem.error_message, RunItem.source_key, rank.label("rank")
        )
        inner = self.scope.apply(inner, RunItem).where(
            *failure_conditions(filters),
            RunItem.interface_id.in_({c.interface_id for c in counts}),
            RunItem.error_cause.in_({c.digest for c in counts if c.digest is not None}),
        )
        ranked = inner.subquery()
        statement = select(ranked).where(ranked.c.rank <= MAX_SAMPLE_KEYS).order_by(ranked.c.rank)
        found: dict[GroupRow, list[tuple[str | None, str | None]]] = {}
        for row in (await self.session.execute(statement)).all():
            found.setdefault(tuple(row[:5]), []).append((row[5], row[6]))
        return found

    async def page_of_group(
        self, key: GroupKey, status: ItemStatus, *, before: Cursor | None, limit: int
    ) -> Page[RunItem]:
        """One page of a group's tasks, newest first."""
        statement = self.select().where(*_group_conditions(key, status))
        statement, _ = keyset(
            statement,
            (RunItem.created_at, RunItem.id),
            descending=True,
            before=before,
            after=None,
            limit=limit,
        )
        found = await self.get_all(statement)
        rows, _, older = cut_page(found, limit=limit, backwards=False, started=bool(before))
        return Page(rows=rows, newer=None, older=older)

    async def ids_of_group(self, key: GroupKey, status: ItemStatus) -> list[uuid.UUID]:
        """Every task id of a group."""
        statement = self.scope.apply(select(RunItem.id), RunItem)
        result = await self.session.execute(statement.where(*_group_conditions(key, status)))
        return list(result.scalars())


class BlockerRepository(TenantRepository[SyncRun]):
    """The latest finished runs of several interfaces at once, and their failing streaks."""

    model = SyncRun

    async def latest_finished(self, interface_ids: Sequence[uuid.UUID]) -> Sequence[SyncRun]:
        """Each interface's newest finished run (dry runs left out), one indexed lookup each."""
        run = aliased(SyncRun)
        newest = (
            select(run.id)
            .where(run.interface_id == Interface.id, run.status.in_(BLOCKER_STATUSES))
            .where(run.dry_run.is_(False))
            .order_by(run.started_at.desc(), run.id.desc())
            .limit(1)
            .correlate(Interface)
            .scalar_subquery()
        )
        ids = select(newest).where(Interface.id.in_(interface_ids))
        return await self.get_all(self.select().where(SyncRun.id.in_(ids)))

    async def failing_since(
        self, interface_ids: Sequence[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[datetime, int]]:
        """Per interface the failed runs since its last good one: the first's start, how many."""
        good = aliased(SyncRun)
        last_good = (
            select(func.max(good.started_at))
            .where(good.interface_id == SyncRun.interface_id, good.dry_run.is_(False))
            .where(good.status.in_((RunStatus.succeeded, RunStatus.warning)))
            .correlate(SyncRun)
            .scalar_subquery()
        )
        failed: Any = select(SyncRun.interface_id, func.count(), func.min(SyncRun.started_at))
        statement = (
            self.scope.apply(failed, SyncRun)
            .where(SyncRun.interface_id.in_(interface_ids), SyncRun.status == RunStatus.failed)
            .where(SyncRun.dry_run.is_(False))
            .where(or_(last_good.is_(None), SyncRun.started_at > last_good))
            .group_by(SyncRun.interface_id)
        )
        result = await self.session.execute(statement)
        return {i: (since, int(n)) for i, n, since in result.all()}


def _equal_or_null(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _group_conditions(key: GroupKey, status: ItemStatus) -> list[Any]:
    return [
        RunItem.status == status,
        RunItem.error_cause.is_not(None),  # the partial index's term, said literally
        RunItem.interface_id == key.interface_id,
        RunItem.object_name == key.object_name,
        RunItem.error_cause == key.digest,
        _equal_or_null(RunItem.error_category, key.category),
        _equal_or_null(RunItem.http_status, key.http_status),
    ]


async def _groups(
    repo: FailureRepository, counts: Sequence[CauseCount], filters: FailureFilter
) -> list[ErrorGroup]:
    newest = await repo.newest(counts, filters)
    groups = []
    for count in counts:
        found = newest.get(row_key(count), [])
        message = found[0][0] if found else None
        groups.append(group_of(count, message, (k for _m, k in found)))
    return groups


async def list_error_groups(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: FailureFilter,
    offset: int = 0,
    limit: int = GROUP_PAGE,
) -> GroupListing:
    """One page of failed tasks grouped by interface, object, category, HTTP status and
    cause, the most recently seen first, and how many groups there are."""
    if filters.interface_id is not None:
        await get_interface(session, actor=actor, interface_id=filters.interface_id)
    causes = CauseRepository.scoped(session, actor.scope)
    counts, total = await cause_page(causes, filters, offset=offset, limit=limit)
    repo = FailureRepository.scoped(session, actor.scope)
    return GroupListing(await _groups(repo, counts, filters), total)


async def get_error_group(
    session: AsyncSession,
    *,
    actor: Actor,
    group_id: str,
    status: ItemStatus = ItemStatus.failed,
) -> ErrorGroup:
    """The group with ``group_id`` among the actor's failed tasks (``NotFound`` if none)."""
    interface_id = interface_of(group_id)
    if interface_id is None:
        raise NotFound("error group not found")
    filters = FailureFilter(interface_id=interface_id, status=status)
    counts = await CauseRepository.scoped(session, actor.scope).ranked(
        filters, offset=0, limit=None
    )
    found = [c for c in counts if _key(c).id == group_id]
    if not found:
        raise NotFound("error group not found")
    repo = FailureRepository.scoped(session, actor.scope)
    return (await _groups(repo, found, filters))[0]


def _key(count: CauseCount) -> GroupKey:
    parts = (count.interface_id, count.object_name, count.category, count.http_status)
    return GroupKey(*parts, count.digest or "")


async def page_group_items(
    session: AsyncSession,
    *,
    actor: Actor,
    group: ErrorGroup,
    status: ItemStatus = ItemStatus.failed,
    before: Cursor | None = None,
    limit: int = GROUP_ITEM_PAGE,
) -> Page[RunItem]:
    """One page of a group's tasks, newest first."""
    repo = FailureRepository.scoped(session, actor.scope)
    return await repo.page_of_group(group.key, status, before=before, limit=limit)


async def group_item_ids(
    session: AsyncSession, *, actor: Actor, group: ErrorGroup
) -> list[uuid.UUID]:
    """Every open failed task of a group (for retry all and resolve all)."""
    repo = FailureRepository.scoped(session, actor.scope)
    return await repo.ids_of_group(group.key, ItemStatus.failed)


async def list_blockers(
    session: AsyncSession, *, actor: Actor, interfaces: Sequence[Interface | InterfaceChoice]
) -> list[Blocker]:
    """Of ``interfaces``, those whose latest finished run failed, with the failing streak."""
    candidates = {i.id for i in interfaces if i.health in (Health.error, Health.paused)}
    if not candidates:  # only these can have a failed last run
        return []
    repo = BlockerRepository.scoped(session, actor.scope)
    latest = await repo.latest_finished(list(candidates))
    heads = {r.interface_id: r for r in latest if r.status == RunStatus.failed}
    if not heads:
        return []
    streaks = await repo.failing_since(list(heads))
    blockers = [Blocker(i, run, *streaks[i]) for i, run in heads.items()]
    return sorted(blockers, key=lambda b: b.run.started_at, reverse=True)
