"""What hubsync remembers of the demo's systems: record links and read cursors, forgotten on demand.

When the demo ERP or the sandbox portal is created anew (its file was
deleted, or ``HUBSYNC_VAR_DIR`` points somewhere new while the database
stays), hubsync's links would name HubSpot records that no longer exist and
its cursors would skip the new rows; forgetting both makes the next run start
over, matching records by their unique properties again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import delete

from app.core.repository import TenantRepository
from app.models import Cursor, RecordLink


class SyncStateRepository(TenantRepository[RecordLink]):
    """Record links and cursors of whole interfaces, in one tenant scope."""

    model = RecordLink

    async def forget(self, interface_ids: Collection[uuid.UUID]) -> None:
        """Delete every link and cursor of ``interface_ids``."""
        for model in (RecordLink, Cursor):
            statement = delete(model).where(model.interface_id.in_(list(interface_ids)))
            if self.scope.tenant_id is not None:
                statement = statement.where(model.tenant_id == self.scope.tenant_id)
            await self.session.execute(statement)
