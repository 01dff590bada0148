"""HubSpot's ``paging.next.after`` cursor as a small paginator object."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def next_after(body: Mapping[str, Any]) -> str | None:
    """``paging.next.after`` of a response body, if there is a next page."""
    paging = body.get("paging") or {}
    after = (paging.get("next") or {}).get("after")
    return str(after) if after is not None else None


class AfterPaginator:
    """Follows ``after`` cursors until a response has no ``paging.next``."""

    def __init__(self, start: str | None = None) -> None:
        self.after = start
        self.has_more = True

    def get_next(self, body: Mapping[str, Any]) -> str | None:
        """The cursor of the page after ``body``."""
        return next_after(body)

    def advance(self, body: Mapping[str, Any]) -> None:
        """Move past ``body``; ``has_more`` turns false on the last page."""
        self.after = self.get_next(body)
        self.has_more = self.after is not None
