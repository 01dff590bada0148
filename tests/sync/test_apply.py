"""``interface apply``: everything a file describes, created once, then left alone."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import Forbidden, InvalidInput, NotFound
from app.models import AuditEntry, Connection, Interface, MappingVersion
from app.models.enums import ConnectionKind, InterfaceState
from app.sync.apply import ApplyResult, Outcome, apply_interface_file
from app.sync.connections import open_connection_secrets
from app.web import WebState
from tests.factories import MAPPING_YAML, World
from tests.security.test_secrets_at_rest import dump_database

OPERATOR = Actor.system("cli")
CANARY_PW = "canary-erp-pw-5d1e"
CANARY_TOKEN = "canary-pat-9b2f"
ENV = {"ERP_PASSWORD": CANARY_PW, "HUBSPOT_TOKEN": CANARY_TOKEN}


def interface_file(
    *, interval: int = 15, mapping: str = MAPPING_YAML, tenant: str = "tenant-a"
) -> str:
    body = "".join(f"  {line}\n" for line in mapping.splitlines())
    return (
        f"tenant: {tenant}\nname: erp-sync\ninterval_minutes: {interval}\n"
        "source:\n  connector: sql\n"
        "  config: {url: 'postgresql://erp:${ERP_PASSWORD}@db.example.com/erp', batch_size: 500}\n"
        "hubspot:\n  base_url: http://127.0.0.1:8100\n  access_token: ${HUBSPOT_TOKEN}\n"
        "mapping:\n" + body
    )


async def apply(db: AsyncSession, web: WebState, text: str, actor: Actor = OPERATOR) -> ApplyResult:
    return await apply_interface_file(
        db, actor=actor, box=web.secret_box, text=text, environ=ENV, source_name="erp.yaml"
    )


async def count(db: AsyncSession, model: type) -> int:
    return (await db.execute(select(func.count()).select_from(model))).scalar_one()


async def test_apply_creates_everything(db: AsyncSession, world: World, web: WebState) -> None:
    result = await apply_interface_file(
        db, actor=OPERATOR, box=web.secret_box, text=interface_file(), environ=ENV
    )
    assert [(c.kind, c.name, c.outcome) for c in result.changes] == [
        ("connection", "erp-sync-source", Outcome.created),
        ("connection", "erp-sync-hubspot", Outcome.created),
        ("interface", "erp-sync", Outcome.created),
        ("mapping version", "erp-sync v1", Outcome.created),
    ]
    interface = result.interface
    assert interface.tenant_id == world.a.tenant.id
    assert interface.state == InterfaceState.draft
    assert result.version.number == 1
    assert result.version.approved_at is None
    source = await db.get(Connection, interface.source_connection_id)
    hubspot = await db.get(Connection, interface.hubspot_connection_id)
    assert source is not None
    assert hubspot is not None
    assert (source.kind, source.connector) == (ConnectionKind.source, "sql")
    assert source.config == {"batch_size": 500}
    assert open_connection_secrets(source, web.secret_box) == {
        "url": f"postgresql://erp:{CANARY_PW}@db.example.com/erp"
    }
    assert hubspot.config == {"base_url": "http://127.0.0.1:8100"}
    assert open_connection_secrets(hubspot, web.secret_box) == {"access_token": CANARY_TOKEN}


async def test_secrets_are_stored_only_encrypted(
    db: AsyncSession, world: World, web: WebState
) -> None:
    await apply(db, web, interface_file())
    await db.commit()
    dump = await dump_database(db, web.settings.database_url)
    assert CANARY_PW not in dump
    assert CANARY_TOKEN not in dump


async def test_applying_twice_changes_nothing(
    db: AsyncSession, world: World, web: WebState
) -> None:
    await apply(db, web, interface_file())
    await db.flush()
    before = [await count(db, m) for m in (Connection, Interface, MappingVersion, AuditEntry)]
    again = await apply_interface_file(
        db, actor=OPERATOR, box=web.secret_box, text=interface_file(), environ=ENV
    )
    await db.flush()
    assert {c.outcome for c in again.changes} == {Outcome.unchanged}
    assert not again.changed
    after = [await count(db, m) for m in (Connection, Interface, MappingVersion, AuditEntry)]
    assert after == before


async def test_a_changed_mapping_makes_version_two(
    db: AsyncSession, world: World, web: WebState
) -> None:
    await apply(db, web, interface_file())
    changed = MAPPING_YAML + "      - {source: city, hubspot: city}\n"
    result = await apply_interface_file(
        db, actor=OPERATOR, box=web.secret_box, text=interface_file(mapping=changed), environ=ENV
    )
    assert result.version.number == 2
    assert [c.outcome for c in result.changes] == [Outcome.unchanged] * 3 + [Outcome.created]


async def test_changed_interval_and_secret_are_updates(
    db: AsyncSession, world: World, web: WebState
) -> None:
    await apply(db, web, interface_file())
    result = await apply_interface_file(
        db, actor=OPERATOR, box=web.secret_box, text=interface_file(interval=30),
        environ={**ENV, "HUBSPOT_TOKEN": "rotated"},
    )  # fmt: skip
    outcomes = {c.name: c.outcome for c in result.changes}
    assert outcomes["erp-sync-hubspot"] == Outcome.updated
    assert outcomes["erp-sync"] == Outcome.updated
    assert outcomes["erp-sync-source"] == Outcome.unchanged
    assert result.interface.interval_minutes == 30


@pytest.mark.parametrize("interval", [9, 46])
async def test_interval_out_of_range_names_the_range(
    db: AsyncSession, world: World, web: WebState, interval: int
) -> None:
    with pytest.raises(InvalidInput, match="between 10 and 45"):
        await apply(db, web, interface_file(interval=interval))
    assert await count(db, Connection) == 4


async def test_unknown_tenant_is_refused(db: AsyncSession, world: World, web: WebState) -> None:
    with pytest.raises(NotFound, match="tenant 'nobody' not found"):
        await apply(db, web, interface_file(tenant="nobody"))


async def test_only_operators_apply(db: AsyncSession, world: World, web: WebState) -> None:
    admin = Actor(role=world.a.admin.role, tenant_id=world.a.tenant.id, user_id=world.a.admin.id)
    with pytest.raises(Forbidden):
        await apply(db, web, interface_file(), actor=admin)


async def test_bad_connector_settings_are_refused_without_the_secret(
    db: AsyncSession, world: World, web: WebState
) -> None:
    text = interface_file().replace("batch_size: 500", "batch_size: 0")
    with pytest.raises(InvalidInput, match=r"source\.config\.batch_size") as caught:
        await apply(db, web, text)
    assert CANARY_PW not in caught.value.message
    with pytest.raises(InvalidInput, match="unknown connector"):
        await apply(db, web, interface_file().replace("connector: sql", "connector: nope"))


async def test_an_existing_hubspot_connection_by_name(
    db: AsyncSession, world: World, web: WebState
) -> None:
    text = interface_file().replace(
        "  base_url: http://127.0.0.1:8100\n  access_token: ${HUBSPOT_TOKEN}\n",
        "  connection: hubspot\n",
    )
    result = await apply(db, web, text)
    assert result.interface.hubspot_connection_id == world.a.hubspot.id
    with pytest.raises(NotFound, match="no HubSpot connection named 'erp'"):
        await apply(db, web, text.replace("connection: hubspot", "connection: erp"))
