"""Association types between object types, HubSpot-defined ids first, and link bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
USER_DEFINED = "USER_DEFINED"
CATEGORIES = frozenset({HUBSPOT_DEFINED, USER_DEFINED, "INTEGRATOR_DEFINED", "WORK"})


@dataclass(frozen=True, slots=True)
class AssocType:
    """One directed association type (``typeId`` from one object type to another)."""

    type_id: int
    from_type: str
    to_type: str
    inverse: int
    name: str
    label: str | None = None
    category: str = HUBSPOT_DEFINED

    def spec(self) -> dict[str, Any]:
        """HubSpot's ``AssociationSpecWithLabel`` for this type."""
        spec: dict[str, Any] = {"category": self.category, "typeId": self.type_id}
        if self.label is not None:
            spec["label"] = self.label
        return spec


_SINGULAR = {"0-1": "contact", "0-2": "company", "0-3": "deal", "0-5": "ticket", "0-8": "line_item"}
# (from, to, default id, inverse default id, primary id, inverse primary id)
_PAIRS = (
    ("0-1", "0-2", 279, 280, 1, 2),
    ("0-3", "0-1", 3, 4, None, None),
    ("0-3", "0-2", 341, 342, 5, 6),
    ("0-5", "0-2", 339, 340, 26, 25),
    ("0-1", "0-5", 15, 16, None, None),
    ("0-3", "0-8", 19, 20, None, None),
    ("0-5", "0-3", 28, 27, None, None),
)
# Pairs that also have a "Primary" label call their plain type "…_unlabeled" (v3 reads).
_LABELLED = {(p[0], p[1]) for p in _PAIRS if p[4]} | {(p[1], p[0]) for p in _PAIRS if p[4]}


class AssociationTypes:
    """Every association type of the portal; other pairs get ids from 1000 on (``define``)."""

    def __init__(self) -> None:
        self.by_id: dict[int, AssocType] = {}
        self.defaults: dict[tuple[str, str], int] = {}
        self.names = dict(_SINGULAR)  # type id -> its word in type names; custom types add theirs
        self._next = 1000
        for a, b, default, inverse, primary, inverse_primary in _PAIRS:
            self._define(a, b, default, inverse, labelled=False)
            if primary is not None and inverse_primary is not None:
                self._define(a, b, primary, inverse_primary, labelled=True)

    def _define(
        self,
        a: str,
        b: str,
        forward: int,
        backward: int,
        *,
        labelled: bool,
        category: str = HUBSPOT_DEFINED,
    ) -> None:
        label = "Primary" if labelled else None
        for src, dst, tid, inv in ((a, b, forward, backward), (b, a, backward, forward)):
            name = f"{self.names.get(src, src)}_to_{self.names.get(dst, dst)}"
            if not labelled and (src, dst) in _LABELLED:
                name += "_unlabeled"
            self.by_id[tid] = AssocType(tid, src, dst, inv, name, label, category)
            if not labelled:
                self.defaults[(src, dst)] = tid

    def define(
        self,
        from_type: str,
        to_type: str,
        *,
        category: str = HUBSPOT_DEFINED,
        ids: Sequence[int] | None = None,
    ) -> AssocType:
        """The unlabelled type both ways: fresh ids (1000 on), or saved ``(forward, backward)``."""
        forward, backward = ids or (self._next, self._next + 1)
        self._define(from_type, to_type, forward, backward, labelled=False, category=category)
        self._next = max(self._next, forward + 1, backward + 1)
        return self.by_id[forward]

    def default(self, from_type: str, to_type: str) -> AssocType:
        """The unlabelled type from ``from_type`` to ``to_type`` (created if none is known)."""
        if (from_type, to_type) not in self.defaults:
            self.define(from_type, to_type)
        return self.by_id[self.defaults[(from_type, to_type)]]

    def links(
        self, kind: AssocType, from_id: int, to_id: int
    ) -> list[tuple[int, str, int, int, str]]:
        """Store rows for one association: both directions, plus the unlabelled one if labelled."""
        kinds = [kind]
        if kind.label is not None:
            kinds.append(self.default(kind.from_type, kind.to_type))
        rows = []
        for k in kinds:
            back = self.by_id[k.inverse]
            rows.append((from_id, k.to_type, to_id, k.type_id, k.category))
            rows.append((to_id, back.to_type, from_id, back.type_id, back.category))
        return rows
