"""CRM search: single pages, capped paging, and the incremental modified-since reader.

HubSpot never pages a search past 10,000 results, ties in the sort order are not
stable between requests, offsets shift when records change mid-scan, and the
index trails writes by up to ~30 s. ``iter_modified_since`` therefore never
follows ``after`` offsets: it sorts ascending by last-modified and re-anchors
every page at the last timestamp it saw (``modified >= T``), deduplicating by
``(id, modified)``. All records of ``T`` fit in the next page unless a whole page
shares ``T``; then it drains that millisecond by ``hs_object_id``
(``modified == T AND hs_object_id > last``, sorted by id) and continues with
``modified > T``. The 10k cap is never reached, and an optional overlap window
starts the scan behind the cursor to catch records the index had not yet seen.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.connectors.hubspot.limiter import Bucket
from app.connectors.hubspot.models import CrmObject, parse_list, results
from app.connectors.hubspot.pagination import AfterPaginator
from app.connectors.hubspot.paths import ApiPaths
from app.connectors.hubspot.transport import Call, Transport

SEARCH_LIMIT = 200
SEARCH_CAP = 10_000
OBJECT_ID = "hs_object_id"


def default_modified_property(object_type: str) -> str:
    """The filterable last-modified property (contacts differ from everything else)."""
    return "lastmodifieddate" if object_type in {"contacts", "0-1"} else "hs_lastmodifieddate"


def epoch_ms(value: str | None) -> int | None:
    """A HubSpot date-time value (epoch ms or ISO 8601) as epoch milliseconds."""
    if not value:
        return None
    if value.isdigit():
        return int(value)
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Filter:
    """One search filter (``value`` for comparisons, ``values`` for IN/NOT_IN)."""

    property_name: str
    operator: str
    value: str | None = None
    values: Sequence[str] | None = None
    high_value: str | None = None

    def wire(self) -> dict[str, Any]:
        """The JSON shape HubSpot expects."""
        body: dict[str, Any] = {"propertyName": self.property_name, "operator": self.operator}
        optional = {"value": self.value, "highValue": self.high_value}
        body |= {k: v for k, v in optional.items() if v is not None}
        if self.values is not None:
            body["values"] = list(self.values)
        return body


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """A search body: OR of AND-groups, one sort, the properties to return."""

    filter_groups: Sequence[Sequence[Filter]] = ()
    sort_property: str | None = None
    descending: bool = False
    properties: Sequence[str] = ()
    limit: int = SEARCH_LIMIT
    query: str | None = None

    def wire(self, after: str | None) -> dict[str, Any]:
        """The JSON body for the page starting at ``after``."""
        body: dict[str, Any] = {
            "filterGroups": [{"filters": [f.wire() for f in g]} for g in self.filter_groups],
            "properties": list(self.properties),
            "limit": min(self.limit, SEARCH_LIMIT),
            "after": after or "0",
            "sorts": [],
        }
        if self.sort_property:
            direction = "DESCENDING" if self.descending else "ASCENDING"
            body["sorts"] = [{"propertyName": self.sort_property, "direction": direction}]
        if self.query:
            body["query"] = self.query
        return body


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of search results; ``capped`` when the next page would pass 10,000."""

    results: list[CrmObject]
    total: int
    after: str | None
    capped: bool = False


def _passes_cap(after: str | None, limit: int) -> bool:
    return after is not None and after.isdigit() and int(after) + limit > SEARCH_CAP


class SearchApi:
    """The CRM search endpoint, throttled by the portal's search limiter."""

    def __init__(self, transport: Transport, paths: ApiPaths) -> None:
        self._transport = transport
        self._paths = paths

    async def page(
        self, object_type: str, request: SearchRequest, after: str | None = None
    ) -> SearchPage:
        """One page of results."""
        call = Call(
            "POST", self._paths.search(object_type), json=request.wire(after), bucket=Bucket.SEARCH
        )
        body = await self._transport.call(call)
        paginator = AfterPaginator()
        paginator.advance(body)
        capped = _passes_cap(paginator.after, min(request.limit, SEARCH_LIMIT))
        return SearchPage(
            results=parse_list(CrmObject, results(body)),
            total=int(body.get("total", 0)),
            after=None if capped else paginator.after,
            capped=capped,
        )

    async def iter_pages(
        self, object_type: str, request: SearchRequest
    ) -> AsyncIterator[SearchPage]:
        """Pages until the results end or the 10k cap (the last page then says ``capped``)."""
        after: str | None = None
        while True:
            page = await self.page(object_type, request, after)
            yield page
            if page.after is None:
                return
            after = page.after

    async def iter_modified_since(
        self,
        object_type: str,
        since_ms: int,
        properties: Sequence[str] = (),
        *,
        modified_property: str | None = None,
        overlap_ms: int = 0,
        limit: int = SEARCH_LIMIT,
    ) -> AsyncIterator[CrmObject]:
        """Every record modified at or after ``since_ms - overlap_ms``, ascending, each once."""
        prop = modified_property or default_modified_property(object_type)
        reader = _ModifiedReader(self, object_type, prop, properties, limit)
        async for record in reader.run(since_ms - overlap_ms):
            yield record


@dataclass(slots=True)
class _ModifiedReader:
    """State of one incremental scan: the anchor and the records already yielded."""

    search: SearchApi
    object_type: str
    prop: str
    properties: Sequence[str]
    limit: int
    seen: set[tuple[str, int | None]] = field(default_factory=set)
    last_ms: int | None = None

    async def run(self, start_ms: int) -> AsyncIterator[CrmObject]:
        """Keyset scan: each page re-anchors at its last timestamp; no ``after`` offsets."""
        anchor, operator = start_ms, "GTE"
        while True:
            page = await self.search.page(
                self.object_type,
                self._request([Filter(self.prop, operator, str(anchor))], self.prop),
            )
            for record in self._fresh(page.results):
                yield record
            if not (page.after or page.capped) or self.last_ms is None:
                return
            if self.last_ms != anchor:
                anchor, operator = self.last_ms, "GTE"
                self._forget_before(anchor)
                continue
            async for record in self._drain(anchor):  # a full page of one millisecond
                yield record
            operator = "GT"

    async def _drain(self, at_ms: int) -> AsyncIterator[CrmObject]:
        """Every record modified exactly at ``at_ms``, keyset-paged by ``hs_object_id``."""
        last_id = 0
        while True:
            filters = [Filter(self.prop, "EQ", str(at_ms)), Filter(OBJECT_ID, "GT", str(last_id))]
            page = await self.search.page(self.object_type, self._request(filters, OBJECT_ID))
            for record in self._fresh(page.results):
                yield record
            if not (page.after or page.capped) or not page.results:
                return
            last_id = max(int(r.id) for r in page.results)

    def _request(self, filters: list[Filter], sort_property: str) -> SearchRequest:
        wanted = list(dict.fromkeys([*self.properties, self.prop]))
        return SearchRequest((filters,), sort_property, properties=wanted, limit=self.limit)

    def _fresh(self, records: list[CrmObject]) -> list[CrmObject]:
        fresh = []
        for record in records:
            modified = epoch_ms(record.properties.get(self.prop))
            key = (record.id, modified)
            if key not in self.seen:
                self.seen.add(key)
                fresh.append(record)
            if modified is not None:
                self.last_ms = modified
        return fresh

    def _forget_before(self, anchor_ms: int) -> None:
        """Drop dedupe keys the ``>= anchor`` query can no longer return."""
        self.seen = {k for k in self.seen if k[1] is None or k[1] >= anchor_ms}
