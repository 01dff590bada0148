"""The symmetric direction: a retry of a HubSpot → ERP failure applies HubSpot's record as it is
now (read again by id), not as it was when the ERP refused it."""

from __future__ import annotations

from sqlalchemy import text

from app.models.enums import ItemStatus, RunStatus
from app.sync.engine.state import RunHooks, Selection
from tests.sync.engine.pg_kit import PgRunner
from tests.sync.engine.test_e2e_postgres import (
    e2e,
    items,
    live,
    pg_erp,
    pg_url,
    rename_in_hubspot,
    synced,
)

__all__ = ["e2e", "live", "pg_erp", "pg_url"]  # the PostgreSQL ERP and the live portal


async def test_a_retry_on_request_applies_the_hubspot_record_as_it_is_now(e2e: PgRunner) -> None:
    await synced(e2e)
    with e2e.erp.engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE companies ADD CONSTRAINT short CHECK (length(name) < 20)")
        )
    await rename_in_hubspot(e2e, "C2", "Globex International Holdings")
    refused = await e2e.run()
    assert refused.status == RunStatus.warning
    await rename_in_hubspot(e2e, "C2", "Globex Intl")  # corrected in HubSpot since
    chosen = Selection(source_keys={"companies": frozenset({"C2"})})
    retry = await e2e.run(RunHooks(only=chosen))
    assert retry.status == RunStatus.succeeded, retry.error_summary
    assert e2e.erp.row("companies", "C2")["name"] == "Globex Intl"
    statuses = {i.source_key: i.status for i in await items(e2e, refused.id) if i.error_message}
    assert statuses == {"C2": ItemStatus.resolved}
