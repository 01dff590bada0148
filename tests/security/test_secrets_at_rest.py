"""Connection secrets never reach the database, a response or a log in plain text."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Base, Connection
from app.sync.connections import open_connection_secrets
from app.web import WebState
from tests.factories import World, bearer

CANARY = "canary-secret-7f3a9c1e5b"


async def dump_database(db: AsyncSession, database_url: str) -> str:
    """Every row of every table as text (PostgreSQL) or the raw files (SQLite, with WAL)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(str(url.database))
        files = [path, path.with_name(path.name + "-wal")]
        return "".join(f.read_bytes().decode("latin-1") for f in files if f.exists())
    rows: list[str] = []
    for table in Base.metadata.sorted_tables:
        query = f'SELECT CAST(t AS text) FROM "{table.name}" AS t'  # noqa: S608 - our own table names
        result = await db.execute(text(query))
        rows.extend(str(r) for r in result.scalars())
    return "\n".join(rows)


async def test_saved_secret_is_only_stored_encrypted(
    client: httpx.AsyncClient,
    world: World,
    db: AsyncSession,
    web: WebState,
    captured_logs: io.StringIO,
) -> None:
    response = await client.post(
        "/api/v1/connections",
        headers=bearer(world.operator_token),
        json={
            "tenant_id": str(world.a.tenant.id),
            "name": "erp-db",
            "kind": "source",
            "connector": "sql",
            "config": {"host": "erp.example.com"},
            "secrets": {"password": CANARY},
        },
    )
    assert response.status_code == 201, response.text
    assert CANARY not in response.text
    assert response.json()["secrets_set_at"] is not None
    connection_id = response.json()["id"]
    listed = await client.get(
        f"/api/v1/connections/{connection_id}", headers=bearer(world.operator_token)
    )
    assert CANARY not in listed.text
    await db.commit()
    assert CANARY not in await dump_database(db, web.settings.database_url)
    logs = captured_logs.getvalue()
    assert "/api/v1/connections" in logs
    assert CANARY not in logs
    row = (await db.execute(select(Connection).where(Connection.name == "erp-db"))).scalar_one()
    assert row.secrets_encrypted is not None
    assert row.secrets_encrypted.startswith("v1:")
    assert open_connection_secrets(row, web.secret_box) == {"password": CANARY}


async def test_replaced_secret_is_stored_encrypted(
    client: httpx.AsyncClient, world: World, db: AsyncSession, web: WebState
) -> None:
    response = await client.put(
        f"/api/v1/connections/{world.a.source.id}/secrets",
        headers=bearer(world.operator_token),
        json={"secrets": {"password": CANARY}},
    )
    assert response.status_code == 200
    assert CANARY not in response.text
    await db.commit()
    assert CANARY not in await dump_database(db, web.settings.database_url)


async def test_admins_cannot_change_connection_secrets(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await client.put(
        f"/api/v1/connections/{world.a.source.id}/secrets",
        headers=bearer(world.a.admin_token),
        json={"secrets": {"password": CANARY}},
    )
    assert response.status_code == 403


async def test_ciphertext_copied_to_another_tenants_row_does_not_open(
    client: httpx.AsyncClient, world: World, db: AsyncSession, web: WebState
) -> None:
    from app.core.secrets_box import SecretDecryptionError

    await client.put(
        f"/api/v1/connections/{world.a.source.id}/secrets",
        headers=bearer(world.operator_token),
        json={"secrets": {"password": CANARY}},
    )
    source_a = await db.get(Connection, world.a.source.id)
    source_b = await db.get(Connection, world.b.source.id)
    assert source_a is not None
    assert source_b is not None
    await db.refresh(source_a)
    source_b.secrets_encrypted = source_a.secrets_encrypted
    with pytest.raises(SecretDecryptionError):
        open_connection_secrets(source_b, web.secret_box)
