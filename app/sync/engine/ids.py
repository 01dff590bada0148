"""Time-ordered ids (UUID version 7, RFC 9562) for the rows a run inserts in bulk.

Random (version 4) primary keys land all over their index: each batch of a large
run then rewrites nearly every page of the link and item indexes, work that grows
with the tables. Version 7 ids begin with the time in milliseconds, so a batch's
rows go to the end of the index, next to each other; the 74 random bits keep them
unique across processes.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION = 7 << 76  # the version nibble, after the 48 bits of time
_VARIANT = 0b10 << 62  # RFC 9562's variant bits
_CLEAR = ~((0xF << 76) | (0b11 << 62))


def uuid7() -> uuid.UUID:
    """A new id that sorts after the ones made in earlier milliseconds."""
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(int=(value & _CLEAR) | _VERSION | _VARIANT)
