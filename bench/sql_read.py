"""Rows/s and memory of a full read of 1,000,000 PostgreSQL rows through the sql connector.

A fresh database gets a ``customers`` table filled by generate_series (1,000
rows share each timestamp) with an index on (updated_at, id), which keyset
paging needs. The read goes batch by batch; peak RSS after 100,000 rows and
after all rows shows whether memory grows with the row count.

Run: .venv/bin/python bench/sql_read.py [rows] [batch size]
"""

from __future__ import annotations

import asyncio
import resource
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import URL

from app.connectors.sql import SqlConnector
from tests.connectors.conformance.harness_sql import postgres_url

FILL = """
CREATE TABLE customers (
    id text PRIMARY KEY,
    name text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO customers
SELECT 'c' || lpad(n::text, 8, '0'), 'Kunde ' || n, mod(n, 100000) + 0.25,
       timestamptz '2024-01-01 00:00:00+00' + (n / 1000) * interval '1 second'
FROM generate_series(1, {rows}) AS n;
CREATE INDEX customers_changes ON customers (updated_at, id);
ANALYZE customers;
"""


@contextmanager
def database(rows: int) -> Iterator[URL]:
    """A fresh PostgreSQL database holding ``rows`` customers, dropped afterwards."""
    admin_url = postgres_url()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"hubsync_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name)
    try:
        filler = create_engine(url)
        with filler.begin() as connection:
            connection.exec_driver_sql(FILL.format(rows=int(rows)))
        filler.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def peak_rss_mb() -> float:
    """The process's peak resident set so far, in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def read_all(url: URL, batch_size: int) -> None:
    """Read every row, printing rows/s and peak RSS after 100,000 rows and at the end."""
    settings = {"url": url.render_as_string(hide_password=False), "batch_size": batch_size}
    read, marks = 0, [100_000]
    async with SqlConnector.from_settings(settings) as connector:
        began = time.perf_counter()
        async for batch in connector.read("customers", None):
            read += len(batch.records)
            if marks and read >= marks[0]:
                print(f"after {read:>9,} rows: peak RSS {peak_rss_mb():7.1f} MB")
                marks.pop()
        elapsed = time.perf_counter() - began
    print(f"after {read:>9,} rows: peak RSS {peak_rss_mb():7.1f} MB")
    print(f"read {read:,} rows in {elapsed:.1f} s = {read / elapsed:,.0f} rows/s")


def main(rows: int, batch_size: int) -> None:
    """Fill a fresh database, then read it through the connector."""
    began = time.perf_counter()
    with database(rows) as url:
        print(f"filled {rows:,} rows in {time.perf_counter() - began:.1f} s")
        print(f"before reading: peak RSS {peak_rss_mb():7.1f} MB")
        asyncio.run(read_all(url, batch_size))


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 5_000,
    )
