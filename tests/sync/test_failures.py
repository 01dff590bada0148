"""The error log's query layer: causes grouped and paged in SQL, blockers in one query,
and the stored columns it relies on (a failed item's cause, a run's records written)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core import migrations
from app.core.db import create_engine, create_session_factory
from app.core.errors import NotFound
from app.models import RunItem, SyncRun
from app.models.base import utcnow
from app.models.enums import ErrorCategory, Health, ItemAction, ItemStatus, RunStatus
from app.sync import runs
from app.sync.engine.counts import RunCounts
from app.sync.engine.recorder import ItemError, Recorder
from app.sync.error_groups import cause_digest
from app.web import WebState
from tests.databases import BACKENDS, fresh_database
from tests.factories import TenantWorld, World, build_world
from tests.ui.test_history import T0, add_item, add_run

PROPERTY = "Property values were not valid"  # the world's own failed item


def fail(db: AsyncSession, tw: TenantWorld, key: str, message: str, minutes: int = 0) -> None:
    add_item(db, tw, tw.run, key, at=T0 + timedelta(minutes=minutes), status=ItemStatus.failed,
             error_message=message, error_cause=cause_digest(message), http_status=400,
             error_category=ErrorCategory.data)  # fmt: skip


def admin_of(tw: TenantWorld) -> Actor:
    return Actor(role=tw.admin.role, tenant_id=tw.tenant.id)


class TestStoredColumns:
    def test_the_recorder_stores_a_failed_items_cause(self) -> None:
        run = SyncRun(counts={})
        recorder = Recorder(run, "companies", "to_hubspot", RunCounts())  # type: ignore[arg-type]
        error = ItemError("Email address a@b.ch is invalid")
        recorder.item(ItemAction.create, "K-1", error=error, failed=True)
        recorder.item(ItemAction.skip, "K-2", error=error)
        failed, skipped = recorder.pending
        assert failed["error_cause"] == cause_digest("Email address x@y.ch is invalid")
        assert skipped["error_cause"] is None

    def test_a_run_keeps_the_records_it_wrote_in_step_with_its_counts(self) -> None:
        run = SyncRun(counts={"companies": {"created": 2, "unchanged": 9, "failed": 1}})
        assert run.synced == 2
        run.counts = {"companies": {"updated": 3}, "contacts": {"deleted": 1, "created": 4}}
        assert run.synced == 8


class TestErrorGroups:
    async def test_causes_are_grouped_counted_and_paged_in_the_database(
        self, world: World, db: AsyncSession
    ) -> None:
        for n in range(3):
            fail(db, world.a, f"K-{n}", f"Email address k{n}@x is invalid", minutes=n)
        fail(db, world.a, "K-9", "Company already exists. Existing ID: 42", minutes=10)
        await db.commit()
        actor, filters = admin_of(world.a), runs.FailureFilter()
        first = await runs.list_error_groups(db, actor=actor, filters=filters, limit=2)
        assert first.total == 3  # two causes here and the world's own (newest) failed item
        newest, company = (g.message for g in first.groups)
        assert (newest, company) == (PROPERTY, "Company already exists. Existing ID: 42")
        rest = await runs.list_error_groups(db, actor=actor, filters=filters, offset=2, limit=2)
        (email,) = rest.groups
        assert (email.count, email.message, email.keys) == (
            3, "Email address k2@x is invalid", ["K-0", "K-1", "K-2"])  # fmt: skip
        assert email.first_at == T0
        assert email.hint is not None
        assert email.hint.code == "invalid_email"

    async def test_a_group_by_id_with_its_records_and_ids(
        self, world: World, db: AsyncSession
    ) -> None:
        for n in range(3):
            fail(db, world.a, f"K-{n}", f"Email address k{n}@x is invalid", minutes=n)
        await db.commit()
        actor = admin_of(world.a)
        listing = await runs.list_error_groups(db, actor=actor, filters=runs.FailureFilter())
        wanted = next(g for g in listing.groups if g.count == 3)
        group = await runs.get_error_group(db, actor=actor, group_id=wanted.id)
        assert (group.id, group.count) == (wanted.id, 3)
        page = await runs.page_group_items(db, actor=actor, group=group, limit=2)
        assert [i.source_key for i in page.rows] == ["K-2", "K-1"]
        assert page.older is not None
        rest = await runs.page_group_items(db, actor=actor, group=group, before=page.older)
        assert [i.source_key for i in rest.rows] == ["K-0"]
        ids = await runs.group_item_ids(db, actor=actor, group=group)
        assert len(ids) == 3

    @pytest.mark.parametrize("group_id", ["nonsense", "0" * 64])
    async def test_unknown_ids_are_not_found(
        self, world: World, db: AsyncSession, group_id: str
    ) -> None:
        with pytest.raises(NotFound):
            await runs.get_error_group(db, actor=Actor.system(), group_id=group_id)

    async def test_another_tenants_group_is_not_found(self, world: World, db: AsyncSession) -> None:
        listing = await runs.list_error_groups(
            db, actor=admin_of(world.b), filters=runs.FailureFilter()
        )
        theirs = listing.groups[0].id
        with pytest.raises(NotFound):
            await runs.get_error_group(db, actor=admin_of(world.a), group_id=theirs)


class TestBlockers:
    async def test_failing_streaks_of_many_interfaces_in_a_fixed_number_of_queries(
        self, world: World, db: AsyncSession, web: WebState
    ) -> None:
        for tw in (world.a, world.b):
            tw.interface.health = Health.error
        start = utcnow() + timedelta(minutes=1)  # after the world's own run
        add_run(db, world.a, started_at=start, status=RunStatus.succeeded)
        for hours in (1, 2):
            add_run(db, world.a, started_at=start + timedelta(hours=hours), status=RunStatus.failed)
        add_run(db, world.a, started_at=start + timedelta(hours=3), status=RunStatus.running)
        await db.commit()
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(web.engine.sync_engine, "before_cursor_execute", count)
        try:
            interfaces = [world.a.interface, world.b.interface]
            found = await runs.list_blockers(db, actor=Actor.system(), interfaces=interfaces)
        finally:
            event.remove(web.engine.sync_engine, "before_cursor_execute", count)
        assert len(seen) <= 3
        assert [(b.interface_id, b.failures) for b in found] == [(world.a.interface.id, 2)]
        assert found[0].since == start + timedelta(hours=1)
        assert found[0].run.started_at == start + timedelta(hours=2)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_migration_backfills_existing_runs_and_failures(
    backend: str, tmp_path: Path
) -> None:
    async with fresh_database(backend, tmp_path) as url:
        await asyncio.to_thread(migrations.upgrade, url)
        engine = create_engine(url)
        try:
            async with create_session_factory(engine)() as db:
                world = await build_world(db)
                counts = {"companies": {"created": 2}, "contacts": {"deleted": 3}}
                run = add_run(db, world.a, started_at=T0, counts=counts)
                await db.commit()
            await asyncio.to_thread(migrations.downgrade, url, "704cac1629ca")
            await asyncio.to_thread(migrations.upgrade, url)
            async with engine.connect() as connection:
                synced = select(SyncRun.synced).where(SyncRun.id == run.id)
                assert (await connection.execute(synced)).scalar_one() == 5
                cause = select(RunItem.error_cause).where(RunItem.id == world.a.item.id)
                assert (await connection.execute(cause)).scalar_one() == cause_digest(PROPERTY)
        finally:
            await engine.dispose()
