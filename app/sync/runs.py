"""Sync history and error log: runs, their tasks and open failures, in the actor's scope.

Lists page by keyset (``started_at``/``created_at`` plus id), never by offset,
and read only what a page shows: the history takes its counts from the run row,
a run's tasks come 100 at a time, and the error log aggregates failed tasks by
distinct message in SQL before ``app.sync.error_groups`` merges them by cause.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.auth.repository import UserRepository
from app.core.errors import InvalidInput, NotFound
from app.core.repository import TenantRepository
from app.models import Interface, MappingVersion, RunItem, SyncRun
from app.models.enums import (
    ErrorCategory,
    Health,
    ItemAction,
    ItemStatus,
    RunStatus,
    RunTrigger,
)
from app.sync.error_groups import (
    ErrorGroup,
    MessageCount,
    group_messages,
    normalise,
)
from app.sync.interfaces import get_interface
from app.sync.repositories import FailedItemRepository, RunItemRepository, SyncRunRepository

RUN_PAGE = 50
ITEM_PAGE = 100
GROUP_ITEM_PAGE = 50
MAX_DISTINCT_MESSAGES = 5000  # the error log groups at most this many distinct messages
SCAN_CHUNK = 1000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position: a timestamp and the row id that breaks ties."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        """The cursor as a URL-safe token: microseconds since the epoch, then the id."""
        micros = round(self.at.timestamp() * 1_000_000)
        return f"{micros}.{self.id.hex}"

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a token made by ``encode`` (``InvalidInput`` for anything else)."""
        micros, _, hex_id = token.partition(".")
        try:
            at = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
            return cls(at=at, id=uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError, OSError):
            raise InvalidInput("invalid page cursor") from None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursors of its neighbours (None: no such page)."""

    rows: Sequence[T]
    newer: Cursor | None = None  # pass as ``after``: the rows before this page in list order
    older: Cursor | None = None  # pass as ``before``: the rows after this page in list order


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs the history shows: ``since`` inclusive, ``until`` exclusive."""

    interface_id: uuid.UUID | None = None
    status: RunStatus | None = None
    trigger: RunTrigger | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemFilter:
    """Which tasks of a run show: by object, action, status and source-key prefix."""

    object_name: str | None = None
    action: ItemAction | None = None
    status: ItemStatus | None = None
    key: str | None = None


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


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A run with what its header names: interface, mapping version, who started it."""

    run: SyncRun
    interface_name: str
    version_number: int | None
    triggered_by: str | None


@dataclass(frozen=True, slots=True)
class GroupListing:
    """The error log's groups; ``truncated`` when more distinct messages existed."""

    groups: list[ErrorGroup]
    truncated: bool


@dataclass(frozen=True, slots=True)
class Blocker:
    """An interface whose latest finished run failed: since when and how often in a row."""

    interface: Interface
    run: SyncRun
    since: datetime
    failures: int


def _keyset(
    statement: Any,
    columns: tuple[Any, Any],
    *,
    descending: bool,
    before: Cursor | None,
    after: Cursor | None,
    limit: int,
) -> tuple[Any, bool]:
    """Limit ``statement`` to one page after ``before``/``after`` in list order.

    Returns the statement and whether its rows come in reverse list order
    (an ``after`` page is read towards the list's start, then turned round).
    """
    at, ident = columns
    backwards = after is not None and before is None
    cursor = after if backwards else before
    if cursor is not None:
        later = descending == backwards  # which side of the cursor the page lies on
        if later:
            statement = statement.where(
                or_(at > cursor.at, and_(at == cursor.at, ident > cursor.id))
            )
        else:
            statement = statement.where(
                or_(at < cursor.at, and_(at == cursor.at, ident < cursor.id))
            )
    ascending = descending == backwards
    order = (at.asc(), ident.asc()) if ascending else (at.desc(), ident.desc())
    return statement.order_by(*order).limit(limit + 1), backwards


def _page(
    rows: Sequence[Any], *, limit: int, backwards: bool, started: bool
) -> tuple[list[Any], Cursor | None, Cursor | None]:
    """Cut the extra row off a keyset result: the rows in list order and the cursors of
    the previous and the next page (None where there is none)."""
    more = len(rows) > limit
    kept = list(rows[:limit])
    if backwards:
        kept.reverse()
    if not kept:
        return [], None, None
    previous = _cursor_of(kept[0]) if (more if backwards else started) else None
    following = _cursor_of(kept[-1]) if (backwards or more) else None
    return kept, previous, following


def _cursor_of(row: Any) -> Cursor:
    at = row.started_at if isinstance(row, SyncRun) else row.created_at
    return Cursor(at=at, id=row.id)


def _prefix(column: Any, text: str) -> Any:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")


class RunHistoryRepository(TenantRepository[SyncRun]):
    """The history's queries: runs by filter, newest first, one page at a time."""

    model = SyncRun

    async def page(
        self, filters: RunFilter, *, before: Cursor | None, after: Cursor | None, limit: int
    ) -> Page[SyncRun]:
        """One page of runs matching ``filters``."""
        statement = self.select()
        for condition in _run_conditions(filters):
            statement = statement.where(condition)
        statement, backwards = _keyset(
            statement,
            (SyncRun.started_at, SyncRun.id),
            descending=True,
            before=before,
            after=after,
            limit=limit,
        )
        found = await self.get_all(statement)
        rows, newer, older = _page(found, limit=limit, backwards=backwards, started=bool(before))
        return Page(rows=rows, newer=newer, older=older)

    async def latest_finished(self, interface_id: uuid.UUID, *, limit: int) -> Sequence[SyncRun]:
        """The newest finished runs of one interface (dry runs left out)."""
        finished = (RunStatus.succeeded, RunStatus.warning, RunStatus.failed)
        statement = (
            self.select()
            .where(SyncRun.interface_id == interface_id, SyncRun.status.in_(finished))
            .where(SyncRun.dry_run.is_(False))
            .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
            .limit(limit)
        )
        return await self.get_all(statement)

    async def mapping_of(self, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        """The parsed mapping version each of ``run_ids`` ran with (else the active one)."""
        if not run_ids:
            return {}
        version_id = func.coalesce(SyncRun.mapping_version_id, Interface.active_mapping_version_id)
        statement = (
            select(SyncRun.id, MappingVersion.parsed)
            .join(Interface, Interface.id == SyncRun.interface_id)
            .join(MappingVersion, MappingVersion.id == version_id)
            .where(SyncRun.id.in_(run_ids))
        )
        statement = self.scope.apply(statement, SyncRun)
        result = await self.session.execute(statement)
        return dict(result.all())

    async def version_number(self, version_id: uuid.UUID) -> int | None:
        """The number of a mapping version."""
        statement = select(MappingVersion.number).where(MappingVersion.id == version_id)
        result = await self.session.execute(self.scope.apply(statement, MappingVersion))
        return result.scalar_one_or_none()


def _run_conditions(filters: RunFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.interface_id is not None:
        conditions.append(SyncRun.interface_id == filters.interface_id)
    if filters.status is not None:
        conditions.append(SyncRun.status == filters.status)
    if filters.trigger is not None:
        conditions.append(SyncRun.trigger == filters.trigger)
    if filters.since is not None:
        conditions.append(SyncRun.started_at >= filters.since)
    if filters.until is not None:
        conditions.append(SyncRun.started_at < filters.until)
    return conditions


class TaskRepository(TenantRepository[RunItem]):
    """Queries over run items: a run's tasks in order, and failed tasks by cause."""

    model = RunItem

    async def page_for_run(
        self,
        run_id: uuid.UUID,
        filters: ItemFilter,
        *,
        before: Cursor | None,
        after: Cursor | None,
        limit: int,
    ) -> Page[RunItem]:
        """One page of a run's tasks in the order they were done."""
        statement = self.select().where(RunItem.run_id == run_id)
        if filters.object_name is not None:
            statement = statement.where(RunItem.object_name == filters.object_name)
        if filters.action is not None:
            statement = statement.where(RunItem.action == filters.action)
        if filters.status is not None:
            statement = statement.where(RunItem.status == filters.status)
        if filters.key:
            statement = statement.where(_prefix(RunItem.source_key, filters.key))
        # "after" in this ascending list means later tasks: the keyset's "before" side
        statement, backwards = _keyset(
            statement,
            (RunItem.created_at, RunItem.id),
            descending=False,
            before=after,
            after=before,
            limit=limit,
        )
        found = await self.get_all(statement)
        rows, earlier, later = _page(found, limit=limit, backwards=backwards, started=bool(after))
        return Page(rows=rows, newer=later, older=earlier)

    async def message_counts(self, filters: FailureFilter, *, limit: int) -> list[MessageCount]:
        """Failed tasks per distinct message with count, first and last time, newest first."""
        columns = (
            RunItem.interface_id,
            RunItem.object_name,
            RunItem.error_category,
            RunItem.http_status,
            RunItem.error_message,
        )
        last = func.max(RunItem.created_at)
        statement: Any = select(
            *columns,
            func.count(),
            func.min(RunItem.created_at),
            last,
            func.min(RunItem.source_key),
            func.max(RunItem.source_key),
        )
        statement = self.scope.apply(statement, RunItem)
        for condition in _failure_conditions(filters):
            statement = statement.where(condition)
        statement = statement.group_by(*columns).order_by(last.desc()).limit(limit)
        result = await self.session.execute(statement)
        return [MessageCount(*row) for row in result.all()]

    async def matching(
        self, group: ErrorGroup, status: ItemStatus, *, before: Cursor | None, limit: int | None
    ) -> list[uuid.UUID]:
        """Ids of ``group``'s tasks, newest first from ``before`` on; ``limit + 1`` at most
        (None: all, in no order). One streamed query; the cause is compared here."""
        key = group.key
        statement: Any = select(RunItem.id, RunItem.error_message).where(
            RunItem.interface_id == key.interface_id,
            RunItem.status == status,
            RunItem.object_name == key.object_name,
            _equal_or_null(RunItem.error_category, key.category),
            _equal_or_null(RunItem.http_status, key.http_status),
        )
        statement = self.scope.apply(statement, RunItem)
        if limit is not None:
            columns = (RunItem.created_at, RunItem.id)
            statement, _ = _keyset(
                statement, columns, descending=True, before=before, after=None, limit=limit
            )
            statement = statement.limit(None)  # stop reading once enough rows matched
        found: list[uuid.UUID] = []
        stream = await self.session.stream(statement.execution_options(yield_per=SCAN_CHUNK))
        try:
            async for rows in stream.partitions():  # a chunk at a time: no await per row
                found += [i for i, m in rows if m in group.messages or normalise(m) == key.cause]
                if limit is not None and len(found) > limit:
                    return found[: limit + 1]
        finally:
            await stream.close()
        return found

    async def by_ids(self, item_ids: Sequence[uuid.UUID]) -> Sequence[RunItem]:
        """The tasks with ``item_ids`` in the scope, newest first."""
        if not item_ids:
            return []
        statement = (
            self.select()
            .where(RunItem.id.in_(item_ids))
            .order_by(RunItem.created_at.desc(), RunItem.id.desc())
        )
        return await self.get_all(statement)


def _equal_or_null(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _failure_conditions(filters: FailureFilter) -> list[Any]:
    conditions: list[Any] = [RunItem.status == filters.status]
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
        conditions.append(_prefix(RunItem.source_key, filters.key))
    return conditions


# -- services ---------------------------------------------------------------------------------


async def list_runs(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID | None = None
) -> Sequence[SyncRun]:
    """The newest runs the actor may see, optionally of one interface."""
    if interface_id is not None:
        await get_interface(session, actor=actor, interface_id=interface_id)
    return await SyncRunRepository.scoped(session, actor.scope).list(interface_id=interface_id)


async def page_runs(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: RunFilter,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = RUN_PAGE,
) -> Page[SyncRun]:
    """One page of the history, newest first, limited to ``filters``."""
    if filters.interface_id is not None:
        await get_interface(session, actor=actor, interface_id=filters.interface_id)
    repo = RunHistoryRepository.scoped(session, actor.scope)
    return await repo.page(filters, before=before, after=after, limit=limit)


async def get_run(session: AsyncSession, *, actor: Actor, run_id: uuid.UUID) -> SyncRun:
    """One run in the actor's scope (``NotFound`` for another tenant's)."""
    run = await SyncRunRepository.scoped(session, actor.scope).get_by_id(run_id)
    if run is None:
        raise NotFound("run not found")
    return run


async def run_detail(session: AsyncSession, *, actor: Actor, run_id: uuid.UUID) -> RunDetail:
    """A run with its interface's name, its mapping version's number and who started it."""
    run = await get_run(session, actor=actor, run_id=run_id)
    interface = await get_interface(session, actor=actor, interface_id=run.interface_id)
    repo = RunHistoryRepository.scoped(session, actor.scope)
    number = None
    if run.mapping_version_id is not None:
        number = await repo.version_number(run.mapping_version_id)
    user = None
    if run.triggered_by_id is not None:
        user = await UserRepository.from_session(session).get_by_id(run.triggered_by_id)
    return RunDetail(run, interface.name, number, user.email if user else None)


async def list_run_items(
    session: AsyncSession, *, actor: Actor, run_id: uuid.UUID
) -> Sequence[RunItem]:
    """The tasks of one run in the actor's scope."""
    run = await get_run(session, actor=actor, run_id=run_id)
    return await RunItemRepository.scoped(session, actor.scope).list_for_run(run.id)


async def page_run_items(
    session: AsyncSession,
    *,
    actor: Actor,
    run_id: uuid.UUID,
    filters: ItemFilter,
    before: Cursor | None = None,
    after: Cursor | None = None,
    limit: int = ITEM_PAGE,
) -> Page[RunItem]:
    """One page of a run's tasks in the order they were done.

    ``after`` pages forward (later tasks), ``before`` back; the page's ``newer``
    cursor leads on to later tasks and ``older`` back to earlier ones.
    """
    run = await get_run(session, actor=actor, run_id=run_id)
    repo = TaskRepository.scoped(session, actor.scope)
    return await repo.page_for_run(run.id, filters, before=before, after=after, limit=limit)


async def run_mappings(
    session: AsyncSession, *, actor: Actor, run_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dict[str, Any]]:
    """The parsed mapping each run ran with (for the payload view)."""
    repo = RunHistoryRepository.scoped(session, actor.scope)
    return await repo.mapping_of(sorted(set(run_ids)))


async def list_open_failures(session: AsyncSession, *, actor: Actor) -> Sequence[RunItem]:
    """Failed tasks that are not yet resolved, newest first."""
    return await FailedItemRepository.scoped(session, actor.scope).list_open()


async def list_error_groups(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: FailureFilter,
    limit: int = MAX_DISTINCT_MESSAGES,
) -> GroupListing:
    """Failed tasks grouped by interface, object, category, HTTP status and cause."""
    if filters.interface_id is not None:
        await get_interface(session, actor=actor, interface_id=filters.interface_id)
    repo = TaskRepository.scoped(session, actor.scope)
    counts = await repo.message_counts(filters, limit=limit + 1)
    return GroupListing(group_messages(counts[:limit]), truncated=len(counts) > limit)


async def get_error_group(
    session: AsyncSession,
    *,
    actor: Actor,
    group_id: str,
    status: ItemStatus = ItemStatus.failed,
) -> ErrorGroup:
    """The group with ``group_id`` among the actor's failed tasks (``NotFound`` if none)."""
    listing = await list_error_groups(session, actor=actor, filters=FailureFilter(status=status))
    group = next((g for g in listing.groups if g.id == group_id), None)
    if group is None:
        raise NotFound("error group not found")
    return group


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
    repo = TaskRepository.scoped(session, actor.scope)
    ids = await repo.matching(group, status, before=before, limit=limit)
    rows = list(await repo.by_ids(ids[:limit]))
    older = _cursor_of(rows[-1]) if len(ids) > limit and rows else None
    return Page(rows=rows, newer=None, older=older)


async def group_item_ids(
    session: AsyncSession, *, actor: Actor, group: ErrorGroup
) -> list[uuid.UUID]:
    """Every open failed task of a group (for retry all and resolve all)."""
    repo = TaskRepository.scoped(session, actor.scope)
    return await repo.matching(group, ItemStatus.failed, before=None, limit=None)


async def get_item(session: AsyncSession, *, actor: Actor, item_id: uuid.UUID) -> RunItem:
    """One task in the actor's scope (``NotFound`` for another tenant's)."""
    item = await TaskRepository.scoped(session, actor.scope).get_by_id(item_id)
    if item is None:
        raise NotFound("task not found")
    return item


async def list_blockers(
    session: AsyncSession, *, actor: Actor, interfaces: Sequence[Interface], window: int = 50
) -> list[Blocker]:
    """Of ``interfaces``, those whose latest finished run failed, with the failing streak."""
    repo = RunHistoryRepository.scoped(session, actor.scope)
    blockers = []
    for interface in interfaces:
        if interface.health not in (Health.error, Health.paused):
            continue  # only these can have a failed last run; spares a query per interface
        runs = await repo.latest_finished(interface.id, limit=window)
        streak = []
        for run in runs:
            if run.status != RunStatus.failed:
                break
            streak.append(run)
        if streak:
            blockers.append(Blocker(interface, streak[0], streak[-1].started_at, len(streak)))
    return sorted(blockers, key=lambda b: b.run.started_at, reverse=True)
