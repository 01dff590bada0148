"""The event batch as HubSpot sends it: a JSON array of events, parsed after the signature check.

Only the fields hubsync keys on are typed; the rest of each event is kept as
it came, except ``propertyValue``: the new value of a changed property may be
personal data, and hubsync never needs it (a targeted run reads the record).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.alias_generators import to_camel

from app.core.errors import HubsyncError

UNSTORED_FIELDS = frozenset({"propertyValue"})
Id = Annotated[int, Field(ge=0)] | Annotated[str, Field(min_length=1, max_length=64)]


class MalformedEvents(HubsyncError):
    """The body is signed correctly but is not a batch of HubSpot events."""

    status_code = 400


class HubSpotEvent(BaseModel):
    """One webhook event; unknown fields are kept for the stored payload."""

    model_config = ConfigDict(alias_generator=to_camel, extra="allow", frozen=True)

    event_id: Id
    portal_id: int = Field(ge=1, lt=2**63)
    subscription_type: str = Field(min_length=3, max_length=100, pattern=r"^\w+\.\w+$")
    object_id: Id | None = None
    occurred_at: int | None = Field(default=None, ge=0, lt=2**53)  # epoch milliseconds

    @property
    def occurred(self) -> datetime | None:
        """When the change happened, by HubSpot's clock."""
        if self.occurred_at is None:
            return None
        return datetime.fromtimestamp(self.occurred_at / 1000, UTC)

    def payload(self) -> dict[str, Any]:
        """The event as HubSpot sent it, less the fields hubsync does not store."""
        return self.model_dump(by_alias=True, exclude=set(UNSTORED_FIELDS), exclude_none=True)


_BATCH = TypeAdapter(list[HubSpotEvent])


def parse_events(body: bytes) -> list[HubSpotEvent]:
    """The events of a request body; ``MalformedEvents`` if it is not a JSON array of them."""
    try:
        return _BATCH.validate_json(body)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise MalformedEvents(f"not a HubSpot event batch ({where}: {first['msg']})") from None
