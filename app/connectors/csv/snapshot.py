"""Change detection by row hash, and the cursor that carries it between reads.

A complete cursor holds a *snapshot*: every key of the file with an 8-byte
BLAKE2b hash of its row, as JSON ``{key: hex}``, zlib-compressed, base64 (about
17 bytes a row: 100,000 rows make a 1.7 MB cursor). The next read reports rows
whose hash is new or different, and the snapshot's keys missing from the file
as deleted. A cursor taken in the middle of a read also holds how many rows
of the file were done and a digest of those rows' hashes: resuming on a file
that still begins with the same rows skips them; if they changed, every row is
compared against the old snapshot again (rows reported before the stop may
come again; none is missed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

from app.connectors.base import Cursor, Key
from app.connectors.errors import ConnectorConfigError

Snapshot = dict[Key, str]
CURSOR_VERSION = 1


def row_hash(cells: Sequence[str]) -> str:
    """A short, stable fingerprint of one row's cells, in column order."""
    encoded = json.dumps(list(cells), ensure_ascii=False).encode()
    return hashlib.blake2b(encoded, digest_size=8).hexdigest()


class PrefixDigest:
    """A running digest of the row hashes read so far: which rows a resumed read may skip."""

    def __init__(self) -> None:
        self._digest = hashlib.blake2b(digest_size=16)

    def add(self, row_digest: str) -> None:
        """Account for one more row."""
        self._digest.update(row_digest.encode("ascii"))

    def hexdigest(self) -> str:
        """The digest of the rows so far."""
        return self._digest.hexdigest()


def encode_snapshot(snapshot: Snapshot) -> str:
    """The snapshot as one compact string."""
    raw = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(zlib.compress(raw)).decode("ascii")


def decode_snapshot(text: str) -> Snapshot:
    """The snapshot an ``encode_snapshot`` string holds."""
    if not text:
        return {}
    decoded = json.loads(zlib.decompress(base64.b64decode(text, validate=True)))
    if not isinstance(decoded, dict):
        raise ValueError("not a snapshot")
    return decoded


@dataclass(frozen=True, slots=True)
class CsvCursor:
    """Where a read stands: the last complete snapshot, and the progress of a pass over a file."""

    snapshot: str = ""  # encoded; "" before the first complete read
    rows_done: int = 0  # rows of the file already dealt with by an interrupted pass
    prefix: str | None = None  # ``PrefixDigest`` of those rows

    def to_cursor(self) -> Cursor:
        """The flat JSON form handed to hubsync."""
        cursor: Cursor = {"v": CURSOR_VERSION, "snapshot": self.snapshot}
        if self.prefix is not None:
            cursor |= {"rows_done": self.rows_done, "prefix": self.prefix}
        return cursor

    @classmethod
    def from_cursor(cls, cursor: Cursor | None) -> CsvCursor:
        """Parse a cursor this connector produced; anything else is refused."""
        if cursor is None:
            return cls()
        try:
            parsed = cls(
                snapshot=str(cursor["snapshot"]),
                rows_done=int(cursor.get("rows_done", 0)),
                prefix=None if cursor.get("prefix") is None else str(cursor["prefix"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise _not_ours() from exc
        if cursor.get("v") != CURSOR_VERSION:
            raise _not_ours()
        return parsed

    def baseline(self) -> Snapshot:
        """The decoded snapshot that rows are compared against."""
        try:
            return decode_snapshot(self.snapshot)
        except (ValueError, binascii.Error, zlib.error) as exc:
            raise _not_ours() from exc


def _not_ours() -> ConnectorConfigError:
    return ConnectorConfigError("since", "not a cursor of the csv connector")
