"""Associations of the source → HubSpot pipeline: HubSpot follows the references in the source.

Each link remembers, per association rule, the source key of the record it was
last associated with. A written record whose reference differs from that is
linked to the record it names now and unlinked from the one it named before
(a contact moved to another company ends up with the new company only); a
cleared reference removes the old pair. What could not be done (the other
record is not in HubSpot yet, HubSpot refused) is not remembered, so the next
run tries again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.connectors.hubspot.associations import AssociationInput, AssociationType
from app.connectors.hubspot.errors import HubSpotError
from app.models.enums import ItemAction
from app.sync.engine.recorder import ItemError, Recorder, error_category
from app.sync.engine.repository import LinkRepository
from app.sync.engine.state import Link, RunContext
from app.sync.engine.to_hubspot_writes import Written
from app.sync.mapping.model import AssociationRule, ObjectMapping


@dataclass(slots=True)
class _Move:
    """One written record's association under one rule: what it was, what it must become."""

    written: Written
    had: str | None  # the other record's source key, as last associated
    wants: str | None  # the other record's source key the source names now
    added: bool = False
    removal_failed: bool = False

    @property
    def link(self) -> Link:
        return self.written.link

    @property
    def settled(self) -> str | None:
        """What the link remembers after this run."""
        if self.had is not None and self.removal_failed:
            return self.had  # the old pair may still be there: try the whole move again
        return self.wants if self.added else None


async def associate(
    context: RunContext,
    mapping: ObjectMapping,
    recorder: Recorder,
    session: AsyncSession,
    written: Sequence[Written],
) -> None:
    """Make the written records' HubSpot associations match the references of their source."""
    for rule in mapping.associations:
        moves = [
            _Move(w, (w.link.associations or {}).get(rule.key), w.write.refs.get(rule.key))
            for w in written
            if w.link.hubspot_id is not None
        ]
        moves = [m for m in moves if m.had != m.wants]
        if moves:
            await _Rule(context, mapping, recorder, rule).apply(session, moves)


@dataclass(slots=True)
class _Rule:
    context: RunContext
    mapping: ObjectMapping
    recorder: Recorder
    rule: AssociationRule

    async def apply(self, session: AsyncSession, moves: list[_Move]) -> None:
        other = self.context.table.mapping(self.rule.to)
        keys = {k for m in moves for k in (m.had, m.wants) if k is not None}
        repo = LinkRepository.scoped(session, self.context.scope)
        ends = {
            key: str(end.hubspot_id)
            for key, end in (
                await repo.by_source_keys(self.context.interface_id, other.name, keys)
            ).items()
            if end.hubspot_id is not None
        }
        await self._add(other.hubspot.object, other.name, moves, ends)
        await self._remove(other.hubspot.object, moves, ends)
        for move in moves:
            remembered = dict(move.link.associations or {})
            settled = move.settled
            if settled is None:
                remembered.pop(self.rule.key, None)
            else:
                remembered[self.rule.key] = settled
            move.link.associations = remembered
            if move.settled == move.wants and not move.written.sent:  # the move was the change
                self._record(ItemAction.update, move, ends)

    async def _add(
        self, to_type: str, other: str, moves: list[_Move], ends: dict[str, str]
    ) -> None:
        types = (AssociationType(self.rule.type_id),) if self.rule.type_id is not None else ()
        pairs: dict[int, tuple[AssociationInput, _Move]] = {}
        for move in moves:
            if move.wants is None:
                continue
            to_id = ends.get(move.wants)
            if to_id is None:
                reason = ItemError(f"association to {other} {move.wants!r}: not in HubSpot yet")
                self.recorder.item(
                    ItemAction.skip, move.link.source_key, hubspot_id=move.link.hubspot_id,
                    error=reason,
                )  # fmt: skip
                continue
            pair = AssociationInput(str(move.link.hubspot_id), to_id, types)
            pairs[id(pair)] = (pair, move)
        if not pairs:
            return
        api = self.context.hubspot.associations
        create = api.create if types else api.create_default
        result = await create(self.mapping.hubspot.object, to_type, [p for p, _ in pairs.values()])
        for success in result.succeeded:
            pairs[id(success.input)][1].added = True
        for failure in result.failed:
            self._record(
                ItemAction.update, pairs[id(failure.input)][1], ends, ItemError.from_batch(failure)
            )

    async def _remove(self, to_type: str, moves: list[_Move], ends: dict[str, str]) -> None:
        pairs = [
            (AssociationInput(str(m.link.hubspot_id), ends[m.had]), m)
            for m in moves
            if m.had is not None and m.had in ends  # an end no longer in HubSpot: nothing to undo
        ]
        if not pairs:
            return
        api = self.context.hubspot.associations
        try:
            await api.remove(self.mapping.hubspot.object, to_type, [p for p, _ in pairs])
        except HubSpotError as exc:
            error = ItemError(str(exc), error_category(exc), exc.status, exc.correlation_id)
            for _, move in pairs:
                move.removal_failed = True
                self._record(ItemAction.update, move, ends, error)

    def _record(
        self, action: ItemAction, move: _Move, ends: dict[str, str], error: ItemError | None = None
    ) -> None:
        change = {
            "to": self.rule.to,
            "from_id": move.link.hubspot_id,
            "to_key": move.wants,
            "to_id": ends.get(move.wants) if move.wants else None,
            "previous_key": move.had,
        }
        self.recorder.item(
            action, move.link.source_key, hubspot_id=move.link.hubspot_id,
            payload={"association": change}, error=error, failed=error is not None,
        )  # fmt: skip
