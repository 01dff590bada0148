"""The privacy suppression list: a privacy-deleted person is not created in HubSpot again.

With the policies ``ignore`` and ``anonymize`` the source keeps the record, and
after ``delete`` or hubsync's own GDPR delete the ERP may create the row again:
the next source → HubSpot run would create the contact anew. So when a
deletion purges a pair of a mapping that sends to HubSpot, its keys go on a
list first (from the link, before the purge) and every to-HubSpot run skips
the records they name.

Two entries per pair, because the engine knows a person by two keys: the
source key (the ERP row, which is how links pair records) and the value of the
mapping's match property (``hubspot.match``, e.g. the e-mail: what the upsert
finds a HubSpot record by), compared trimmed and case-folded as HubSpot
compares e-mails. A row created again under a new key with the same e-mail is
caught by the second, a row whose e-mail changed by the first.

Nothing of the person is stored: each entry is an HMAC-SHA256 of the kind and
the value under a key derived from the master secret (``HUBSYNC_SECRET_KEY``,
purpose ``hubsync/privacy/suppression``: ``SecretBox.purpose_keys``), so a list
without the secret cannot be checked against guessed e-mails. Entries are
written under the newest master key and checked under every listed one, so
rotating the master keeps the list working until the old key is removed. A run
given no keys while its list has entries fails rather than let anyone through.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import SessionFactory, session_scope
from app.core.errors import HubsyncError
from app.core.keys import keyed_digest
from app.core.tenancy import TenantScope
from app.models import PrivacySuppression, RecordLink
from app.sync.mapping.model import Direction, ObjectMapping
from app.sync.privacy.repository import SuppressionRepository

KEY_PURPOSE = "hubsync/privacy/suppression"
SOURCE_KEY = "source_key"
MATCH = "match"


class SuppressionKeysMissing(HubsyncError):
    """A run must check records against a non-empty list but was given no keys."""

    status_code = 500


def match_value(value: object) -> str:
    """A match value as entries compare it: trimmed and case-folded (HubSpot ignores the
    case of e-mails); empty when there is none."""
    return str(value).strip().casefold() if value is not None else ""


def key_hash(key: bytes, kind: str, value: str) -> str:
    """The entry of ``value`` as a source key or match value (``kind``): its keyed hash."""
    return keyed_digest(key, f"{kind}\x1f{value}")


def guards(mapping: ObjectMapping) -> bool:
    """Whether the list applies to ``mapping``: only what sends to HubSpot can re-create."""
    return mapping.direction.includes(Direction.to_hubspot)


def pair_hashes(mapping: ObjectMapping, link: RecordLink, key: bytes) -> dict[str, str]:
    """The entries (hash → kind) of a linked pair under ``key``: its source key and, while
    the link still holds its baseline, its match value."""
    hashes = {key_hash(key, SOURCE_KEY, link.source_key): SOURCE_KEY}
    match = mapping.hubspot.match
    synced: dict[str, Any] = {**(link.hubspot_values or {}), **(link.source_values or {})}
    value = match_value(synced.get(match))
    if value:
        hashes[key_hash(key, MATCH, value)] = MATCH
    return hashes


async def suppress(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    interface_id: uuid.UUID,
    mapping: ObjectMapping,
    links: Iterable[RecordLink],
    request_id: uuid.UUID,
    keys: tuple[bytes, ...],
) -> int:
    """Put the pairs of ``links`` on the list for ``request_id``, hashed with the newest of
    ``keys`` (call before their purge); entries already active are kept. How many were
    added. Nothing for a mapping that does not send to HubSpot."""
    if not guards(mapping):
        return 0
    if not keys:
        raise SuppressionKeysMissing("the privacy suppression list needs its keys")
    wanted: dict[str, str] = {}
    for link in links:
        wanted |= pair_hashes(mapping, link, keys[0])
    if not wanted:
        return 0
    repo = SuppressionRepository.scoped(session, TenantScope.only(tenant_id))
    have = await repo.active_hashes(interface_id, mapping.name, wanted)
    new = [
        PrivacySuppression(
            tenant_id=tenant_id,
            interface_id=interface_id,
            object_name=mapping.name,
            kind=kind,
            key_hash=digest,
            deletion_request_id=request_id,
        )
        for digest, kind in wanted.items()
        if digest not in have
    ]
    await repo.add(new)
    return len(new)


@dataclass(slots=True)
class Suppressor:
    """The active entries of one interface and object mapping, as a run checks records
    against them; ``hits`` counts the records it stopped (nothing else is kept of them)."""

    hashes: frozenset[str]
    keys: tuple[bytes, ...]
    hits: int = 0

    def blocks_key(self, source_key: str) -> bool:
        """Whether the record with ``source_key`` is on the list (counted as a hit)."""
        return self._hit(SOURCE_KEY, source_key)

    def blocks_match(self, value: object) -> bool:
        """Whether a record with match value ``value`` is on the list (counted as a hit)."""
        normalized = match_value(value)
        return bool(normalized) and self._hit(MATCH, normalized)

    def _hit(self, kind: str, value: str) -> bool:
        if any(key_hash(key, kind, value) in self.hashes for key in self.keys):
            self.hits += 1
            return True
        return False


async def load_suppressor(
    sessions: SessionFactory,
    scope: TenantScope,
    interface_id: uuid.UUID,
    mapping: ObjectMapping,
    keys: tuple[bytes, ...],
) -> Suppressor | None:
    """The list of ``mapping`` for a run, read once; None when it is empty (the run then
    hashes nothing).

    Raises:
        SuppressionKeysMissing: the list has entries, but ``keys`` is empty.
    """
    if not guards(mapping):
        return None
    async with session_scope(sessions) as session:
        hashes = await SuppressionRepository.scoped(session, scope).active_hashes(
            interface_id, mapping.name
        )
    if not hashes:
        return None
    if not keys:
        raise SuppressionKeysMissing("the privacy suppression list has entries but no keys")
    return Suppressor(frozenset(hashes), keys)
