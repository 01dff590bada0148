"""Recognising hubsync's own writes coming back, so they are not merged and written again.

After each write (or read) hubsync keeps, per side of a record pair, the hash
of the values that side then held and the modification time it reported.
A record read later is then:

- ``echo``: its values hash the same — hubsync's own write (or nothing new):
  no decision, no API call;
- ``stale``: different values but modified strictly *before* what hubsync
  last wrote — a lagging read (search index, replica) from before the write;
  taking it as a change would undo the write, so it is ignored;
- ``changed``: anything else, merged field by field.

An equal modification time with different values counts as ``changed``: a
system with coarse timestamps may stamp a user's edit with the write's time,
and losing that edit is worse than one redundant merge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from app.sync.engine.hashing import Values, as_utc, values_hash


class Seen(enum.StrEnum):
    """How a record read relates to what hubsync last wrote to that side."""

    echo = "echo"
    stale = "stale"
    changed = "changed"


@dataclass(frozen=True, slots=True)
class EchoGuard:
    """What hubsync last wrote to one side of a pair: the values' hash and the reported time."""

    hash: str
    modified_at: datetime | None = None

    @classmethod
    def after_write(cls, values: Values, modified_at: datetime | None = None) -> EchoGuard:
        """The guard to keep once ``values`` were written (``modified_at``: as reported)."""
        return cls(values_hash(values), modified_at)

    def classify(self, values: Values, modified_at: datetime | None = None) -> Seen:
        """Whether a record read with ``values`` (modified at ``modified_at``) is news."""
        if values_hash(values) == self.hash:
            return Seen.echo
        if modified_at is None or self.modified_at is None:
            return Seen.changed
        return Seen.stale if as_utc(modified_at) < as_utc(self.modified_at) else Seen.changed

    def fresh(self, values: Values, modified_at: datetime | None = None) -> Values | None:
        """``values`` if they are a real change, else None (``merge``: "as last synced")."""
        return values if self.classify(values, modified_at) is Seen.changed else None
