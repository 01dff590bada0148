"""The demo ERP: a SQLite file with customers, contacts and orders, as the sql connector reads it.

Every table has a change cursor ``updated_at`` and a soft-delete column
``deleted_at`` (naive UTC, as many ERPs store them). The ERP's users change
rows only through ``Erp``, which stamps ``updated_at`` on every change and
both columns on a deletion, so the sql connector reads exactly what changed.
hubsync's own writes (HubSpot → ERP) go through the sql connector as upserts
of the changed columns only; SQLite checks NOT NULL on the row it would
insert even when it updates, so every other column is nullable or has a
default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
    text,
    update,
)

from app.demo.data import ErpData, generate

METADATA = MetaData()


# Stamps in the format SQLAlchemy writes (microseconds), for rows an upsert inserts.
_NOW = text("(strftime('%Y-%m-%d %H:%M:%f000', 'now'))")


def _changes(table: str, key: str) -> tuple[Column[Any], Column[Any], Index]:
    return (
        Column("updated_at", DateTime, nullable=False, server_default=_NOW),
        Column("deleted_at", DateTime),
        Index(f"{table}_changes", "updated_at", key),
    )


CUSTOMERS = Table(
    "customers", METADATA,
    Column("customer_no", String(10), primary_key=True),
    Column("name", String(120)), Column("street", String(120)),
    Column("zip", String(4)), Column("city", String(60)), Column("canton", String(2)),
    Column("country_code", String(2), nullable=False, server_default="CH"),
    Column("phone", String(30)), Column("website", String(120)), Column("industry", String(40)),
    *_changes("customers", "customer_no"),
)  # fmt: skip
CONTACTS = Table(
    "contacts", METADATA,
    Column("contact_no", String(13), primary_key=True),
    Column("customer_no", ForeignKey("customers.customer_no"), nullable=False, index=True),
    Column("first_name", String(60)), Column("last_name", String(60)),
    Column("email", String(254)), Column("phone", String(30)), Column("job_title", String(60)),
    Column("language", String(2)),
    *_changes("contacts", "contact_no"),
)  # fmt: skip
ORDERS = Table(
    "orders", METADATA,
    Column("order_no", String(12), primary_key=True),
    Column("customer_no", ForeignKey("customers.customer_no"), nullable=False, index=True),
    Column("order_date", Date, nullable=False), Column("title", String(80)),
    Column("amount_chf", Numeric(12, 2), nullable=False), Column("status", String(12)),
    *_changes("orders", "order_no"),
)  # fmt: skip


def build_erp(path: Path, *, seed: int, companies: int, today: date) -> bool:
    """Create the ERP file with generated data unless it exists; whether it was created.

    The file is written under a temporary name and renamed at the end, so an
    interrupted build never leaves a half-filled ERP behind.
    """
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.partial")
    partial.unlink(missing_ok=True)
    engine = _engine(partial)
    try:
        with engine.begin() as connection:
            connection.execute(text("PRAGMA journal_mode=WAL"))  # readers beside a writer
        _fill(engine, generate(seed, companies, today))
    finally:
        engine.dispose()
    partial.replace(path)
    return True


def _fill(engine: Engine, data: ErpData) -> None:
    with engine.begin() as connection:
        METADATA.create_all(connection)
        for table, rows in ((CUSTOMERS, data.companies), (CONTACTS, data.contacts),
                            (ORDERS, data.orders)):  # fmt: skip
            connection.execute(insert(table), [asdict(row) for row in rows])


def _engine(path: Path) -> Engine:
    return create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})


def key_column(table: Table) -> Column[Any]:
    """The one key column of an ERP table."""
    return next(iter(table.primary_key.columns))


class Erp:
    """The demo ERP as its users change it: every change stamps ``updated_at``."""

    def __init__(self, path: Path) -> None:
        self.engine = _engine(path)

    def close(self) -> None:
        """Release the file."""
        self.engine.dispose()

    def rows(self, table: Table, *, deleted: bool = False, **where: str) -> list[dict[str, Any]]:
        """The rows of ``table`` by key: live ones (all with ``deleted``), column = value."""
        query = select(table).order_by(key_column(table))
        if not deleted:
            query = query.where(table.c.deleted_at.is_(None))
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(query).mappings()]

    def highest_key(self, table: Table) -> str | None:
        """The greatest key of ``table``, deleted rows included."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(key_column(table)))).scalar_one_or_none()
        return None if value is None else str(value)

    def add(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert ``rows`` (each carries its own ``updated_at``)."""
        if rows:
            with self.engine.begin() as connection:
                connection.execute(insert(table), [dict(row) for row in rows])

    def change(self, table: Table, key: str, values: Mapping[str, Any], at: datetime) -> None:
        """Set ``values`` on the row with ``key`` and stamp it changed at ``at``."""
        statement = (
            update(table).where(key_column(table) == key).values({**values, "updated_at": at})
        )
        with self.engine.begin() as connection:
            connection.execute(statement)

    def delete(self, table: Table, key: str, at: datetime) -> None:
        """Soft-delete the row with ``key`` at ``at``, as the ERP does (the row stays)."""
        self.change(table, key, {"deleted_at": at}, at)
