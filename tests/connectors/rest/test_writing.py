"""Writes (create, update, upsert; one result per record) and deletes."""

from __future__ import annotations

import httpx
import pytest

from app.connectors.base import Record, WriteResult
from app.connectors.errors import ConnectorConfigError
from tests.connectors.rest.api import CustomersApi
from tests.connectors.rest.conftest import Connect
from tests.connectors.rest.support import mocked, seed

NEW: Record = {"id": "n1", "name": "New", "amount": 10}


def outcomes(results: list[WriteResult]) -> list[tuple[str, str]]:
    """(key, outcome) of each result."""
    return [(result.key, result.outcome) for result in results]


class TestWrite:
    async def test_a_rejected_record_fails_alone_with_a_short_reason(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        records: list[Record] = [
            NEW,
            {"id": "bad", "name": "Bad", "amount": "lots"},
            {**NEW, "id": "n2"},
        ]
        results = await connect().write("customers", records)
        assert outcomes(results) == [("n1", "created"), ("bad", "failed"), ("n2", "created")]
        assert results[1].reason == "POST /customers: HTTP 422"
        assert sorted(api.store.live()) == ["n1", "n2"]

    async def test_writing_twice_changes_nothing(self, api: CustomersApi, connect: Connect) -> None:
        connector = connect()
        assert outcomes(await connector.write("customers", [NEW])) == [("n1", "created")]
        stamp = api.store.rows["n1"]["updated_at"]
        assert outcomes(await connector.write("customers", [NEW])) == [("n1", "unchanged")]
        assert api.store.rows["n1"]["updated_at"] == stamp
        assert [seen.method for seen in api.seen] == ["GET", "POST", "GET"]

    @pytest.mark.parametrize("method", ["PUT", "PATCH"])
    async def test_a_changed_record_is_updated_with_the_configured_method(
        self, api: CustomersApi, connect: Connect, method: str
    ) -> None:
        seed(api, 1)
        connector = connect(customers={"write": {"method": method, "item_path": "/customers/{id}"}})
        changed = {"id": "c000", "name": "Renamed", "amount": 0.5}
        assert outcomes(await connector.write("customers", [changed])) == [("c000", "updated")]
        assert api.store.rows["c000"]["name"] == "Renamed"
        assert api.seen[-1].method == method

    async def test_upsert_sends_one_request_per_record(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        connector = connect(customers={"write": {"method": "PUT", "upsert": True}})
        assert outcomes(await connector.write("customers", [NEW])) == [("n1", "created")]
        renamed = {**NEW, "name": "Renamed"}
        assert outcomes(await connector.write("customers", [renamed])) == [("n1", "updated")]
        assert [(seen.method, seen.path) for seen in api.seen] == [("PUT", "/customers/n1")] * 2

    async def test_keys_cannot_leave_the_item_path(self) -> None:
        sent: list[bytes] = []

        def answer(request: httpx.Request) -> httpx.Response:
            sent.append(request.url.raw_path)
            return httpx.Response(404)

        async with mocked(answer, base_url="https://api.test/v1", customers={"delete": {}}) as c:
            await c.delete("customers", ["../admin?x=1#y"])
        assert sent == [b"/v1/customers/..%2Fadmin%3Fx%3D1%23y"]

    async def test_a_read_only_object_refuses_writes(self, connect: Connect) -> None:
        with pytest.raises(ConnectorConfigError) as raised:
            await connect(customers={"write": None}).write("customers", [NEW])
        assert raised.value.field == "objects.customers.write"


class TestDelete:
    async def test_deletes_and_missing_keys(self, api: CustomersApi, connect: Connect) -> None:
        seed(api, 2)
        results = await connect().delete("customers", ["c000", "nope"])
        assert outcomes(results) == [("c000", "deleted"), ("nope", "unchanged")]
        assert list(api.store.live()) == ["c001"]

    async def test_deletes_must_be_configured(self, connect: Connect) -> None:
        with pytest.raises(ConnectorConfigError) as raised:
            await connect(customers={"delete": None}).delete("customers", ["c000"])
        assert raised.value.field == "objects.customers.delete"
