"""SQL of the run engine: record links, cursors, run rows and their items, in one tenant scope."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import delete, update

from app.core.repository import TenantRepository
from app.models import Cursor, RecordLink, RunItem, SyncRun
from app.models.enums import ItemStatus, SyncDirection


class LinkRepository(TenantRepository[RecordLink]):
    """Record links of one interface and object mapping."""

    model = RecordLink

    async def by_source_keys(
        self, interface_id: uuid.UUID, object_name: str, keys: Collection[str]
    ) -> dict[str, RecordLink]:
        """The links of ``keys`` (one query), by source key."""
        if not keys:
            return {}
        statement = self.select().where(
            RecordLink.interface_id == interface_id,
            RecordLink.object_name == object_name,
            RecordLink.source_key.in_(list(keys)),
        )
        return {link.source_key: link for link in await self.get_all(statement)}

    async def by_hubspot_ids(
        self, interface_id: uuid.UUID, object_name: str, ids: Collection[str]
    ) -> dict[str, RecordLink]:
        """The links of HubSpot ``ids`` (one query), by HubSpot id."""
        if not ids:
            return {}
        statement = self.select().where(
            RecordLink.interface_id == interface_id,
            RecordLink.object_name == object_name,
            RecordLink.hubspot_id.in_(list(ids)),
        )
        return {str(link.hubspot_id): link for link in await self.get_all(statement)}

    async def remove(self, links: Sequence[RecordLink]) -> None:
        """Forget ``links`` (the pair no longer exists on one side)."""
        if links:
            ids = [link.id for link in links]
            await self.session.execute(delete(RecordLink).where(RecordLink.id.in_(ids)))


class CursorRepository(TenantRepository[Cursor]):
    """The read watermark of each object mapping and direction."""

    model = Cursor

    async def find(
        self, interface_id: uuid.UUID, object_name: str, direction: SyncDirection
    ) -> Cursor | None:
        """The stored cursor, or None before the first committed batch."""
        return await self.get_one_or_none(
            self.select().where(
                Cursor.interface_id == interface_id,
                Cursor.object_name == object_name,
                Cursor.direction == direction,
            )
        )

    async def put(
        self, run: SyncRun, object_name: str, direction: SyncDirection, value: dict[str, Any]
    ) -> None:
        """Store the cursor to resume ``object_name`` in ``direction`` from."""
        stored = await self.find(run.interface_id, object_name, direction)
        if stored is None:
            stored = Cursor(
                tenant_id=run.tenant_id,
                interface_id=run.interface_id,
                object_name=object_name,
                direction=direction,
            )
            self.session.add(stored)
        stored.value = value

    async def all_values(self, interface_id: uuid.UUID) -> dict[str, Any]:
        """Every cursor of the interface as ``{"object/direction": value}``."""
        rows = await self.get_all(self.select().where(Cursor.interface_id == interface_id))
        return {f"{c.object_name}/{c.direction}": c.value for c in rows}


class ItemRepository(TenantRepository[RunItem]):
    """Run items as the engine writes them, and the failures it retries."""

    model = RunItem

    async def open_failures(
        self, interface_id: uuid.UUID, object_name: str, direction: SyncDirection
    ) -> Sequence[RunItem]:
        """Failed, unresolved items of earlier runs: the records to try again."""
        statement = self.select().where(
            RunItem.interface_id == interface_id,
            RunItem.object_name == object_name,
            RunItem.direction == direction,
            RunItem.status == ItemStatus.failed,
            RunItem.error_cause.is_not(None),  # the failures' partial index: said literally
        )
        return await self.get_all(statement.order_by(RunItem.created_at, RunItem.id))

    async def resolve(
        self,
        run: SyncRun,
        object_name: str,
        direction: SyncDirection,
        keys: Collection[str],
    ) -> None:
        """Mark earlier failures of ``keys`` resolved: this run dealt with those records again."""
        if not keys:
            return
        statement = (
            update(RunItem)
            .where(
                RunItem.tenant_id == run.tenant_id,
                RunItem.interface_id == run.interface_id,
                RunItem.object_name == object_name,
                RunItem.direction == direction,
                RunItem.status == ItemStatus.failed,
                RunItem.run_id != run.id,
                RunItem.source_key.in_(list(keys)),
            )
            .values(status=ItemStatus.resolved)
        )
        await self.session.execute(statement)

    async def for_run(self, run_id: uuid.UUID) -> Sequence[RunItem]:
        """Every item of ``run_id`` in the order written."""
        return await self.get_all(self.select().where(RunItem.run_id == run_id))
