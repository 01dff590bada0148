"""Conformance harnesses of the rest connector: the test customers API over loopback.

One harness per pagination style, each with its own ``updated_since`` format
and auth style: page (ISO, bearer), offset (epoch ms, basic), cursor (ISO,
API key) and Link header (epoch s, OAuth2 client credentials). Rows go
straight into the API's store; removal is a soft delete that the ``deleted``
flag reports.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from app.connectors.base import Key, Record
from app.connectors.rest import RestConnector
from tests.connectors.conformance.harness import FIELDS, OBJECT, HarnessFactory, harness
from tests.connectors.rest.api import CustomersApi, client_settings, served
from tests.live_server import base_url_of, listening_socket

STYLES: dict[str, CustomersApi] = {
    "page": CustomersApi("page", "iso", "bearer"),
    "offset": CustomersApi("offset", "epoch_ms", "basic"),
    "cursor": CustomersApi("cursor", "iso", "api_key"),
    "link_header": CustomersApi("link_header", "epoch_s", "oauth2_client_credentials"),
}


class RestHarness:
    """A customers API of one style; rows written to its store behind the connector's back."""

    connector_name = "rest"
    detects_deletes = True  # soft deletes bump updated_at and set the deleted flag
    supports_equal_cursor_values = True  # the cursor keeps the keys read at its value

    def __init__(self, api: CustomersApi, base_url: str, silent: socket.socket) -> None:
        self.api = api
        self.base_url = base_url
        self.silent = silent  # listens, never accepts: a system that does not answer

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Valid settings for this API; ``batch_size`` sets the page size."""
        page_size = overrides.pop("batch_size", 50)
        return {**client_settings(self.api, self.base_url, page_size), **overrides}

    def connector(self, **overrides: Any) -> RestConnector:
        """A rest connector against the API."""
        return RestConnector.from_settings(self.settings(**overrides))

    async def insert(self, rows: Sequence[Record], at: datetime) -> None:
        """Add customers stamped ``at``."""
        for row in rows:
            self.api.store.put(str(row["id"]), _values(row), at)

    async def update(self, rows: Sequence[Record], at: datetime) -> None:
        """Change customers and stamp them ``at``."""
        for row in rows:
            self.api.store.patch(str(row["id"]), _values(row), at)

    async def remove(self, keys: Sequence[Key]) -> None:
        """Soft-delete customers (the API stamps them after every earlier change)."""
        for key in keys:
            self.api.store.remove(str(key))

    async def rows(self) -> dict[Key, Record]:
        """The live customers by key, with the conformance fields only."""
        live = self.api.store.live()
        return {key: {f: row[f] for f in FIELDS} for key, row in live.items()}

    def bad_settings(self) -> tuple[Mapping[str, Any], str]:
        """An unknown pagination type."""
        settings = self.settings()
        pagination = settings["objects"][OBJECT]["pagination"]
        settings["objects"][OBJECT]["pagination"] = {**pagination, "type": "pages"}
        return settings, f"objects.{OBJECT}.pagination.type"

    def unreachable(self, timeout_s: float) -> RestConnector:
        """A connector against a socket that accepts no connection and never answers."""
        settings = client_settings(self.api, base_url_of(self.silent))
        return RestConnector.from_settings({**settings, "timeout_s": timeout_s})


def _values(row: Record) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("id", "updated_at")}


def _factory(label: str) -> HarnessFactory:
    @asynccontextmanager
    async def rest_harness() -> AsyncIterator[RestHarness]:
        style = STYLES[label]
        api = CustomersApi(style.pagination, style.since_format, style.auth)
        silent = listening_socket()
        silent.listen(1)
        try:
            async with served(api) as base_url:
                yield RestHarness(api, base_url, silent)
        finally:
            silent.close()

    return rest_harness


for _label in STYLES:
    harness("rest", _label)(_factory(_label))
