"""The Übersicht and the interface pages: ``overview`` (health and runs of the
interfaces, a page at a time), ``activity`` (records written per hour) and
``dry_runs`` (previews started in the background)."""

from app.sync.dashboard.activity import Activity
from app.sync.dashboard.dry_runs import (
    PREVIEW_ROWS,
    DryRunReport,
    drain_dry_runs,
    dry_run_report,
    interface_run,
    latest_dry_run,
    start_dry_run,
)
from app.sync.dashboard.overview import (
    STATUS_FILTERS,
    Board,
    BoardFilter,
    Flow,
    InterfaceOverview,
    Lateness,
    board,
    interface_overview,
    outcome_totals,
    overview,
    run_progress,
    user_emails,
)

__all__ = [
    "PREVIEW_ROWS",
    "STATUS_FILTERS",
    "Activity",
    "Board",
    "BoardFilter",
    "DryRunReport",
    "Flow",
    "InterfaceOverview",
    "Lateness",
    "board",
    "drain_dry_runs",
    "dry_run_report",
    "interface_overview",
    "interface_run",
    "latest_dry_run",
    "outcome_totals",
    "overview",
    "run_progress",
    "start_dry_run",
    "user_emails",
]
