"""The read path's guards on the real servers: read-only transactions and statement timeouts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, text

from app.connectors.errors import ConnectorAuthError, ConnectorConfigError, ConnectorUnavailable
from tests.connectors.conformance.harness_sql import SqlHarness, fresh_sql_harness

T0 = datetime(2024, 5, 1, tzinfo=UTC)
SLEEP_GUARD_S = 4.0  # the sleep lasts 5 s: failing within 4 s means the server cut it short
# A function that writes, called from a configured SELECT on the read path.
WRITING_FUNCTION = {
    "postgresql": [
        "CREATE FUNCTION sneaky() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN"
        " UPDATE customers SET name = 'overwritten'; CREATE TABLE planted (a integer);"
        " RETURN 1; END $$"
    ],
    "mariadb": [
        "CREATE FUNCTION sneaky() RETURNS integer MODIFIES SQL DATA BEGIN"
        " UPDATE customers SET name = 'overwritten'; RETURN 1; END"
    ],
}
SLEEPING_QUERY = {
    "postgresql": "SELECT id, updated_at FROM customers, pg_sleep(5)",
    "mariadb": "SELECT id, updated_at, SLEEP(5) AS slept FROM customers",
}


def backend(system: SqlHarness) -> str:
    """postgresql or mariadb."""
    return "mariadb" if system.url.get_backend_name() == "mysql" else "postgresql"


async def test_a_write_on_the_read_path_is_refused(server: SqlHarness) -> None:
    await server.insert([{"id": "c1", "name": "Original", "amount": Decimal(1)}], T0)
    for statement in WRITING_FUNCTION[backend(server)]:
        await server.execute(text(statement))
    spec = {"query": "SELECT id, sneaky() AS s FROM customers", "key": ["id"]}
    async with server.connector(objects={"sneaky": spec}) as connector:
        with pytest.raises(ConnectorConfigError) as raised:
            [batch async for batch in connector.read("sneaky", None)]
    assert raised.value.field == "objects.sneaky"
    assert "read-only" in raised.value.message.lower()
    assert [row["name"] for row in (await server.rows()).values()] == ["Original"]


async def test_a_slow_query_is_cancelled_by_the_statement_timeout(server: SqlHarness) -> None:
    await server.insert([{"id": "c1", "name": "Langsam", "amount": Decimal(1)}], T0)
    spec = {"query": SLEEPING_QUERY[backend(server)], "key": ["id"], "cursor": "updated_at"}
    async with server.connector(objects={"slow": spec}, query_timeout=1) as connector:
        async with asyncio.timeout(SLEEP_GUARD_S):
            with pytest.raises(ConnectorUnavailable) as raised:
                [batch async for batch in connector.read("slow", None)]
    assert "1 s timeout" in raised.value.message


async def test_refused_credentials_are_an_auth_error_without_the_password(
    server: SqlHarness,
) -> None:
    url = server.url.set(username="hubsync_nobody", password="s3cret-Pa55")
    settings = {"url": url.render_as_string(hide_password=False)}
    async with server.connector(**settings) as connector:
        result = await connector.check()
        with pytest.raises(ConnectorAuthError) as raised:
            await connector.discover()
    assert not result.ok
    assert "credentials" in result.message
    assert "s3cret-Pa55" not in result.message + str(raised.value)


async def test_mysql_connections_are_opened_without_local_infile() -> None:
    opened: list[dict[str, object]] = []
    async with fresh_sql_harness("mariadb") as mariadb, mariadb.connector() as connector:
        engine = connector._engine
        event.listen(engine, "do_connect", lambda _d, _r, _a, params: opened.append(params))
        assert (await connector.check()).ok
    assert opened
    assert opened[0]["local_infile"] is False
