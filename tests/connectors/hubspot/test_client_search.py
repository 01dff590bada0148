"""Incremental search past the 10k cap with many equal timestamps, against a simulated server."""

from __future__ import annotations

import bisect
import json
import random
from collections import Counter
from typing import Any

import httpx
import pytest
import respx

from app.connectors.hubspot.client import HubSpotClient
from app.connectors.hubspot.limiter import LimitConfig
from app.connectors.hubspot.search import SEARCH_CAP
from tests.connectors.hubspot.fakes import FakeClock, make_client

PROP = "hs_lastmodifieddate"
CROWDED_MS = 1_700_000_500_000


def dataset() -> list[dict[str, int]]:
    """~25,000 records; 5,000 share one millisecond, ids unrelated to time."""
    rng = random.Random(42)
    ids = rng.sample(range(1, 10_000_000), 25_000)
    stamps = [CROWDED_MS] * 5_000 + [
        1_700_000_000_000 + rng.randrange(0, 1_000_000) for _ in range(20_000)
    ]
    return [{"id": i, PROP: ts} for i, ts in zip(ids, stamps, strict=True)]


class SearchServer:
    """HubSpot search over an in-memory list: filters, one sort, ``after``, the 10k cap.

    Ties in the sort order come back in random order on every request, as HubSpot
    does not promise a stable order among equal values.
    """

    def __init__(self, rows: list[dict[str, int]]) -> None:
        self.by_ts = sorted(rows, key=lambda r: r[PROP])
        self.stamps = [r[PROP] for r in self.by_ts]
        self.calls = 0
        self.id_sorted_calls = 0
        self.rng = random.Random(1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        body = json.loads(request.content)
        after, limit = int(body.get("after", 0)), body["limit"]
        if after + limit > SEARCH_CAP:
            return httpx.Response(
                400, json={"category": "VALIDATION_ERROR", "message": "past 10000"}
            )
        sort = body["sorts"][0]["propertyName"]
        self.id_sorted_calls += sort == "hs_object_id"
        hits = self._hits(body["filterGroups"][0]["filters"], sort)
        page = (
            hits[after : after + limit]
            if sort == "hs_object_id"
            else self._unstable(hits, after, limit)
        )
        out: dict[str, Any] = {"total": len(hits), "results": [self._render(r) for r in page]}
        if after + limit < len(hits):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return httpx.Response(200, json=out)

    def _hits(self, filters: list[dict[str, Any]], sort: str) -> list[dict[str, int]]:
        lo, hi, min_id = 0, len(self.by_ts), 0
        for f in filters:
            value = int(f["value"])
            if f["propertyName"] == "hs_object_id":
                assert f["operator"] == "GT"
                min_id = value
            elif f["operator"] in {"GTE", "EQ"}:
                lo = bisect.bisect_left(self.stamps, value)
                hi = bisect.bisect_right(self.stamps, value) if f["operator"] == "EQ" else hi
            else:
                assert f["operator"] == "GT"
                lo = bisect.bisect_right(self.stamps, value)
        hits = [r for r in self.by_ts[lo:hi] if r["id"] > min_id]
        return sorted(hits, key=lambda r: r["id"]) if sort == "hs_object_id" else hits

    def _unstable(self, hits: list[dict[str, int]], after: int, limit: int) -> list[dict[str, int]]:
        """The page, with the tie group at its end drawn at random from all equal rows."""
        page = hits[after : after + limit]
        if not page:
            return page
        edge = page[-1][PROP]
        group = [r for r in hits if r[PROP] == edge]
        keep = [r for r in page if r[PROP] != edge]
        return keep + self.rng.sample(group, len(page) - len(keep))

    @staticmethod
    def _render(row: dict[str, int]) -> dict[str, Any]:
        props = {"hs_object_id": str(row["id"]), PROP: str(row[PROP])}
        return {"id": str(row["id"]), "properties": props, "archived": False}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, int]]:
    """The simulated portal's companies."""
    return dataset()


class TestModifiedSince:
    async def test_reads_every_record_exactly_once_past_the_cap(
        self, rows: list[dict[str, int]], clock: FakeClock
    ) -> None:
        server = SearchServer(rows)
        with respx.mock(base_url="https://api.hubapi.com") as router:
            router.post("/crm/v3/objects/companies/search").mock(side_effect=server)
            async with make_client(clock, limits=LimitConfig(search_per_second=1000)) as client:
                seen = [
                    r.id async for r in client.search.iter_modified_since("companies", 0, ["name"])
                ]
        counts = Counter(seen)
        assert len(counts) == len(rows)
        assert max(counts.values()) == 1
        assert server.id_sorted_calls >= 5_000 // 200  # the crowded millisecond was drained by id
        assert server.calls < 2 * len(rows) // 200

    async def test_starts_an_overlap_window_behind_the_cursor(
        self, client: HubSpotClient, router: respx.MockRouter
    ) -> None:
        route = router.post("/crm/v3/objects/contacts/search").respond(
            200, json={"total": 0, "results": []}
        )
        found = [
            r
            async for r in client.search.iter_modified_since("contacts", 60_000, overlap_ms=30_000)
        ]
        sent = json.loads(route.calls.last.request.content)
        assert found == []
        assert sent["filterGroups"][0]["filters"][0] == {
            "propertyName": "lastmodifieddate",
            "operator": "GTE",
            "value": "30000",
        }
        assert sent["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "ASCENDING"}]

    async def test_search_is_throttled_to_four_per_second(
        self, client: HubSpotClient, router: respx.MockRouter, clock: FakeClock
    ) -> None:
        from app.connectors.hubspot.search import SearchRequest

        router.post("/crm/v3/objects/deals/search").respond(200, json={"total": 0, "results": []})
        start = clock.monotonic()
        for _ in range(9):
            await client.search.page("deals", SearchRequest())
        assert clock.monotonic() - start >= 2.0
