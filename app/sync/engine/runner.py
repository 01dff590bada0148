"""``run_interface``: one sync run of an interface's mapping table, recorded as a ``SyncRun``.

Object mappings run in dependency order (companies before the contacts that
point at them); ``to_hubspot`` and ``both`` mappings first push the source's
changes, ``from_hubspot`` and ``both`` mappings then pull HubSpot's. The run row
is committed first (status ``running``) so its items can be committed batch by
batch; it ends ``succeeded``, ``warning`` (some items failed), ``failed`` (the
run could not proceed: a connector or HubSpot error that is not about one
record) or ``aborted`` (the process stopped it between batches, at shutdown or
when it lost the run's lease), with counts and the cursors before and after.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from app.connectors.base import Connector
from app.connectors.errors import ConnectorError
from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.errors import HubSpotError
from app.core.db import SessionFactory, session_scope
from app.core.heap import freeze_startup_heap
from app.models import SyncRun
from app.models.base import utcnow
from app.models.enums import RunStatus, RunTrigger
from app.sync.engine.counts import run_status
from app.sync.engine.from_hubspot import FromHubSpot
from app.sync.engine.recorder import error_category
from app.sync.engine.repository import CursorRepository
from app.sync.engine.state import RunContext, RunHooks, RunStopped
from app.sync.engine.to_hubspot import ToHubSpot
from app.sync.mapping.model import Direction, MappingTable

logger = logging.getLogger(__name__)


async def run_interface(
    *,
    table: MappingTable,
    connector: Connector[Any],
    hubspot: HubSpotClient,
    sessions: SessionFactory,
    tenant_id: uuid.UUID,
    interface_id: uuid.UUID,
    trigger: RunTrigger = RunTrigger.manual,
    dry_run: bool = False,
    mapping_version_id: uuid.UUID | None = None,
    triggered_by_id: uuid.UUID | None = None,
    hooks: RunHooks | None = None,
    suppression_keys: tuple[bytes, ...] = (),
) -> SyncRun:
    """Run every object mapping of ``table`` once and return the finished run record.

    Errors about single records become failed items; errors that stop the run
    (``ConnectorError``, ``HubSpotError`` such as an auth failure) end it
    ``failed`` with a summary. Anything else also marks the run failed, then
    propagates (a bug, or the process going down). ``suppression_keys`` check records
    against the privacy suppression list (``app.sync.privacy.suppressions``).
    """
    run = SyncRun(
        tenant_id=tenant_id,
        interface_id=interface_id,
        mapping_version_id=mapping_version_id,
        trigger=trigger,
        triggered_by_id=triggered_by_id,
        dry_run=dry_run,
        status=RunStatus.running,
    )
    freeze_startup_heap()  # a CLI run's process, or the first run of one that serves
    hooks = hooks or RunHooks()
    run.worker, run.planned_at = hooks.worker, hooks.planned_at
    context = RunContext(
        table, connector, hubspot, sessions, run, dry_run, hooks=hooks,
        suppression_keys=suppression_keys,
    )  # fmt: skip
    async with session_scope(sessions) as session:
        session.add(run)
        run.cursors_before = await _cursors(context, session)
    if hooks.on_started is not None:
        hooks.on_started(run)
    try:
        await _run_objects(context)
    except RunStopped:
        await _finish(context, None, stopped=True)
    except (ConnectorError, HubSpotError) as exc:
        await _finish(context, exc)
    except BaseException as exc:
        await _finish(context, exc)
        raise
    else:
        await _finish(context, None)
    return run


async def _run_objects(context: RunContext) -> None:
    for mapping in context.table.in_dependency_order():
        if mapping.direction.includes(Direction.to_hubspot):
            await ToHubSpot(context, mapping).run()
        if mapping.direction.includes(Direction.from_hubspot):
            await FromHubSpot(context, mapping).run()


async def _finish(
    context: RunContext, error: BaseException | None, *, stopped: bool = False
) -> None:
    run = context.run
    run.status = run_status(context.counts, could_not_proceed=error is not None)
    run.counts = context.counts.to_json()
    run.finished_at = utcnow()
    if stopped:
        run.status = RunStatus.aborted
        run.error_summary = "stopped after the last committed batch; the next run resumes there"
    if error is not None:
        run.error_summary = f"{type(error).__name__}: {error}"[:2000]
        run.error_category = error_category(error)
        logger.warning("sync run %s failed: %s", run.id, run.error_summary)
    async with session_scope(context.sessions) as session:
        run.cursors_after = await _cursors(context, session)
        await session.merge(run)


async def _cursors(context: RunContext, session: Any) -> dict[str, Any]:
    return await CursorRepository.scoped(session, context.scope).all_values(context.interface_id)
