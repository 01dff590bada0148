"""Records of one rest object looked up by key: one GET of its item path per key.

Only objects hubsync writes to are looked up this way: their writer GETs the
same item path and takes a 404 for "not there", so the API is known to answer
it. A 404 (or the ``deleted_flag`` set) reports the key deleted; any other
refusal makes that record unreadable, with the status line as the reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.connectors.base import Key, Record, RecordBatch, UnreadableRecord
from app.connectors.rest.config import ObjectSettings, WriteSettings, fill_template
from app.connectors.rest.http import HttpClient
from app.connectors.rest.records import coerce


async def read_items(
    http: HttpClient, obj: ObjectSettings, write: WriteSettings, keys: Sequence[Key]
) -> RecordBatch:
    """The items with ``keys`` as the API holds them now, in one batch without a cursor."""
    template = obj.item_template(write.item_path)
    records: list[Record] = []
    deleted: list[Key] = []
    unreadable: list[UnreadableRecord] = []
    for key in keys:
        reply = await http.request("GET", fill_template(template, key))
        if reply.status == 404:
            deleted.append(key)
            continue
        if not 200 <= reply.status < 300:
            refused = f"{reply.what}: the API refused the request"
            unreadable.append(UnreadableRecord(refused, {}, key))
            continue
        body = reply.json()
        if not isinstance(body, dict):
            unreadable.append(UnreadableRecord(f"{reply.what}: not a record", {}, key))
        elif obj.deleted_flag and body.pop(obj.deleted_flag, None):
            deleted.append(key)
        else:
            records.append(coerce(body, obj.fields or {}))
    return RecordBatch(records, None, deleted, unreadable)
