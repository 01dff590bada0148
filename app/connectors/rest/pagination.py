"""Pagination styles of JSON APIs, one small class each: page, offset, cursor, Link header, none.

A paginator starts with the request of the first page and, shown each page,
says what to ask for next (``get_next``) until ``has_more`` turns false.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import httpx

from app.connectors.base import Record
from app.connectors.errors import ConnectorError
from app.connectors.rest.config import PaginationSettings
from app.connectors.rest.http import Reply
from app.connectors.rest.records import dig

_LINK = re.compile(r"<([^>]*)>([^,<]*)")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What to request: a URL (relative to the base URL) and query parameters."""

    url: str
    params: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    """One answered page: the reply and the records found in it."""

    reply: Reply
    records: list[Record]


class Paginator(ABC):
    """Walks the pages of one collection request."""

    def __init__(self, settings: PaginationSettings, first: PageRequest) -> None:
        self.settings = settings
        self.request = PageRequest(first.url, {**first.params, **self.start_params()})
        self.has_more = True

    def size_params(self) -> dict[str, str | int]:
        """The page-size parameter, when the API takes one."""
        s = self.settings
        return {s.size_param: s.page_size} if s.size_param else {}

    def start_params(self) -> dict[str, str | int]:
        """Parameters added to the first request."""
        return self.size_params()

    @abstractmethod
    def get_next(self, page: Page) -> PageRequest | None:
        """The request of the page after ``page``, or None after the last."""

    def advance(self, page: Page) -> None:
        """Move past ``page``."""
        following = self.get_next(page)
        self.has_more = following is not None
        if following is not None:
            self.request = following

    def _full(self, page: Page) -> bool:
        return len(page.records) >= self.settings.page_size

    def _with(self, **params: str | int) -> PageRequest:
        return PageRequest(self.request.url, {**self.request.params, **params})


class SinglePage(Paginator):
    """No pagination: one request returns everything."""

    def start_params(self) -> dict[str, str | int]:
        """No page size to send."""
        return {}

    def get_next(self, page: Page) -> PageRequest | None:
        """There is never a next page."""
        return None


class PageNumber(Paginator):
    """``?page=N&per_page=S``; a short page is the last."""

    def start_params(self) -> dict[str, str | int]:
        """The first page number and the page size."""
        return {self.settings.page_param: self.settings.first_page, **self.size_params()}

    def get_next(self, page: Page) -> PageRequest | None:
        """The next page number, unless this page was short."""
        number = int(self.request.params[self.settings.page_param])
        return self._with(**{self.settings.page_param: number + 1}) if self._full(page) else None


class Offset(Paginator):
    """``?offset=N&limit=S``; a short page is the last."""

    def start_params(self) -> dict[str, str | int]:
        """Offset zero and the page size."""
        return {self.settings.offset_param: 0, **self.size_params()}

    def get_next(self, page: Page) -> PageRequest | None:
        """The offset after this page's records, unless the page was short."""
        offset = int(self.request.params[self.settings.offset_param]) + len(page.records)
        return self._with(**{self.settings.offset_param: offset}) if self._full(page) else None


class BodyCursor(Paginator):
    """``?cursor=C`` with the next C read from the body; no next cursor ends it."""

    def get_next(self, page: Page) -> PageRequest | None:
        """The request carrying the body's next cursor, if any."""
        following = dig(page.reply.json(), self.settings.next_cursor_path)
        if following in (None, "") or not isinstance(following, str | int):
            return None
        return self._with(**{self.settings.cursor_param: following})


class LinkHeader(Paginator):
    """RFC 8288 ``Link: <url>; rel="next"``; the URL must stay on the API's origin."""

    def get_next(self, page: Page) -> PageRequest | None:
        """The ``rel="next"`` URL of the reply, checked to be on the same origin."""
        target = next_link(page.reply.headers.get("link", ""))
        if target is None:
            return None
        url = page.reply.url.join(target)
        if not _same_origin(url, page.reply.url):
            raise ConnectorError(f"{page.reply.what}: the next-page link leaves the API's origin")
        return PageRequest(str(url))


def next_link(header: str) -> str | None:
    """The target of the ``rel="next"`` link in a ``Link`` header value, if any."""
    for target, params in _LINK.findall(header):
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').split():
                return str(target)
    return None


def _same_origin(url: httpx.URL, other: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (other.scheme, other.host, other.port)


PAGINATORS: dict[str, type[Paginator]] = {
    "none": SinglePage,
    "page": PageNumber,
    "offset": Offset,
    "cursor": BodyCursor,
    "link_header": LinkHeader,
}


def paginator_for(settings: PaginationSettings, first: PageRequest) -> Paginator:
    """The paginator of the configured style, starting at ``first``."""
    return PAGINATORS[settings.type](settings, first)
