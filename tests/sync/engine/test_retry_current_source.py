"""A retry sends the record as it is in the source now, never the copy kept with the failure.

Failed records are read again by key (``read_keys``) — on the next run for the
failures it did not read anyway, on request for the chosen ones — mapped with
the current mapping and sent; a record gone from the source since is settled
by the deletion policy instead of being sent from the stale copy.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete

from app.models import SyncRun
from app.models.enums import ItemStatus, RunStatus
from app.sync.engine.state import RunHooks, Selection
from tests.sync.engine.runner_kit import TABLES, Erp, Runner
from tests.sync.engine.test_runner_to_hubspot import _archiving, by_erp_id, items, seed


def correct(erp: Erp, name: str, key: str, **values: Any) -> None:
    """Change a row without touching its change cursor, as a fix by hand in the ERP does:
    only a retry by key can see it."""
    target = TABLES[name]
    with erp.engine.begin() as connection:
        connection.execute(target.update().where(target.c.id == key).values(values))


def erase(erp: Erp, name: str, key: str) -> None:
    """Delete a row outright (no soft delete: no read reports it)."""
    target = TABLES[name]
    with erp.engine.begin() as connection:
        connection.execute(delete(target).where(target.c.id == key))


def only(name: str, *keys: str) -> RunHooks:
    """A retry on request of ``keys`` of one object mapping."""
    return RunHooks(only=Selection(source_keys={name: frozenset(keys)}))


async def statuses(runner: Runner, run: SyncRun) -> dict[str, ItemStatus]:
    """The status of each failed-or-settled item of ``run``, by source key."""
    return {str(i.source_key): i.status for i in await items(runner, run) if i.error_message}


async def contacts(runner: Runner) -> dict[str, dict[str, str | None]]:
    """HubSpot's contacts by e-mail."""
    found = await runner.portal.records("contacts", "email", "firstname", "hs_lead_status")
    return {str(r.properties["email"]): r.properties for r in found}


async def test_a_retry_on_request_sends_the_corrected_record(runner: Runner) -> None:
    seed(runner.erp)
    runner.erp.put("contacts", id="P2", lead_status="BOGUS")
    failing = await runner.run()
    assert failing.counts["contacts"]["failed"] == 1
    runner.erp.put("contacts", id="P2", lead_status="NEW", first_name="Robert")
    retry = await runner.run(hooks=only("contacts", "P2"))
    assert retry.status == RunStatus.succeeded, retry.error_summary
    assert retry.counts["contacts"]["created"] == 1
    bob = (await contacts(runner))["bob@acme.example"]
    assert (bob["hs_lead_status"], bob["firstname"]) == ("NEW", "Robert")
    assert retry.cursors_after == retry.cursors_before  # nothing else was read
    assert await statuses(runner, failing) == {"P2": ItemStatus.resolved}


async def test_the_next_run_retries_with_the_record_as_it_is_now(runner: Runner) -> None:
    seed(runner.erp)
    runner.erp.put("companies", id="C3", name="Initech", employees="many")
    failing = await runner.run()
    assert failing.counts["companies"]["failed"] == 1
    correct(runner.erp, "companies", "C3", employees="250")
    following = await runner.run()
    assert following.status == RunStatus.succeeded, following.error_summary
    assert following.counts["companies"]["created"] == 1
    assert (await by_erp_id(runner))["C3"]["numberofemployees"] == "250"
    assert await statuses(runner, failing) == {"C3": ItemStatus.resolved}


async def test_a_record_deleted_before_a_retry_on_request_is_not_sent(runner: Runner) -> None:
    seed(runner.erp)
    runner.erp.put("contacts", id="P2", lead_status="BOGUS")
    failing = await runner.run()
    runner.erp.remove("contacts", "P2")
    retry = await runner.run(hooks=only("contacts", "P2"))
    assert retry.status == RunStatus.succeeded, retry.error_summary
    assert retry.counts["contacts"].get("created", 0) == 0
    assert "bob@acme.example" not in await contacts(runner)
    assert await statuses(runner, failing) == {"P2": ItemStatus.resolved}
    assert await statuses(runner, retry) == {}  # settled, not failed again


async def test_a_failed_update_of_a_row_deleted_since_follows_the_policy(runner: Runner) -> None:
    runner.mapping = runner.mapping.model_copy(
        update={"objects": [runner.mapping.mapping("contacts"), _archiving(runner)]}
    )
    seed(runner.erp)
    await runner.run()
    runner.erp.put("companies", id="C2", employees="many")
    failing = await runner.run()
    assert failing.counts["companies"]["failed"] == 1
    erase(runner.erp, "companies", "C2")
    following = await runner.run()
    assert following.status == RunStatus.succeeded, following.error_summary
    assert following.counts["companies"]["deleted"] == 1
    assert set(await by_erp_id(runner)) == {"C1"}
    assert await statuses(runner, failing) == {"C2": ItemStatus.resolved}
