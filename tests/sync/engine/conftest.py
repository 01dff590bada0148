"""Fixtures of the run-engine tests: an ERP, a sandbox portal and a runner between them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.web import WebState
from tests.factories import World
from tests.sync.engine.runner_kit import Erp, Portal, Runner, open_portal


@pytest.fixture
def erp(tmp_path: Path) -> Erp:
    """An empty ERP database."""
    return Erp(tmp_path / "erp.sqlite")


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    """A fresh sandbox portal in-process."""
    async for opened in open_portal():
        yield opened


@pytest.fixture
async def runner(erp: Erp, portal: Portal, world: World, db: AsyncSession, web: WebState) -> Runner:
    """Runs tenant A's interface between ``erp`` and ``portal``."""
    await db.commit()
    return Runner(erp, portal, web.session_factory, world.a.tenant.id, world.a.interface.id)
