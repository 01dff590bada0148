"""Changes inside the sandbox that webhooks report: the contract between store and dispatcher."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LinkChange:
    """The other end of an added or removed association, and its type."""

    to_type_id: str  # e.g. "0-2"
    to_object_id: int
    type_id: int  # the association type id from the event's object to the other
    name: str  # HubSpot's legacy ``associationType``, e.g. "CONTACT_TO_COMPANY"
    category: str  # HUBSPOT_DEFINED, USER_DEFINED, …
    removed: bool
    primary: bool = False


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One CRM change, shaped after HubSpot's webhook event fields."""

    subscription_type: (
        str  # e.g. "contact.creation", "company.propertyChange", "contact.privacyDeletion"
    )
    object_type_id: str  # e.g. "0-1"
    object_id: int
    occurred_at_ms: int
    change_source: str = "API"  # "API" for API writes, "CRM_UI" for the sandbox's HTML page
    property_name: str | None = None
    property_value: str | None = None
    link: LinkChange | None = None  # on ``associationChange``: the association (from object_id)


class EventSink(Protocol):
    """Receives every change the sandbox makes (the webhook dispatcher, or a test's list)."""

    def publish(self, event: ChangeEvent) -> None:
        """Take note of ``event``; must not block or raise."""


class NullSink:
    """An event sink that drops everything (no webhooks configured)."""

    def publish(self, event: ChangeEvent) -> None:
        """Drop ``event``."""
