"""A run killed at each stage: the next run converges to one correct record per source record.

The kill is a ``BaseException`` raised from a patched engine function, as the
process going down would interrupt it; the engine must neither lose nor
duplicate anything whichever side was written before the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from app.connectors.hubspot.objects import ObjectsApi, RecordInput
from app.connectors.sql import SqlConnector
from app.models import SyncRun
from app.models.enums import RunStatus
from app.sync.engine import runner as runner_module
from app.sync.engine import to_hubspot
from app.sync.engine.from_hubspot import FromHubSpot
from app.sync.engine.to_hubspot import ToHubSpot
from app.sync.mapping.model import ObjectMapping
from tests.sync.engine.runner_kit import Erp, Runner, table

NAMES = {"C1": "Acme", "C2": "Globex", "C3": "Initech"}
WORKS_AT = {"ann@acme.example": "C1", "bob@acme.example": "C1", "cy@globex.example": "C2"}


class Killed(BaseException):
    """The process going down mid-run (not an ``Exception``: nothing may swallow it)."""


@dataclass(frozen=True)
class Stage:
    """Where to kill a run: a patched attribute, before or after the real call, and on what."""

    target: Any
    name: str
    after: bool
    mapping: str
    nth: int = 1  # kill on the n-th matching call (2: the first batch got through)
    edit_in_hubspot: bool = False  # the killed run has a HubSpot change to carry to the ERP


def _mapping_of(args: tuple[Any, ...]) -> str:
    """The object mapping a patched call works on (a pipeline's ``self`` or its arguments)."""
    for arg in args:
        if isinstance(arg, str):
            return arg  # SqlConnector.write(object_name, ...), ObjectsApi.batch_upsert(type, ...)
        found = getattr(arg, "mapping", None) or arg
        if isinstance(found, ObjectMapping):
            return found.name
    return ""


def kill_at(monkeypatch: pytest.MonkeyPatch, stage: Stage) -> None:
    """Patch ``stage`` so that its n-th call on the stage's mapping raises ``Killed``."""
    real: Callable[..., Any] = getattr(stage.target, stage.name)
    calls = 0

    async def dying(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        if _mapping_of(args) == stage.mapping:
            calls += 1
        if calls != stage.nth or _mapping_of(args) != stage.mapping:
            return await real(*args, **kwargs)
        if stage.after:
            await real(*args, **kwargs)
        raise Killed(f"{stage.name} of {stage.mapping}")

    monkeypatch.setattr(stage.target, stage.name, dying)


STAGES = {
    "read-before-any-write": Stage(ToHubSpot, "_batch", after=False, mapping="companies"),
    "second-batch-read": Stage(ToHubSpot, "_batch", after=False, mapping="companies", nth=2),
    "company-upsert-before-commit": Stage(ObjectsApi, "batch_upsert", after=True,
                                          mapping="companies"),
    "contact-upsert-before-associations": Stage(to_hubspot, "upsert", after=True,
                                                mapping="contacts"),
    "associations-before-commit": Stage(to_hubspot, "associate", after=True, mapping="contacts"),
    "between-objects": Stage(ToHubSpot, "run", after=False, mapping="contacts"),
    "hubspot-read-before-erp-write": Stage(FromHubSpot, "_batch", after=False,
                                           mapping="companies", edit_in_hubspot=True),
    "erp-write-before-commit": Stage(SqlConnector, "write", after=True, mapping="companies",
                                     edit_in_hubspot=True),
}  # fmt: skip


def seed(erp: Erp) -> None:
    """Three companies (two read batches) and three contacts at two of them."""
    for key, name in NAMES.items():
        erp.put("companies", id=key, name=name, domain=f"{name.lower()}.example")
    for email, company in WORKS_AT.items():
        erp.put("contacts", id=email[:3], email=email, first_name=email[:3], company_id=company)


async def edit_company(runner: Runner, erp_id: str, name: str) -> None:
    """Change one company's name in HubSpot as a user would."""
    record = RecordInput({"name": name}, id=erp_id, id_property="erp_id")
    assert (await runner.portal.client.objects.batch_update("companies", [record])).ok


async def runs(runner: Runner, *, besides: Collection[uuid.UUID] = ()) -> list[SyncRun]:
    """The interface's runs other than ``besides`` (ids), oldest first."""
    async with runner.sessions() as session:
        query = select(SyncRun).where(SyncRun.interface_id == runner.interface_id)
        found = (await session.scalars(query.order_by(SyncRun.started_at))).all()
    return [run for run in found if run.id not in besides]


async def assert_converged(runner: Runner, names: dict[str, str]) -> None:
    """HubSpot and the ERP hold one correct record per source record, associations included."""
    companies = await runner.portal.records("companies", "erp_id", "name")
    assert sorted(str(c.properties["erp_id"]) for c in companies) == sorted(names)
    assert {str(c.properties["erp_id"]): c.properties["name"] for c in companies} == names
    contacts = await runner.portal.records("contacts", "email")
    assert sorted(str(c.properties["email"]) for c in contacts) == sorted(WORKS_AT)
    company_of = {c.id: str(c.properties["erp_id"]) for c in companies}
    linked = await runner.portal.client.associations.read(
        "contacts", "companies", [c.id for c in contacts]
    )
    email_of = {c.id: str(c.properties["email"]) for c in contacts}
    found = {
        email_of[s.input]: [company_of[a.to_object_id] for a in s.result] for s in linked.succeeded
    }
    assert found == {email: [company] for email, company in WORKS_AT.items()}
    for key, name in names.items():
        assert runner.erp.row("companies", key)["name"] == name


@pytest.mark.parametrize("stage", list(STAGES))
async def test_a_run_killed_at_a_stage_is_completed_by_the_next(
    runner: Runner, monkeypatch: pytest.MonkeyPatch, stage: str
) -> None:
    runner.mapping = table(direction="both")
    seed(runner.erp)
    expected = dict(NAMES)
    if STAGES[stage].edit_in_hubspot:
        assert (await runner.run()).status == RunStatus.succeeded
        await edit_company(runner, "C2", "Globex (HubSpot)")
        expected["C2"] = "Globex (HubSpot)"
    before = {run.id for run in await runs(runner)}
    kill_at(monkeypatch, STAGES[stage])
    with pytest.raises(Killed):
        await runner.run()
    monkeypatch.undo()
    (crashed,) = await runs(runner, besides=before)
    assert crashed.status == RunStatus.failed
    assert (crashed.error_summary or "").startswith("Killed:")
    resumed = await runner.run()
    assert resumed.status == RunStatus.succeeded, resumed.error_summary
    await assert_converged(runner, expected)
    quiet = await runner.run()
    assert quiet.status == RunStatus.succeeded
    assert runner.portal.transport.writes() == 0


async def test_a_hard_kill_leaves_the_run_row_running(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No code runs after SIGKILL: the row stays ``running`` until a lease expires it (later)."""
    seed(runner.erp)
    real_finish = runner_module._finish

    async def finish_unless_killed(context: Any, error: BaseException | None) -> None:
        if isinstance(error, Killed):
            return  # the process is gone: nothing records the end of the run
        await real_finish(context, error)

    monkeypatch.setattr(runner_module, "_finish", finish_unless_killed)
    before = {run.id for run in await runs(runner)}
    kill_at(monkeypatch, STAGES["between-objects"])
    with pytest.raises(Killed):
        await runner.run()
    monkeypatch.undo()
    (crashed,) = await runs(runner, besides=before)
    assert crashed.status == RunStatus.running
    assert crashed.finished_at is None
    resumed = await runner.run()
    assert resumed.status == RunStatus.succeeded, resumed.error_summary
    await assert_converged(runner, NAMES)
