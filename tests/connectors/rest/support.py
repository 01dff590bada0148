"""Small helpers shared by the rest connector tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx

from app.connectors.base import Cursor, RecordBatch
from app.connectors.rest import RestConnector
from app.connectors.rest.config import RestConfig
from tests.connectors.rest.api import CustomersApi

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def seed(api: CustomersApi, count: int, at: dt.datetime = T0, start: int = 0) -> list[str]:
    """Put ``count`` customers stamped ``at`` into the API's store; their keys."""
    keys = [f"c{i:03}" for i in range(start, start + count)]
    for n, key in enumerate(keys, start):
        api.store.put(key, {"name": f"Customer {n}", "amount": n + 0.5}, at)
    return keys


async def read_all(connector: RestConnector, since: Cursor | None = None) -> list[RecordBatch]:
    """Every batch of one read."""
    return [batch async for batch in connector.read("customers", since)]


def keys_of(batches: list[RecordBatch]) -> list[str]:
    """The keys of all records of ``batches``, in order."""
    return [str(record["id"]) for batch in batches for record in batch.records]


def list_requests(api: CustomersApi) -> list[dict[str, str]]:
    """The query parameters of every list request the API received."""
    return [seen.query for seen in api.seen if seen.method == "GET" and seen.path == "/customers"]


@asynccontextmanager
async def mocked(
    answer: Callable[[httpx.Request], httpx.Response], **settings: Any
) -> AsyncIterator[RestConnector]:
    """A connector whose requests ``answer`` serves in-process (for answers no API should give)."""
    customers = {"path": "/customers", **settings.pop("customers", {})}
    config = RestConfig.model_validate(
        {"base_url": "https://api.test", "objects": {"customers": customers}, **settings}
    )
    async with RestConnector(config, transport=httpx.MockTransport(answer)) as connector:
        yield connector
