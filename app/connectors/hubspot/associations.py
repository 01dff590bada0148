"""Associations v4: batch create (default or labelled) and batch read with per-input paging.

Creating an association that exists changes nothing, so these calls are
idempotent and retried like reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from app.connectors.hubspot.batch import (
    BatchResult,
    BatchSuccess,
    Matcher,
    chunks,
    collect,
    split_on_rejection,
)
from app.connectors.hubspot.models import HubSpotModel, parse
from app.connectors.hubspot.paths import ApiPaths
from app.connectors.hubspot.transport import Call, Transport


@dataclass(frozen=True, slots=True)
class AssociationType:
    """An association label by id (``HUBSPOT_DEFINED`` 279 = contact→company)."""

    type_id: int
    category: str = "HUBSPOT_DEFINED"


@dataclass(frozen=True, slots=True)
class AssociationInput:
    """A pair of records to link, with labels for ``create`` (none for ``create_default``)."""

    from_id: str
    to_id: str
    types: Sequence[AssociationType] = ()

    def keys(self) -> Iterable[str]:
        """Matcher keys: the pair, and the ids HubSpot may name in error context."""
        return [f"pair:{self.from_id}>{self.to_id}", f"id:{self.from_id}"]

    def wire(self) -> dict[str, Any]:
        """The JSON input; ``types`` only when labelled."""
        body: dict[str, Any] = {"from": {"id": self.from_id}, "to": {"id": self.to_id}}
        if self.types:
            body["types"] = [
                {"associationCategory": t.category, "associationTypeId": t.type_id}
                for t in self.types
            ]
        return body


class AssociatedLabel(HubSpotModel):
    """One association type on a link."""

    category: str
    type_id: int
    label: str | None = None


class Associated(HubSpotModel):
    """A record linked to the input record, with the association types of the link."""

    to_object_id: str
    association_types: list[AssociatedLabel] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Link:
    """A created link as HubSpot reports it."""

    from_id: str
    to_id: str


def _link(raw: Any) -> Link:
    """Both result shapes: ``{from:{id}, to:{id}}`` and ``{fromObjectId, toObjectId}``."""
    if "fromObjectId" in raw:
        return Link(str(raw["fromObjectId"]), str(raw["toObjectId"]))
    return Link(str(raw["from"]["id"]), str(raw["to"]["id"]))


def _link_keys(link: Link) -> list[str]:
    return [f"pair:{link.from_id}>{link.to_id}"]


class AssociationsApi:
    """Batch association endpoints between two object types."""

    def __init__(self, transport: Transport, paths: ApiPaths) -> None:
        self._transport = transport
        self._paths = paths

    async def create_default(
        self, from_type: str, to_type: str, pairs: Sequence[AssociationInput]
    ) -> BatchResult[AssociationInput, Link]:
        """Link each pair with the default (unlabelled) association type."""
        return await self._write(from_type, to_type, "associate/default", pairs)

    async def create(
        self, from_type: str, to_type: str, pairs: Sequence[AssociationInput]
    ) -> BatchResult[AssociationInput, Link]:
        """Link each pair with its labelled ``types``."""
        return await self._write(from_type, to_type, "create", pairs)

    async def remove(self, from_type: str, to_type: str, pairs: Sequence[AssociationInput]) -> None:
        """Remove every association (all labels) between each pair; pairs not linked are fine."""
        path = self._paths.association_batch(from_type, to_type, "archive")
        for chunk in chunks(pairs):
            inputs = [{"from": {"id": p.from_id}, "to": [{"id": p.to_id}]} for p in chunk]
            await self._transport.call(Call("POST", path, json={"inputs": inputs}))

    async def read(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> BatchResult[str, list[Associated]]:
        """All associated records per input id, following each input's own paging."""
        found: dict[str, list[Associated]] = {i: [] for i in ids}
        out: BatchResult[str, list[Associated]] = BatchResult()
        for chunk in chunks(list(dict.fromkeys(ids))):
            failed = await self._read_chunk(from_type, to_type, chunk, found)
            out.failed.extend(failed.failed)
        failed_ids = {f.input for f in out.failed}
        out.succeeded.extend(
            BatchSuccess(i, found[i]) for i in dict.fromkeys(ids) if i not in failed_ids
        )
        return out

    async def _read_chunk(
        self, from_type: str, to_type: str, ids: Sequence[str], found: dict[str, list[Associated]]
    ) -> BatchResult[str, Any]:
        path = self._paths.association_batch(from_type, to_type, "read")
        pending: dict[str, str | None] = dict.fromkeys(ids)
        failures: BatchResult[str, Any] = BatchResult()
        while pending:
            inputs = [{"id": i} | ({"after": a} if a else {}) for i, a in pending.items()]
            body = await self._transport.call(Call("POST", path, json={"inputs": inputs}))
            result = collect(Matcher(list(pending), _id_keys), body, _read_row, _row_keys)
            failures.failed.extend(f for f in result.failed if f.category != "MISSING_RESULT")
            pending = {}
            for success in result.succeeded:
                row_id, targets, after = success.result
                found[row_id].extend(targets)
                if after:
                    pending[row_id] = after
        return failures

    async def _write(
        self, from_type: str, to_type: str, action: str, pairs: Sequence[AssociationInput]
    ) -> BatchResult[AssociationInput, Link]:
        path = self._paths.association_batch(from_type, to_type, action)

        async def send(chunk: Sequence[AssociationInput]) -> BatchResult[AssociationInput, Link]:
            body = await self._transport.call(
                Call("POST", path, json={"inputs": [p.wire() for p in chunk]})
            )
            return collect(Matcher(chunk, AssociationInput.keys), body, _link, _link_keys)

        out: BatchResult[AssociationInput, Link] = BatchResult()
        for chunk in chunks(pairs):
            out.extend(await split_on_rejection(chunk, send, AssociationInput.keys))
        return out


Row = tuple[str, list[Associated], str | None]


def _read_row(raw: Any) -> Row:
    """A batch-read result row: the input id, its targets, the cursor for more."""
    targets = [parse(Associated, t) for t in raw.get("to") or []]
    after = ((raw.get("paging") or {}).get("next") or {}).get("after")
    return str(raw["from"]["id"]), targets, after


def _row_keys(row: Row) -> list[str]:
    return [f"id:{row[0]}"]


def _id_keys(object_id: str) -> list[str]:
    return [f"id:{object_id}"]
