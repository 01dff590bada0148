"""What a run writes about itself: counts for everything, item rows for what changed or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.errors import ConnectorAuthError, ConnectorConfigError, ConnectorError
from app.connectors.hubspot.batch import BatchFailure
from app.connectors.hubspot.errors import FailureType, HubSpotError
from app.models import RunItem, SyncRun
from app.models.base import utcnow
from app.models.enums import ErrorCategory, ItemAction, ItemStatus, SyncDirection
from app.sync.engine.bulk import insert_rows
from app.sync.engine.counts import Outcome, RunCounts
from app.sync.engine.ids import uuid7
from app.sync.error_groups import cause_digest

_CATEGORY = {
    FailureType.CONFIG: ErrorCategory.config,
    FailureType.TRANSIENT: ErrorCategory.transient,
    FailureType.DATA: ErrorCategory.data,
    FailureType.SYSTEM: ErrorCategory.system,
}


@dataclass(frozen=True, slots=True)
class ItemError:
    """Why a record's task failed (or was skipped), as stored on its item."""

    message: str
    category: ErrorCategory = ErrorCategory.data
    http_status: int | None = None
    correlation_id: str | None = None

    @classmethod
    def from_batch(cls, failure: BatchFailure[Any]) -> ItemError:
        """HubSpot's per-input failure of a batch call."""
        category = ErrorCategory.data
        if failure.status in (401, 403):
            category = ErrorCategory.config
        elif failure.status is not None and (failure.status == 429 or failure.status >= 500):
            category = ErrorCategory.transient
        message = f"{failure.category}: {failure.message}" if failure.category else failure.message
        return cls(message, category, failure.status, failure.correlation_id)


def error_category(exc: BaseException) -> ErrorCategory:
    """Who can fix an error that stopped a run."""
    if isinstance(exc, HubSpotError):
        return _CATEGORY[exc.failure_type]
    if isinstance(exc, ConnectorAuthError | ConnectorConfigError):
        return ErrorCategory.config
    if isinstance(exc, ConnectorError):
        return ErrorCategory.transient
    return ErrorCategory.system


@dataclass(slots=True)
class Recorder:
    """Counts one object mapping's records and collects the item rows of the current batch."""

    run: SyncRun
    object_name: str
    direction: SyncDirection
    counts: RunCounts
    pending: list[dict[str, Any]] = field(default_factory=list)  # run_items rows, not yet written

    def __post_init__(self) -> None:
        self.counts.add(self.object_name, Outcome.unchanged, 0)  # every object shows, even idle

    def count(self, outcome: Outcome, n: int = 1) -> None:
        """Count records that get no item row (unchanged, skipped echoes)."""
        if n:
            self.counts.add(self.object_name, outcome, n)

    def item(
        self,
        action: ItemAction,
        key: str | None,
        *,
        hubspot_id: str | None = None,
        payload: dict[str, Any] | None = None,
        error: ItemError | None = None,
        failed: bool = False,
    ) -> None:
        """Count one record's task and keep its item row for the batch's commit."""
        status = ItemStatus.failed if failed else ItemStatus.succeeded
        self.counts.add_item(self.object_name, action, status)
        self.pending.append(
            {
                "id": uuid7(),
                "tenant_id": self.run.tenant_id,
                "run_id": self.run.id,
                "interface_id": self.run.interface_id,
                "object_name": self.object_name,
                "direction": self.direction,
                "action": action,
                "status": status,
                "source_key": key[:255] if key else None,
                "hubspot_id": hubspot_id,
                "payload": payload,
                "error_message": error.message if error else None,
                "error_category": error.category if error and failed else None,
                "error_cause": cause_digest(error.message if error else None) if failed else None,
                "http_status": error.http_status if error else None,
                "correlation_id": error.correlation_id if error else None,
            }
        )

    def take(self) -> list[dict[str, Any]]:
        """The batch's item rows, stamped with one ``created_at``; the recorder starts empty.

        One moment per batch (its commit's), which the bulk insert converts once
        instead of once per row.
        """
        rows, self.pending = self.pending, []
        written_at = utcnow()
        for row in rows:
            row["created_at"] = written_at
        return rows

    async def write(self, session: AsyncSession) -> None:
        """Insert the batch's item rows in one statement."""
        if self.pending:
            await insert_rows(session, RunItem.metadata.tables[RunItem.__tablename__], self.take())
