"""Keyset paging shared by the history, a run's tasks, the error log's records and the audit log.

Lists page by a timestamp plus the row id that breaks ties, never by offset.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, or_

from app.core.errors import InvalidInput
from app.models import SyncRun

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A keyset position: a timestamp and the row id that breaks ties."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        """The cursor as a URL-safe token: microseconds since the epoch, then the id."""
        micros = round(self.at.timestamp() * 1_000_000)
        return f"{micros}.{self.id.hex}"

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Read a token made by ``encode`` (``InvalidInput`` for anything else)."""
        micros, _, hex_id = token.partition(".")
        try:
            at = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
            return cls(at=at, id=uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError, OSError):
            raise InvalidInput("invalid page cursor") from None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list and the cursors of its neighbours (None: no such page)."""

    rows: Sequence[T]
    newer: Cursor | None = None  # pass as ``after``: the rows before this page in list order
    older: Cursor | None = None  # pass as ``before``: the rows after this page in list order


def keyset(
    statement: Any,
    columns: tuple[Any, Any],
    *,
    descending: bool,
    before: Cursor | None,
    after: Cursor | None,
    limit: int,
) -> tuple[Any, bool]:
    """Limit ``statement`` to one page after ``before``/``after`` in list order.

    Returns the statement and whether its rows come in reverse list order
    (an ``after`` page is read towards the list's start, then turned round).
    """
    at, ident = columns
    backwards = after is not None and before is None
    cursor = after if backwards else before
    if cursor is not None:
        later = descending == backwards  # which side of the cursor the page lies on
        if later:
            statement = statement.where(
                or_(at > cursor.at, and_(at == cursor.at, ident > cursor.id))
            )
        else:
            statement = statement.where(
                or_(at < cursor.at, and_(at == cursor.at, ident < cursor.id))
            )
    ascending = descending == backwards
    order = (at.asc(), ident.asc()) if ascending else (at.desc(), ident.desc())
    return statement.order_by(*order).limit(limit + 1), backwards


def cut_page(
    rows: Sequence[Any], *, limit: int, backwards: bool, started: bool
) -> tuple[list[Any], Cursor | None, Cursor | None]:
    """Cut the extra row off a keyset result: the rows in list order and the cursors of
    the previous and the next page (None where there is none)."""
    more = len(rows) > limit
    kept = list(rows[:limit])
    if backwards:
        kept.reverse()
    if not kept:
        return [], None, None
    previous = cursor_of(kept[0]) if (more if backwards else started) else None
    following = cursor_of(kept[-1]) if (backwards or more) else None
    return kept, previous, following


def cursor_of(row: Any) -> Cursor:
    """The keyset position of a run (by start), a task or an audit entry (by creation)."""
    at = row.started_at if isinstance(row, SyncRun) else row.created_at
    return Cursor(at=at, id=row.id)


def prefix(column: Any, text: str) -> Any:
    """``column`` starts with ``text`` (LIKE with the wildcards escaped)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")
