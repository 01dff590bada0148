"""``read_keys`` of the rest connector: a GET per item where the object is written, else a read."""

from __future__ import annotations

import httpx

from app.connectors.base import RecordBatch
from app.connectors.rest import RestConnector
from tests.connectors.rest.api import CustomersApi
from tests.connectors.rest.conftest import Connect
from tests.connectors.rest.support import T0, keys_of, list_requests, mocked, seed


async def read_keys(connector: RestConnector, keys: list[str]) -> list[RecordBatch]:
    """Every batch of one ``read_keys``."""
    return [batch async for batch in connector.read_keys("customers", keys)]


def item_requests(api: CustomersApi) -> list[str]:
    """The paths of every item GET the API received."""
    return [s.path for s in api.seen if s.method == "GET" and s.path.startswith("/customers/")]


async def test_a_written_object_is_looked_up_item_by_item(
    api: CustomersApi, connect: Connect
) -> None:
    seed(api, 5)
    api.store.patch("c001", {"name": "Korrigiert AG"}, T0)
    api.store.remove("c003")
    batches = await read_keys(connect(page_size=2), ["c001", "c003", "c004", "c404"])
    assert keys_of(batches) == ["c001", "c004"]
    assert [r["name"] for b in batches for r in b.records] == ["Korrigiert AG", "Customer 4"]
    assert [k for b in batches for k in b.deleted] == ["c003", "c404"]
    assert item_requests(api) == ["/customers/c001", "/customers/c003", "/customers/c004",
                                  "/customers/c404"]  # fmt: skip
    assert list_requests(api) == []  # no list read
    assert [len(b.records) + len(b.deleted) for b in batches] == [2, 2]  # page_size per batch


async def test_a_refused_item_is_unreadable_and_the_others_still_come(
    api: CustomersApi, connect: Connect
) -> None:
    seed(api, 3)
    connector = connect()
    async with connector:
        api.fail(422)
        [batch] = await read_keys(connector, ["c000", "c001"])
    assert keys_of([batch]) == ["c001"]
    [bad] = batch.unreadable
    assert bad.key == "c000"
    assert bad.reason == "GET /customers/c000: HTTP 422: the API refused the request"


async def test_a_read_only_object_falls_back_to_a_full_read(
    api: CustomersApi, connect: Connect
) -> None:
    seed(api, 7)
    api.store.remove("c002")
    connector = connect(page_size=3, customers={"write": None, "delete": None})
    batches = await read_keys(connector, ["c005", "c002", "c404"])
    assert keys_of(batches) == ["c005"]
    assert sorted(k for b in batches for k in b.deleted) == ["c002", "c404"]
    assert item_requests(api) == []  # the item path of a read-only object is not known
    assert list_requests(api)


async def test_a_full_read_stops_once_every_key_is_found() -> None:
    pages = {"/customers": [{"id": "a"}, {"id": "b"}], "/customers/2": [{"id": "c"}]}
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        following = {"Link": '<https://api.test/customers/2>; rel="next"'}
        headers = following if request.url.path == "/customers" else {}
        return httpx.Response(200, json=pages[request.url.path], headers=headers)

    customers = {"pagination": {"type": "link_header"}, "fields": {"id": "string"}}
    async with mocked(answer, customers=customers) as connector:
        batches = await read_keys(connector, ["b"])
    assert keys_of(batches) == ["b"]
    assert asked == ["/customers"]
