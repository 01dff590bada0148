"""Seeding the demo: accounts, connections, interfaces and approved versions, once each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.demo import DemoConfig, prepare_systems, seed_demo
from app.demo.accounts import OPERATOR_EMAIL
from app.demo.config import SANDBOX_PREFIX
from app.models import (
    AuditEntry,
    Connection,
    Cursor,
    Interface,
    MappingVersion,
    RecordLink,
    Tenant,
    User,
)
from app.models.enums import ConnectionKind, InterfaceState, SyncDirection
from app.sync.connections import open_connection_secrets
from app.web import WebState


async def rows(db: AsyncSession, model: Any) -> int:
    return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def seed(db: AsyncSession, web: WebState, config: DemoConfig, *, fresh: bool) -> None:
    await seed_demo(db, box=web.secret_box, config=config, fresh=fresh)
    await db.commit()


class TestPrepareSystems:
    def test_a_new_erp_or_portal_is_fresh(self, tmp_path: Path) -> None:
        config = DemoConfig(var_dir=tmp_path, companies=3)
        assert prepare_systems(config) is True
        assert config.erp_path.exists()
        assert prepare_systems(config) is True  # the portal's file appears with the app
        config.sandbox_path.touch()
        assert prepare_systems(config) is False


class TestSeedDemo:
    async def test_seeding_twice_creates_nothing_twice(
        self, db: AsyncSession, web: WebState, tmp_path: Path
    ) -> None:
        first = DemoConfig(var_dir=tmp_path, port=8001)
        await seed(db, web, first, fresh=True)
        counts = {m: await rows(db, m) for m in (Tenant, User, Connection, Interface,
                                                 MappingVersion)}  # fmt: skip
        assert counts == {Tenant: 1, User: 2, Connection: 3, Interface: 2, MappingVersion: 2}
        second = DemoConfig(var_dir=tmp_path, port=8002)
        await seed(db, web, second, fresh=False)
        assert {m: await rows(db, m) for m in counts} == counts
        hubspot = (
            await db.execute(select(Connection).where(Connection.kind == ConnectionKind.hubspot))
        ).scalar_one()
        await db.refresh(hubspot)
        assert hubspot.config["base_url"] == f"http://127.0.0.1:8002{SANDBOX_PREFIX}"
        assert open_connection_secrets(hubspot, web.secret_box) == {"access_token": second.token}

    async def test_versions_are_approved_by_the_demo_operator(
        self, db: AsyncSession, web: WebState, tmp_path: Path
    ) -> None:
        await seed(db, web, DemoConfig(var_dir=tmp_path), fresh=True)
        operator = (await db.execute(select(User).where(User.email == OPERATOR_EMAIL))).scalar_one()
        interfaces = (await db.execute(select(Interface).order_by(Interface.name))).scalars().all()
        assert [(i.name, i.interval_minutes) for i in interfaces] == [
            ("erp-auftraege-deals", 15),
            ("erp-firmen-kontakte", 10),
        ]
        versions = (await db.execute(select(MappingVersion))).scalars().all()
        assert {v.id for v in versions} == {i.active_mapping_version_id for i in interfaces}
        assert {v.approved_by_id for v in versions} == {operator.id}

    async def test_secrets_are_stored_encrypted(
        self, db: AsyncSession, web: WebState, tmp_path: Path
    ) -> None:
        config = DemoConfig(var_dir=tmp_path)
        await seed(db, web, config, fresh=True)
        for connection in (await db.execute(select(Connection))).scalars():
            assert connection.secrets_encrypted is not None
            assert config.token not in str(connection.config)
            assert "sqlite" not in str(connection.config)

    async def test_fresh_systems_make_hubsync_start_over(
        self, db: AsyncSession, web: WebState, tmp_path: Path
    ) -> None:
        config = DemoConfig(var_dir=tmp_path)
        await seed(db, web, config, fresh=True)
        interface = (await db.execute(select(Interface).limit(1))).scalar_one()
        interface.state = InterfaceState.active
        db.add(
            RecordLink(
                tenant_id=interface.tenant_id,
                interface_id=interface.id,
                object_name="companies",
                source_key="10001",
                hubspot_id="101",
            )
        )
        db.add(Cursor(tenant_id=interface.tenant_id, interface_id=interface.id,
                      object_name="companies", direction=SyncDirection.to_hubspot,
                      value={"updated_at": "2026-01-01T00:00:00+00:00"}))  # fmt: skip
        await db.commit()
        await seed(db, web, config, fresh=False)
        assert (await rows(db, RecordLink), await rows(db, Cursor)) == (1, 1)
        await seed(db, web, config, fresh=True)
        assert (await rows(db, RecordLink), await rows(db, Cursor)) == (0, 0)
        await db.refresh(interface)
        assert interface.state == InterfaceState.paused
        audit = select(AuditEntry).where(AuditEntry.action == "interface.pause")
        assert (await db.execute(audit)).scalars().first() is not None
