"""Reads: every paginator, where records sit, the inclusive updated_since, deletes, discovery."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from app.connectors.base import FieldType
from app.connectors.errors import ConnectorConfigError, ConnectorError
from app.connectors.rest.pagination import next_link
from tests.connectors.rest.api import CustomersApi
from tests.connectors.rest.conftest import Connect
from tests.connectors.rest.support import T0, keys_of, list_requests, mocked, read_all, seed

STYLES = ["page", "offset", "cursor", "link_header"]


class TestPagination:
    @pytest.mark.parametrize("api", [{"pagination": p} for p in STYLES], indirect=True, ids=STYLES)
    async def test_every_page_is_one_batch(self, api: CustomersApi, connect: Connect) -> None:
        keys = seed(api, 7)
        batches = await read_all(connect(page_size=3))
        assert [len(batch.records) for batch in batches] == [3, 3, 1]
        assert keys_of(batches) == keys
        assert len(list_requests(api)) == 3

    @pytest.mark.parametrize("api", [{"pagination": "none"}], indirect=True)
    async def test_no_pagination_is_one_request(self, api: CustomersApi, connect: Connect) -> None:
        keys = seed(api, 7)
        batches = await read_all(connect(page_size=3))
        assert keys_of(batches) == keys
        assert list_requests(api) == [{}]

    @pytest.mark.parametrize("api", [{"pagination": "page"}], indirect=True)
    async def test_a_full_last_page_ends_with_an_empty_one(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 6)
        batches = await read_all(connect(page_size=3))
        assert [q["page"] for q in list_requests(api)] == ["1", "2", "3"]
        assert len(batches) == 2

    def test_next_link_finds_rel_next_among_others(self) -> None:
        header = '<https://a.test/x?page=1>; rel="prev", <https://a.test/x?a=1,2>; rel="last next"'
        assert next_link(header) == "https://a.test/x?a=1,2"
        assert next_link('<https://a.test/x>; rel="self"') is None


class TestRecordsPath:
    @pytest.mark.parametrize("api", [{"pagination": "page"}], indirect=True)
    async def test_records_are_found_at_a_dotted_path(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 2)
        assert keys_of(await read_all(connect())) == ["c000", "c001"]

    @pytest.mark.parametrize("api", [{"pagination": "page"}], indirect=True)
    async def test_a_wrong_path_names_the_setting(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 2)
        with pytest.raises(ConnectorConfigError) as raised:
            await read_all(connect(customers={"records_path": "data.rows"}))
        assert raised.value.field == "objects.customers.records_path"
        assert "GET /customers: HTTP 200: no list of records at data.rows" in str(raised.value)


@pytest.mark.parametrize(
    "api",
    [{"since_format": f} for f in ("iso", "epoch_ms", "epoch_s")],
    indirect=True,
    ids=["iso", "epoch_ms", "epoch_s"],
)
class TestIncremental:
    async def test_only_changes_after_the_cursor_are_read(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 4)
        connector = connect()
        cursor = (await read_all(connector))[-1].cursor
        seed(api, 2, T0 + dt.timedelta(seconds=1.5), start=4)
        api.store.patch("c001", {"name": "renamed"}, T0 + dt.timedelta(seconds=2))
        batches = await read_all(connector, cursor)
        assert keys_of(batches) == ["c004", "c005", "c001"]
        assert "updated_since" in list_requests(api)[-1]

    async def test_records_sharing_one_value_are_each_read_once(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        keys = seed(api, 10)
        connector, cursor, read = connect(page_size=3), None, []
        while batches := (await read_all(connector, cursor))[:1]:
            read += keys_of(batches)
            cursor = batches[0].cursor
        seed(api, 1, start=10)  # a late arrival with the very same timestamp
        assert read == keys
        assert keys_of(await read_all(connector, cursor)) == ["c010"]


class TestDeletesAndTypes:
    async def test_deleted_records_are_reported_by_key(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 3)
        connector = connect()
        cursor = (await read_all(connector))[-1].cursor
        api.store.remove("c001")
        batches = await read_all(connector, cursor)
        assert [(b.records, b.deleted) for b in batches] == [([], ["c001"])]

    async def test_records_lose_the_flag_and_get_typed_values(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 1)
        (batch,) = await read_all(connect())
        assert batch.records == [
            {"id": "c000", "name": "Customer 0", "amount": 0.5, "updated_at": T0}
        ]
        assert batch.cursor == {"value": T0.isoformat(), "keys": ["c000"]}

    async def test_discover_infers_types_from_a_first_page(
        self, api: CustomersApi, connect: Connect
    ) -> None:
        seed(api, 2)
        (info,) = await connect(customers={"fields": None}).discover()
        types = {field.name: field.type for field in info.fields}
        assert types == {
            "id": FieldType.string,
            "name": FieldType.string,
            "amount": FieldType.number,
            "updated_at": FieldType.datetime,
        }
        assert (info.key, info.cursor, info.detects_deletes) == (("id",), "updated_at", True)

    async def test_an_unknown_object_is_a_config_error(self, connect: Connect) -> None:
        with pytest.raises(ConnectorConfigError, match="unknown object 'orders'"):
            await anext(aiter(connect().read("orders", None)))


class TestUnusualAnswers:
    async def test_a_next_link_to_another_origin_is_refused(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            link = '<https://elsewhere.test/customers?page=2>; rel="next"'
            return httpx.Response(200, json=[{"id": "1"}], headers={"Link": link})

        async with mocked(answer, customers={"pagination": {"type": "link_header"}}) as connector:
            with pytest.raises(ConnectorError, match="leaves the API's origin"):
                await read_all(connector)

    async def test_a_redirect_is_not_followed(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/"})

        async with mocked(answer) as connector:
            with pytest.raises(ConnectorConfigError, match="HTTP 302") as raised:
                await read_all(connector)
        assert raised.value.field == "base_url"

    async def test_a_body_over_the_size_cap_is_refused(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=[{"id": str(n)} for n in range(500)])

        async with mocked(answer, max_response_bytes=1024) as connector:
            with pytest.raises(ConnectorError, match="larger than max_response_bytes"):
                await read_all(connector)

    async def test_a_body_that_is_not_json_is_named(self) -> None:
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, text="<html>secret internal page</html>")

        async with mocked(answer) as connector:
            with pytest.raises(ConnectorError) as raised:
                await read_all(connector)
        assert str(raised.value) == "GET /customers: HTTP 200 answered with a body that is not JSON"
