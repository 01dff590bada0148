"""The error log's cause paging: a window of the newest failures, grown until it holds
the page, gives the same causes in the same order as ranking every cause in SQL."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import TenantScope
from app.models.enums import ErrorCategory, ItemStatus
from app.sync.error_groups import CauseCount, cause_digest
from app.sync.runs import causes
from app.sync.runs.causes import (
    CauseRepository,
    FailureFilter,
    cause_page,
    page_of_causes,
    rank,
)
from tests.factories import TenantWorld, World
from tests.ui.test_history import T0, add_item

MESSAGES = [f"Property number {chr(65 + n)}x does not exist" for n in range(8)]


def fail(db: AsyncSession, tw: TenantWorld, key: str, message: str, seconds: int) -> None:
    add_item(db, tw, tw.run, key, at=T0 + timedelta(seconds=seconds), status=ItemStatus.failed,
             error_message=message, error_cause=cause_digest(message), http_status=400,
             error_category=ErrorCategory.data)  # fmt: skip


def counted(digest: str, n: int, last_seconds: int) -> CauseCount:
    at = T0 + timedelta(seconds=last_seconds)
    return CauseCount(uuid.UUID(int=1), "companies", ErrorCategory.data, 400, digest, n, T0, at)


class TestRank:
    def test_most_recent_then_most_frequent_then_by_key(self) -> None:
        found = rank([counted("b", 1, 5), counted("a", 1, 5), counted("c", 9, 5),
                      counted("d", 1, 9)])  # fmt: skip
        assert [c.digest for c in found] == ["d", "c", "a", "b"]


async def clustered_failures(db: AsyncSession, world: World) -> None:
    """Eight causes, the newest failures piled on a few of them (as after a bad run), and
    two causes with the same newest time (ordered by their counts)."""
    seconds = 0
    for n, message in enumerate(MESSAGES):
        for k in range(3 + n):
            seconds += 1
            fail(db, world.a, f"K-{n}-{k}", message, seconds)
    for k in range(40):  # the most recent run failed 40 records with two causes
        fail(db, world.a, f"L-{k}", MESSAGES[k % 2], seconds + 1 + k // 2)
    fail(db, world.a, "M-1", MESSAGES[5], seconds + 100)
    fail(db, world.a, "M-2", MESSAGES[6], seconds + 100)
    fail(db, world.a, "M-3", MESSAGES[6], seconds + 50)
    await db.commit()


def scope_of(world: World, *, operator: bool) -> TenantScope:
    return TenantScope.all_tenants() if operator else TenantScope.only(world.a.tenant.id)


class TestPageOfCauses:
    @pytest.mark.parametrize("operator", [False, True])
    @pytest.mark.parametrize(("first", "most"), [(2, 10_000), (4, 16), (2, 2)])
    async def test_every_page_equals_ranking_all_causes_in_sql(
        self, world: World, db: AsyncSession, monkeypatch: pytest.MonkeyPatch,
        first: int, most: int, operator: bool,
    ) -> None:  # fmt: skip
        await clustered_failures(db, world)
        monkeypatch.setattr(causes, "FIRST_WINDOW", first)  # small windows that must grow
        monkeypatch.setattr(causes, "MAX_WINDOW", most)  # (2, 2): the fallback at once
        repo = CauseRepository.scoped(db, scope_of(world, operator=operator))
        filters = FailureFilter()
        expected = await repo.ranked(filters, offset=0, limit=None)
        own = 2 if operator else 1  # each tenant world's own failed item, the newest
        assert len(expected) == len(MESSAGES) + own
        tied = [cause_digest(m) for m in MESSAGES[6:4:-1]]  # same newest time, 6 has more
        assert [c.digest for c in expected[own : own + 2]] == tied
        for limit in (1, 2, 3):
            paged = []
            for offset in range(0, len(expected), limit):
                paged += await page_of_causes(repo, filters, offset=offset, limit=limit)
            assert paged == expected
        assert await repo.count(filters) == len(expected)

    async def test_filters_narrow_the_window_too(self, world: World, db: AsyncSession) -> None:
        await clustered_failures(db, world)
        repo = CauseRepository.scoped(db, scope_of(world, operator=True))
        (only,) = await page_of_causes(repo, FailureFilter(key="K-3"), offset=0, limit=25)
        assert (only.digest, only.count) == (cause_digest(MESSAGES[3]), 6)

    @pytest.mark.parametrize("operator", [False, True])
    async def test_a_page_and_how_many_causes_there_are(
        self, world: World, db: AsyncSession, operator: bool
    ) -> None:
        await clustered_failures(db, world)
        repo = CauseRepository.scoped(db, scope_of(world, operator=operator))
        assert repo.few(FailureFilter()) is not operator  # one tenant's: ranked in one query
        expected = await repo.ranked(FailureFilter(), offset=0, limit=None)
        found = await cause_page(repo, FailureFilter(), offset=2, limit=3)
        assert found == (expected[2:5], len(expected))
        beyond, _ = await cause_page(repo, FailureFilter(), offset=len(expected), limit=3)
        assert beyond == []
