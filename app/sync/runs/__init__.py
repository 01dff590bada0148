"""Sync history and error log: runs, their tasks and open failures, in the actor's scope.

Lists page by keyset (``started_at``/``created_at`` plus id), never by offset,
and read only what a page shows: ``history`` (runs), ``tasks`` (a run's
records, 100 at a time), ``failures`` (the error log: causes grouped in SQL,
blockers) and ``keyset`` (the paging they share).
"""

from app.sync.keyset import Cursor, Page
from app.sync.runs.causes import FailureFilter
from app.sync.runs.failures import (
    Blocker,
    GroupListing,
    get_error_group,
    group_item_ids,
    list_blockers,
    list_error_groups,
    page_group_items,
)
from app.sync.runs.history import (
    RunDetail,
    RunFilter,
    get_run,
    get_runs,
    list_runs,
    page_runs,
    run_detail,
    run_mappings,
)
from app.sync.runs.tasks import (
    ItemFilter,
    get_item,
    list_open_failures,
    list_run_items,
    page_run_items,
)

__all__ = [
    "Blocker",
    "Cursor",
    "FailureFilter",
    "GroupListing",
    "ItemFilter",
    "Page",
    "RunDetail",
    "RunFilter",
    "get_error_group",
    "get_item",
    "get_run",
    "get_runs",
    "group_item_ids",
    "list_blockers",
    "list_error_groups",
    "list_open_failures",
    "list_run_items",
    "list_runs",
    "page_group_items",
    "page_run_items",
    "page_runs",
    "run_detail",
    "run_mappings",
]
