"""Writes to the portal's records: validation, unique values, one transaction, change events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.connectors.hubspot.sandbox.associations import AssociationTypes
from app.connectors.hubspot.sandbox.errors import (
    HubSpotError,
    bad_request,
    conflict,
    not_found,
    property_errors,
)
from app.connectors.hubspot.sandbox.events import ChangeEvent, EventSink, LinkChange, NullSink
from app.connectors.hubspot.sandbox.schema import Catalog, ObjectType
from app.connectors.hubspot.sandbox.store import Record, Store
from app.connectors.hubspot.sandbox.times import iso
from app.connectors.hubspot.sandbox.validation import clean_properties, clean_value

OBJECT_ID = "hs_object_id"
Link = tuple[int, str, int, int, str]


@dataclass(slots=True)
class WriteInput:
    """One input of a create, update or upsert."""

    properties: dict[str, Any]
    id: str | None = None
    id_property: str | None = None
    trace_id: str | None = None
    associations: list[Any] = field(default_factory=list)


@dataclass(slots=True)
class Written:
    """A record a write produced, and whether it is new."""

    record: Record
    new: bool
    trace_id: str | None


@dataclass(slots=True)
class Failed:
    """An input that was refused, and why."""

    input: WriteInput
    error: HubSpotError
    injected: bool = False


@dataclass(slots=True)
class _Plan:
    input: WriteInput
    record: Record
    old: dict[str, str]
    new: bool
    links: list[Link] = field(default_factory=list)


class Portal:
    """The portal's data: object types, records, associations, and the events writes cause."""

    def __init__(self, store: Store, clock: Callable[[], float], sink: EventSink) -> None:
        self.store = store
        self.clock = clock
        self.sink = sink
        self.catalog = Catalog()
        self.assoc_types = AssociationTypes()

    def now_ms(self) -> int:
        """The portal clock in epoch milliseconds."""
        return int(self.clock() * 1000)

    def write(
        self,
        ot: ObjectType,
        inputs: Sequence[WriteInput],
        mode: str,
        fail: Callable[[], bool] = lambda: False,
        *,
        source: str = "API",
    ) -> tuple[list[Written], list[Failed]]:
        """Create, update or upsert ``inputs`` in one transaction; raises if the batch fails whole.

        An input's failure is reported separately (HTTP 207) only when every failed
        input carries an ``objectWriteTraceId``, as HubSpot does; injected faults always are.
        Events carry ``source`` as their change source ("API", or "CRM_UI" for the HTML page).
        """
        now = self.now_ms()
        if mode != "create":
            _no_duplicate_ids(inputs)
        failed: list[Failed] = []
        plans = self._plan(ot, inputs, mode, now, failed)
        plans = self._check_unique(ot, plans, failed)
        plans = self._check_links(plans, failed)
        kept = []
        for plan in plans:
            if fail():
                error = bad_request("Injected record failure (sandbox fault)", "INJECTED_FAILURE")
                failed.append(Failed(plan.input, error, injected=True))
            else:
                kept.append(plan)
        hard = [f for f in failed if not f.injected and f.input.trace_id is None]
        if hard:
            raise hard[0].error
        self._save(ot, kept, now, source)
        return [Written(p.record, p.new, p.input.trace_id) for p in kept], failed

    def find(
        self, ot: ObjectType, refs: Sequence[str], id_property: str | None, archived: bool = False
    ) -> dict[str, Record]:
        """Records of ``ot`` by id or by a unique property's value, keyed by the reference."""
        prop = id_property or OBJECT_ID
        if prop == OBJECT_ID:
            ids = {ref: int(ref) for ref in refs if ref.isdigit()}
        elif prop in ot.unique and not archived:
            values = {
                ref: v
                for ref in refs
                if isinstance(v := clean_value(ot.properties[prop], ref), str)
            }
            owners = self.store.find_unique(ot.type_id, prop, list(values.values()))
            ids = {ref: owners[v] for ref, v in values.items() if v in owners}
        else:
            return {}
        records = self.store.get(list(ids.values()), archived)
        return {
            ref: records[rid]
            for ref, rid in ids.items()
            if rid in records and records[rid].type_id == ot.type_id
        }

    def _targets(self, ot: ObjectType, inputs: Sequence[WriteInput]) -> dict[int, Record]:
        """Input position → existing record, looked up by id or unique property."""
        refs: dict[str, list[str]] = {}
        for inp in inputs:
            if inp.id is not None:
                refs.setdefault(inp.id_property or OBJECT_ID, []).append(inp.id)
        found = {prop: self.find(ot, wanted, prop) for prop, wanted in refs.items()}
        return {
            n: found[prop][inp.id]
            for n, inp in enumerate(inputs)
            if inp.id is not None and inp.id in found.get(prop := inp.id_property or OBJECT_ID, {})
        }

    def _plan(
        self,
        ot: ObjectType,
        inputs: Sequence[WriteInput],
        mode: str,
        now: int,
        failed: list[Failed],
    ) -> list[_Plan]:
        targets = self._targets(ot, inputs) if mode != "create" else {}
        plans = []
        for n, inp in enumerate(inputs):
            clean, issues = clean_properties(ot, inp.properties)
            prop = inp.id_property or OBJECT_ID
            if mode != "create" and prop != OBJECT_ID and prop not in ot.unique:
                message = (
                    f"Property {prop} is not a unique property and can't be used as idProperty"
                )
                failed.append(Failed(inp, bad_request(message, "INVALID_ID_PROPERTY", prop)))
                continue
            if issues:
                failed.append(Failed(inp, property_errors(issues)))
                continue
            target = targets.get(n)
            if target is None and (mode == "update" or (mode == "upsert" and prop == OBJECT_ID)):
                failed.append(Failed(inp, not_found(f"Object {inp.id} does not exist")))
                continue
            if target is None:
                if mode == "upsert":
                    key = clean_value(ot.properties[prop], inp.id or "")
                    if not isinstance(key, str):
                        failed.append(Failed(inp, property_errors([key])))
                        continue
                    clean.setdefault(prop, key)
                record = Record(0, ot.type_id, {}, now, now)
                plans.append(_Plan(inp, record, {}, True))
            else:
                plans.append(_Plan(inp, target, dict(target.props), False))
            _apply(plans[-1].record, clean)
        return plans

    def _check_unique(
        self, ot: ObjectType, plans: list[_Plan], failed: list[Failed]
    ) -> list[_Plan]:
        claimed: dict[tuple[str, str], int] = {}
        bad: set[int] = set()
        for prop in ot.unique:
            wanted = [
                (i, p.record.props[prop])
                for i, p in enumerate(plans)
                if p.record.props.get(prop) and p.record.props[prop] != p.old.get(prop)
            ]
            owners = self.store.find_unique(ot.type_id, prop, [v for _, v in wanted])
            for i, value in wanted:
                owner = owners.get(value) or claimed.get((prop, value))
                if owner is not None and owner != plans[i].record.id:
                    message = f"{ot.singular.capitalize()} already exists. Existing ID: {owner}"
                    failed.append(Failed(plans[i].input, conflict(message)))
                    bad.add(i)
                else:
                    claimed[(prop, value)] = plans[i].record.id or -(i + 1)
        return [p for i, p in enumerate(plans) if i not in bad]

    def _check_links(self, plans: list[_Plan], failed: list[Failed]) -> list[_Plan]:
        kept = []
        for plan in plans:
            try:
                plan.links = [row for spec in plan.input.associations for row in self._link(spec)]
            except HubSpotError as error:
                failed.append(Failed(plan.input, error))
                continue
            kept.append(plan)
        return kept

    def _link(self, spec: Any) -> list[Link]:
        """Rows for one ``associations[]`` entry of a create (source id filled in on save)."""
        try:
            to_id = int(spec["to"]["id"])
            types = [int(t["associationTypeId"]) for t in spec["types"]]
        except (KeyError, TypeError, ValueError):
            raise bad_request("Invalid association input", "INVALID_ASSOCIATION") from None
        rows = []
        for type_id in types:
            kind = self.assoc_types.by_id.get(type_id)
            target = self.store.get([to_id]).get(to_id)
            if kind is None or target is None or target.type_id != kind.to_type:
                message = f"Association to {to_id} with type {type_id} is not valid"
                raise bad_request(message, "INVALID_ASSOCIATION")
            rows.extend(self.assoc_types.links(kind, 0, to_id))
        return rows

    def _save(self, ot: ObjectType, plans: list[_Plan], now: int, source: str) -> None:
        fresh = [p for p in plans if p.new]
        for plan, rid in zip(fresh, self.store.new_ids(len(fresh)), strict=True):
            plan.record.id = rid
        changed = [p for p in plans if not p.new and p.record.props != p.old]
        for plan in changed:
            plan.record.updated_ms = now
        links = [row for p in fresh for row in _bind(p.links, p.record.id)]
        with self.store.transaction():
            self.store.insert(p.record for p in fresh)
            self.store.update(p.record for p in changed)
            self._index_unique(ot, [*fresh, *changed])
            self.store.associate(links)
        self._publish(ot, [*fresh, *changed], now, source)
        self._publish_links(links, now, removed=False, source=source)

    def associate(self, rows: Sequence[Link], *, source: str = "API") -> None:
        """Store association rows (each direction is a row) and report them changed."""
        with self.store.transaction():
            self.store.associate(rows)
        self._publish_links(rows, self.now_ms(), removed=False, source=source)

    def dissociate(self, pairs: Sequence[tuple[int, int]], *, source: str = "API") -> None:
        """Remove every association between each pair of records and report them removed."""
        records = self.store.get(list({rid for pair in pairs for rid in pair}))
        rows: list[Link] = []
        for a, b in pairs:
            for x, y in ((a, b), (b, a)):
                if x in records and y in records:
                    found = self.store.associations(x, records[y].type_id)
                    rows += [(x, records[y].type_id, y, tid, cat) for to, tid, cat in found
                             if to == y]  # fmt: skip
        with self.store.transaction():
            self.store.dissociate(pairs)
        self._publish_links(rows, self.now_ms(), removed=True, source=source)

    def _publish_links(self, rows: Sequence[Link], now: int, *, removed: bool, source: str) -> None:
        """One ``associationChange`` per record and other record (labels count once)."""
        if isinstance(self.sink, NullSink) or not rows:
            return
        records = self.store.get(list({row[0] for row in rows}))
        grouped: dict[tuple[int, int], list[Link]] = {}
        for row in rows:
            grouped.setdefault((row[0], row[2]), []).append(row)
        for (from_id, to_id), found in grouped.items():
            ot = self.catalog.find(records[from_id].type_id) if from_id in records else None
            if ot is None:
                continue
            kinds = [self.assoc_types.by_id[row[3]] for row in found]
            plain = next((k for k in kinds if k.label is None), kinds[0])
            link = LinkChange(
                to_type_id=plain.to_type, to_object_id=to_id, type_id=plain.type_id,
                name=plain.name.removesuffix("_unlabeled").upper(), category=plain.category,
                removed=removed, primary=any(k.label == "Primary" for k in kinds),
            )  # fmt: skip
            event = ChangeEvent(f"{ot.event_prefix}.associationChange", ot.type_id, from_id, now,
                                source, link=link)  # fmt: skip
            self.sink.publish(event)

    def _index_unique(self, ot: ObjectType, plans: list[_Plan]) -> None:
        for prop in ot.unique:
            gone = [
                p.old[prop]
                for p in plans
                if p.old.get(prop, p.record.props.get(prop)) != p.record.props.get(prop)
            ]
            self.store.release(ot.type_id, ((prop, value) for value in gone))
            held = [
                (prop, value, p.record.id)
                for p in plans
                if (value := p.record.props.get(prop)) and value != p.old.get(prop)
            ]
            self.store.claim(ot.type_id, held)

    def _publish(self, ot: ObjectType, plans: list[_Plan], now: int, source: str) -> None:
        if isinstance(self.sink, NullSink):
            return
        for plan in plans:
            rec = plan.record
            if plan.new:
                self.emit(ot, "creation", rec.id, now, source=source)
            cleared = [name for name in plan.old if name not in rec.props]
            for name in [*rec.props, *cleared]:
                value = rec.props.get(name, "")
                if plan.old.get(name, "") != value:
                    self.emit(ot, "propertyChange", rec.id, now, name, value, source=source)

    def archive(self, ot: ObjectType, records: Sequence[Record], *, source: str = "API") -> None:
        """Move ``records`` to the recycle bin and report their deletion."""
        if not records:
            return
        now = self.now_ms()
        with self.store.transaction():
            self.store.archive([r.id for r in records], now)
        for record in records:
            self.emit(ot, "deletion", record.id, now, source=source)

    def purge(self, ot: ObjectType, record: Record, *, source: str = "API") -> None:
        """Delete a contact for good (GDPR) and report it as privacy deletion and deletion."""
        now = self.now_ms()
        with self.store.transaction():
            self.store.purge([record.id])
        self.emit(ot, "privacyDeletion", record.id, now, source=source)
        self.emit(ot, "deletion", record.id, now, source=source)

    def emit(
        self,
        ot: ObjectType,
        kind: str,
        oid: int,
        now: int,
        name: str | None = None,
        value: str | None = None,
        *,
        source: str = "API",
    ) -> None:
        """Publish one change event for a record of ``ot``."""
        event = ChangeEvent(f"{ot.event_prefix}.{kind}", ot.type_id, oid, now, source, name, value)
        self.sink.publish(event)


def _bind(rows: list[Link], rid: int) -> list[Link]:
    """Put a new record's id into the association rows planned before it had one."""
    return [(a or rid, kind, b or rid, tid, cat) for a, kind, b, tid, cat in rows]


def _apply(record: Record, clean: dict[str, str]) -> None:
    """Merge a partial write: ``""`` clears a value."""
    props = record.props
    for name, value in clean.items():
        if value == "":
            props.pop(name, None)
        else:
            props[name] = value


def _no_duplicate_ids(inputs: Sequence[WriteInput]) -> None:
    seen: set[tuple[str, str | None]] = set()
    dupes = []
    for inp in inputs:
        key = (inp.id_property or OBJECT_ID, inp.id)
        if key in seen:
            dupes.append(str(inp.id))
        seen.add(key)
    if dupes:
        message = f"Duplicate IDs found in batch input: {dupes}. IDs must be unique"
        raise bad_request(message, "DUPLICATE_IDS")


def render(ot: ObjectType, record: Record, wanted: Sequence[str] | None) -> dict[str, Any]:
    """HubSpot's ``SimplePublicObject`` for ``record`` with the ``wanted`` properties."""
    props = record.props
    names = props.keys() if wanted is None else wanted
    out = {name: props[name] for name in names if name in props}
    out["createdate"] = iso(record.created_ms)
    out[ot.lastmodified] = iso(record.updated_ms)
    out[OBJECT_ID] = str(record.id)
    body: dict[str, Any] = {
        "id": str(record.id),
        "properties": out,
        "createdAt": out["createdate"],
        "updatedAt": out[ot.lastmodified],
        "archived": record.archived,
    }
    if record.archived_ms is not None:
        body["archivedAt"] = iso(record.archived_ms)
    return body
