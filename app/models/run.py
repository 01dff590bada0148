"""Sync runs and the per-record tasks behind them: history and error log are these rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, validates

from app.models.base import Base, TenantOwned, str_enum, utcnow
from app.models.enums import (
    ErrorCategory,
    ItemAction,
    ItemStatus,
    RunStatus,
    RunTrigger,
    SyncDirection,
)

WRITTEN = ("created", "updated", "deleted")  # the outcomes that count as records synced
# Only failed items (and resolved ones, which keep it) carry a cause: indexes that serve the
# error log alone are partial on it, so the many succeeded items never maintain them. SQLite
# uses such an index only for a query whose WHERE repeats the term literally.
HAS_CAUSE = "error_cause IS NOT NULL"


def records_written(counts: dict[str, Any]) -> int:
    """Records created, updated or deleted according to a run's counts (per object, outcome)."""
    return sum(int(per.get(k) or 0) for per in counts.values() for k in WRITTEN)


class SyncRun(TenantOwned, Base):
    """One execution of an interface with its counts, cursors and error summary."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        Index("ix_sync_runs_tenant_started", "tenant_id", "started_at"),
        Index("ix_sync_runs_interface_started", "interface_id", "started_at"),
        Index("ix_sync_runs_status_started", "status", "started_at"),
        Index("ix_sync_runs_started_id", "started_at", "id"),
    )

    interface_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"))
    mapping_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("mapping_versions.id", ondelete="SET NULL")
    )
    trigger: Mapped[RunTrigger] = mapped_column(str_enum(RunTrigger))
    triggered_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[RunStatus] = mapped_column(str_enum(RunStatus), default=RunStatus.running)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    synced: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # from counts
    cursors_before: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cursors_after: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_summary: Mapped[str | None] = mapped_column(Text)
    error_category: Mapped[ErrorCategory | None] = mapped_column(str_enum(ErrorCategory))
    worker: Mapped[str | None] = mapped_column(String(100))  # the process running it (lease holder)
    planned_at: Mapped[datetime | None]  # when the schedule wanted it to start (queue delay)

    @validates("counts")
    def _count_written(self, _key: str, counts: dict[str, Any]) -> dict[str, Any]:
        """Keep ``synced`` in step with the counts: the Übersicht sums it, never the JSON."""
        self.synced = records_written(counts or {})
        return counts


class RunItem(TenantOwned, Base):
    """One record's task in a run, with the payload that was (or should have been) sent."""

    tenant_indexed = False  # queried by run or interface, never by tenant alone

    __tablename__ = "run_items"
    __table_args__ = (
        Index("ix_run_items_run_object_action", "run_id", "object_name", "action"),
        Index("ix_run_items_tenant_status_created", "tenant_id", "status", "created_at"),
        Index("ix_run_items_interface_object_key", "interface_id", "object_name", "source_key"),
        Index("ix_run_items_run_created", "run_id", "created_at", "id"),
        Index(  # the error log: causes grouped, and one cause's records newest first
            "ix_run_items_status_cause",
            "status",
            "interface_id",
            "object_name",
            "error_category",
            "http_status",
            "error_cause",
            "created_at",
            sqlite_where=HAS_CAUSE,
            postgresql_where=HAS_CAUSE,
        ),
    )

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"))
    interface_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("interfaces.id", ondelete="CASCADE"))
    object_name: Mapped[str] = mapped_column(String(100))
    direction: Mapped[SyncDirection] = mapped_column(str_enum(SyncDirection))
    action: Mapped[ItemAction] = mapped_column(str_enum(ItemAction))
    status: Mapped[ItemStatus] = mapped_column(str_enum(ItemStatus))
    source_key: Mapped[str | None] = mapped_column(String(255))
    hubspot_id: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_category: Mapped[ErrorCategory | None] = mapped_column(str_enum(ErrorCategory))
    error_cause: Mapped[str | None] = mapped_column(String(32))  # a failure's cause digest
    http_status: Mapped[int | None] = mapped_column(Integer)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
