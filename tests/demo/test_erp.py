"""The demo ERP file: built once, read by the sql connector, changed with change stamps."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from app.connectors.base import FieldType
from app.connectors.sql import SqlConnector
from app.demo.config import DemoConfig
from app.demo.erp import CONTACTS, CUSTOMERS, ORDERS, Erp, build_erp
from app.demo.provision import DEMO_INTERFACES, demo_environ, interface_file
from app.sync.mapping.loader import load_interface_file

TODAY = date(2026, 1, 15)


def count(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
    finally:
        connection.close()


@pytest.fixture
def erp_path(tmp_path: Path) -> Path:
    """A small demo ERP."""
    path = tmp_path / "erp.sqlite"
    assert build_erp(path, seed=1, companies=10, today=TODAY) is True
    return path


class TestBuildErp:
    def test_writes_every_table(self, erp_path: Path) -> None:
        assert count(erp_path, "customers") == 10
        assert 20 <= count(erp_path, "contacts") <= 40
        assert 10 <= count(erp_path, "orders") <= 50

    def test_leaves_an_existing_file_as_it_is(self, erp_path: Path) -> None:
        erp = Erp(erp_path)
        erp.delete(ORDERS, "100001", datetime(2026, 1, 15, 9))
        erp.close()
        before = erp_path.read_bytes()
        assert build_erp(erp_path, seed=2, companies=50, today=TODAY) is False
        assert erp_path.read_bytes() == before
        assert count(erp_path, "customers") == 10
        assert not list(erp_path.parent.glob("*.partial"))


class TestErp:
    def test_changes_are_stamped_and_deletions_soft(self, erp_path: Path) -> None:
        erp = Erp(erp_path)
        at = datetime(2026, 1, 15, 10, 30)
        erp.change(CUSTOMERS, "10001", {"phone": "+41 44 555 12 34"}, at)
        erp.delete(CONTACTS, "10001-01", at)
        customer = next(r for r in erp.rows(CUSTOMERS) if r["customer_no"] == "10001")
        assert (customer["phone"], customer["updated_at"]) == ("+41 44 555 12 34", at)
        assert "10001-01" not in {r["contact_no"] for r in erp.rows(CONTACTS)}
        gone = erp.rows(CONTACTS, deleted=True, customer_no="10001")[0]
        assert (gone["deleted_at"], gone["updated_at"]) == (at, at)
        erp.close()


class TestAsTheSqlConnectorSeesIt:
    @pytest.mark.parametrize("name", DEMO_INTERFACES)
    async def test_objects_have_a_cursor_and_soft_deletes(self, erp_path: Path, name: str) -> None:
        config = DemoConfig(var_dir=erp_path.parent)
        environ = {**demo_environ(config), "DEMO_ERP_URL": f"sqlite:///{erp_path}"}
        source = load_interface_file(interface_file(name), environ=environ).source
        async with SqlConnector.from_settings(source.config) as connector:
            objects = {o.name: o for o in await connector.discover()}
        assert set(objects) == set(source.config["objects"])
        for info in objects.values():
            assert info.cursor == "updated_at"
            assert info.detects_deletes is True
            assert info.field("deleted_at") is None
        stamp = objects["customers"].field("updated_at")
        assert stamp is not None
        assert stamp.type is FieldType.datetime
        if "orders" in objects:
            amount = objects["orders"].field("amount_chf")
            assert amount is not None
            assert amount.type is FieldType.number
