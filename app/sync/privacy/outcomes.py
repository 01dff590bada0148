"""The tombstone's words: one outcome per system, the retry schedule, safe error texts.

A request's ``outcomes`` hold one entry per *target* (an interface's contact
mapping; key ``<interface id>:<object mapping>``) and one for ``hubsync``
itself. Every entry says which system, which step, its state, how many of the
person's records it reached and when; none holds a value of the person, a
source key or a message a source wrote about the record.

A source entry is *settled* when ``confirmed`` (the source did it, or held
nobody), ``ignored`` (the policy says so; the reason is recorded) or
``withdrawn`` (the interface or its contact mapping is gone, and with it
everything hubsync kept of the pair). The ``hubsync`` entry is ``pending``
while the record links' keys are still needed for a source that has not
confirmed, and ``confirmed`` once they are gone too. A request is completed
only when every entry is settled.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from app.connectors.errors import ConnectorError
from app.core.errors import HubsyncError
from app.sync.privacy.targets import Target

HUBSYNC = "hubsync"
HUBSPOT = "hubspot"  # the system of a GDPR delete hubsync carries out in HubSpot itself
GDPR_POLICY = "gdpr_delete"  # a request's policy when hubsync erases in HubSpot
NOTIFIED_AT = "notified_at"  # in hubsync's outcome: when the request's failure was told
FIRST_RETRY_DELAY = timedelta(minutes=5)
MAX_RETRY_DELAY = timedelta(hours=6)
ERROR_MAX_CHARS = 300
LAST_ERROR_MAX_CHARS = 2000
IGNORED_REASON = "the mapping keeps the person in the source (on_privacy_deletion: ignore)"
NOT_LINKED_REASON = "hubsync linked no record of this person here"
BUSY_REASON = "waiting for a sync run of this interface to finish"
WITHDRAWN_REASON = "the interface or its contact mapping no longer exists"


class SystemState(enum.StrEnum):
    """Where one system stands in a privacy deletion."""

    confirmed = "confirmed"
    ignored = "ignored"
    withdrawn = "withdrawn"
    failed = "failed"
    pending = "pending"


SETTLED = frozenset({SystemState.confirmed, SystemState.ignored, SystemState.withdrawn})


def retry_delay(attempt: int) -> timedelta:
    """How long after attempt number ``attempt`` (1-based) the next one starts: 5 min,
    doubling, at most 6 h. Retries never stop: erasure is a legal duty."""
    return min(FIRST_RETRY_DELAY * (1 << min(attempt - 1, 16)), MAX_RETRY_DELAY)


def settled(outcome: Mapping[str, Any] | None) -> bool:
    """Whether a system's outcome needs no further attempt."""
    return outcome is not None and outcome.get("state") in SETTLED


def source_outcome(
    target: Target, state: SystemState, *, at: datetime, records: int = 0, reason: str | None = None
) -> dict[str, Any]:
    """The outcome of ``target``'s step in its source system."""
    return {
        "system": "source",
        "interface_id": str(target.interface_id),
        "interface": target.interface,
        "object": target.mapping.name,
        "source_object": target.mapping.source.object,
        "step": target.plan.step.value,
        "state": state.value,
        "records": records,
        "reason": reason,
        "at": at.isoformat(),
    }


def withdrawn(outcome: Mapping[str, Any], *, at: datetime) -> dict[str, Any]:
    """An unsettled outcome whose target vanished between attempts."""
    return {**outcome, "state": SystemState.withdrawn.value, "reason": WITHDRAWN_REASON,
            "at": at.isoformat()}  # fmt: skip


def hubsync_outcome(
    previous: Mapping[str, Any] | None, *, done: bool, at: datetime, counts: Mapping[str, int]
) -> dict[str, Any]:
    """hubsync's own outcome, ``counts`` (rows purged in this attempt) added to earlier ones."""
    before = previous or {}
    state = SystemState.confirmed if done else SystemState.pending
    return {
        "system": HUBSYNC,
        "state": state.value,
        **{name: int(before.get(name, 0)) + n for name, n in counts.items()},
        "reason": None if done else "record links are kept until every source confirmed",
        "at": at.isoformat(),
        **({NOTIFIED_AT: before[NOTIFIED_AT]} if NOTIFIED_AT in before else {}),
    }


def hubspot_outcome(
    target: Mapping[str, Any], state: SystemState, *, at: datetime, reason: str | None = None
) -> dict[str, Any]:
    """The outcome of hubsync's GDPR delete in HubSpot; ``target`` names the interface
    (``interface_id``, ``interface``) and object mapping (``object``) it was asked by."""
    return {
        "system": HUBSPOT,
        "interface_id": str(target["interface_id"]),
        "interface": target["interface"],
        "object": target["object"],
        "step": GDPR_POLICY,
        "state": state.value,
        "records": 1,
        "reason": reason,
        "at": at.isoformat(),
    }


def combined_policy(targets: Iterable[Target]) -> str:
    """The request's policy: the targets' one policy, ``mixed``, or ``none`` (no target)."""
    policies = {t.mapping.on_privacy_deletion.value for t in targets}
    if not policies:
        return "none"
    return policies.pop() if len(policies) == 1 else "mixed"


def error_text(exc: BaseException) -> str:
    """A failure as it may be stored: hubsync's and connectors' errors carry messages written
    to be shown; any other exception only its class (its text may quote a record)."""
    if isinstance(exc, ConnectorError | HubsyncError):
        text = f"{type(exc).__name__}: {exc.message}"
    else:
        text = type(exc).__name__
    return " ".join(text.split())[:ERROR_MAX_CHARS]
