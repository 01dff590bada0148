"""Which interface and object mapping a HubSpot event concerns, or why none does.

A portal's events go to the active interfaces on a HubSpot connection of that
portal (the ``hub_id`` column, or ``config["portal_id"]`` of an OAuth
connection). Within an interface:

- a record change (creation, property change, deletion, restore, merge)
  concerns the object mappings that read that object type from HubSpot
  (direction ``from_hubspot`` or ``both``). Standard objects are matched by
  name (``companies``) or type id (``0-2``); a custom object is named in a
  mapping by its name, ``p_<name>`` or fully qualified name, while its
  ``object.*`` events carry only its type id (``2-…``), so ``custom_types.py``
  asks the portal's schema API which type id each name stands for before the
  events are routed (``Readers.resolved``). When that lookup fails, the
  events of unresolved types are ignored with the lookup's reason: the
  scheduled run picks the change up.
- an association change (``contact.associationChange``, …,
  ``object.associationChange``) concerns, on each end, the object mappings
  that read that end's object type from HubSpot and declare an association to
  a mapping of the other end's type; each gets its end's record id. An end
  whose type the event does not tell (an unknown ``associationType``) matches
  every association such a mapping declares.

Everything else is ``ignored`` with a reason. Privacy deletions go to the
privacy flow whatever the portal and mappings are.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from app.sync.mapping.model import Direction, ObjectMapping
from app.sync.versions import version_table
from app.sync.webhooks.repository import DueEvent, WebhookEventRepository

PRIVACY_DELETION = "contact.privacyDeletion"
ASSOCIATION_CHANGE = "associationChange"
CHANGE_ACTIONS = frozenset({"propertyChange", "creation", "deletion", "restore", "merge"})
_STANDARD_OBJECTS = {  # type id → the names HubSpot's API and webhooks use for it
    "0-1": ("contacts", "contact"),
    "0-2": ("companies", "company"),
    "0-3": ("deals", "deal"),
    "0-5": ("tickets", "ticket"),
    "0-7": ("products", "product"),
    "0-8": ("line_items", "line_item"),
}
_TYPE_IDS = {name: type_id for type_id, names in _STANDARD_OBJECTS.items()
             for name in (type_id, *names)}  # fmt: skip
_TYPE_ID = re.compile(r"^\d+-\d+$")
_MERGE_ID_FIELDS = ("primaryObjectId", "newObjectId")
ANY = "*"  # the other end of an association, where the event does not tell its type

MappingIds = dict[str, set[str]]  # object mapping name → HubSpot ids


def object_type_id(name: str) -> str:
    """The type id of a standard object named as the API names it; any other name
    lower-cased (a type id stays as it is)."""
    return _TYPE_IDS.get(name.lower(), name.lower())


def is_type_id(name: str) -> bool:
    """Whether ``name`` is an object type id (``0-1``, ``2-1234``) rather than a name."""
    return bool(_TYPE_ID.match(name))


def event_object_type(subscription_type: str, payload: Mapping[str, Any]) -> str | None:
    """The type id of the object an event is about (``object.*`` events carry theirs)."""
    kind = subscription_type.split(".", 1)[0]
    if kind == "object":
        found = payload.get("objectTypeId") or payload.get("fromObjectTypeId")
        return str(found) if found else None
    return _TYPE_IDS.get(kind)


def record_ids(event: DueEvent) -> set[str]:
    """The HubSpot ids an event names: the record, and for a merge every record involved
    (the merged-away ones are gone, so they follow the mapping's deletion policy)."""
    payload = event.payload
    ids = {event.object_id} if event.object_id else set()
    ids.update(str(payload[name]) for name in _MERGE_ID_FIELDS if payload.get(name))
    ids.update(str(merged) for merged in payload.get("mergedObjectIds") or ())
    return ids


@dataclass(frozen=True, slots=True)
class End:
    """One end of a changed association: its object type id (None: unknown) and record id."""

    type_id: str | None
    record_id: str | None


def association_ends(subscription_type: str, payload: Mapping[str, Any]) -> tuple[End, End]:
    """The two ends of an association change, from the generic fields (``fromObjectTypeId``)
    or the legacy ``associationType`` (``CONTACT_TO_COMPANY``) and the event's object kind."""
    label = str(payload.get("associationType") or "").upper()
    head, found, tail = label.partition("_TO_")
    from_type = payload.get("fromObjectTypeId") or event_object_type(subscription_type, payload)
    from_type = from_type or (_type_of_label(head) if found else None)
    to_type = payload.get("toObjectTypeId") or (_type_of_label(tail) if found else None)
    return (
        End(_str_or_none(from_type), _str_or_none(payload.get("fromObjectId"))),
        End(_str_or_none(to_type), _str_or_none(payload.get("toObjectId"))),
    )


def _type_of_label(part: str) -> str | None:
    """The standard type an ``associationType`` half ends with (``CHILD_COMPANY`` → 0-2)."""
    for type_id, (_, singular) in _STANDARD_OBJECTS.items():
        if part == singular.upper() or part.endswith("_" + singular.upper()):
            return type_id
    return None


def _str_or_none(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def event_types(event: DueEvent) -> set[str]:
    """Every object type id an event names (both ends of an association change)."""
    action = event.subscription_type.partition(".")[2]
    if action == ASSOCIATION_CHANGE:
        ends = association_ends(event.subscription_type, event.payload)
        return {end.type_id for end in ends if end.type_id}
    found = event_object_type(event.subscription_type, event.payload)
    return {found} if found else set()


@dataclass(frozen=True, slots=True)
class Readers:
    """What one mapping version reads from HubSpot: per object, the mappings reading its
    records, and per (object, associated object) the mappings that read the first and
    declare an association to a mapping of the second. Objects are type ids, except custom
    objects named by name until ``resolved``."""

    records: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    links: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: Sequence[ObjectMapping]) -> Readers:
        """The readers of a mapping table's object mappings."""
        types = {mapping.name: object_type_id(mapping.hubspot.object) for mapping in objects}
        records: dict[str, list[str]] = {}
        links: dict[tuple[str, str], list[str]] = {}
        for mapping in objects:
            if not mapping.direction.includes(Direction.from_hubspot):
                continue
            own = types[mapping.name]
            records.setdefault(own, []).append(mapping.name)
            for other in dict.fromkeys(types[rule.to] for rule in mapping.associations):
                links.setdefault((own, other), []).append(mapping.name)
        return cls(_frozen(records), _frozen(links))

    @property
    def custom_names(self) -> frozenset[str]:
        """The objects named by name, not type id: custom objects to look up."""
        named = {*self.records, *(name for pair in self.links for name in pair)}
        return frozenset(name for name in named if not is_type_id(name))

    def resolved(self, types: Mapping[str, str]) -> Readers:
        """These readers with the custom object names ``types`` knows replaced by type ids."""

        def as_id(name: str) -> str:
            return types.get(name, name)

        records: dict[str, list[str]] = {}
        for name, mappings in self.records.items():
            records.setdefault(as_id(name), []).extend(mappings)
        links: dict[tuple[str, str], list[str]] = {}
        for (own, other), mappings in self.links.items():
            links.setdefault((as_id(own), as_id(other)), []).extend(mappings)
        return Readers(_frozen(records), _frozen(links))

    def of_records(self, type_id: str) -> tuple[str, ...]:
        """The mappings that read records of ``type_id``."""
        return self.records.get(type_id, ())

    def of_link(self, own: str | None, other: str | None) -> tuple[str, ...]:
        """The mappings that read ``own`` and associate it with ``other`` (None: any)."""
        if own is None:
            return ()
        if other is not None:
            return self.links.get((own, other), ())
        found = (names for (mine, _), names in self.links.items() if mine == own)
        return tuple(dict.fromkeys(name for names in found for name in names))


def _frozen(found: Mapping[Any, list[str]]) -> dict[Any, tuple[str, ...]]:
    return {key: tuple(dict.fromkeys(names)) for key, names in found.items()}


@dataclass(frozen=True, slots=True)
class Target:
    """An active interface on a portal and what its mapping version reads from HubSpot."""

    interface_id: uuid.UUID
    tenant_id: uuid.UUID
    readers: Readers
    connection_id: uuid.UUID  # the HubSpot connection (custom object types are the portal's)
    unresolved: str | None = None  # why its custom objects could not be looked up

    def with_types(self, types: Mapping[str, str]) -> Target:
        """This target with its custom objects named by the type ids ``types`` gives."""
        return replace(self, readers=self.readers.resolved(types), unresolved=None)


@dataclass(frozen=True, slots=True)
class Portal:
    """What hubsync knows of one portal: its tenants and its active interfaces."""

    tenant_ids: frozenset[uuid.UUID]
    targets: tuple[Target, ...]


@dataclass(slots=True)
class Plan:
    """What to do with a set of due events."""

    ignored: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # reason → events
    privacy: list[uuid.UUID] = field(default_factory=list)
    changes: dict[uuid.UUID, dict[uuid.UUID, MappingIds]] = field(default_factory=dict)
    tenants: dict[uuid.UUID, list[uuid.UUID]] = field(default_factory=dict)  # to note on events

    def ignore(self, event: DueEvent, reason: str) -> None:
        """Leave ``event`` alone for ``reason``."""
        self.ignored.setdefault(reason, []).append(event.id)


def plan_events(events: Sequence[DueEvent], portals: Mapping[int, Portal]) -> Plan:
    """Route every event: to interfaces' object mappings, to the privacy flow, or nowhere."""
    plan = Plan()
    for event in events:
        portal = portals.get(event.portal_id)
        if portal is not None and event.tenant_id is None and len(portal.tenant_ids) == 1:
            (tenant_id,) = portal.tenant_ids
            plan.tenants.setdefault(tenant_id, []).append(event.id)
        if event.subscription_type == PRIVACY_DELETION:
            plan.privacy.append(event.id)  # even for an unknown portal: its events are purged
        elif portal is None:
            plan.ignore(event, f"no HubSpot connection for portal {event.portal_id}")
        else:
            _route_change(plan, event, portal)
    return plan


def _route_change(plan: Plan, event: DueEvent, portal: Portal) -> None:
    kind, _, action = event.subscription_type.partition(".")
    if action == ASSOCIATION_CHANGE:
        routes, ids, what = _association_routes(event, portal)
    elif action in CHANGE_ACTIONS:
        ids = record_ids(event)
        what = event_object_type(event.subscription_type, event.payload) or kind
        routes = {
            target.interface_id: {name: set(ids) for name in target.readers.of_records(what)}
            for target in portal.targets
            if target.readers.of_records(what)
        }
    else:
        plan.ignore(event, f"{event.subscription_type} is not a record change hubsync acts on")
        return
    if not routes:
        plan.ignore(event, _unread_reason(event, portal, what))
    elif not ids:
        plan.ignore(event, "the event names no record")
    else:
        plan.changes[event.id] = routes


def _association_routes(
    event: DueEvent, portal: Portal
) -> tuple[dict[uuid.UUID, MappingIds], set[str], str]:
    """Per interface, the mappings that read an end and associate it with the other end,
    each with its end's record (if the event names it); also the records routed, and
    what the event is about."""
    start, end = association_ends(event.subscription_type, event.payload)
    routes: dict[uuid.UUID, MappingIds] = {}
    for target in portal.targets:
        selection: MappingIds = {}
        for own, other in ((start, end), (end, start)):
            for name in target.readers.of_link(own.type_id, other.type_id):
                found = selection.setdefault(name, set())
                if own.record_id:
                    found.add(own.record_id)
        if selection:
            routes[target.interface_id] = selection
    ids = {i for selection in routes.values() for found in selection.values() for i in found}
    what = f"associations of {start.type_id or '?'} and {end.type_id or '?'}"
    return _without_empty(routes), ids, what


def _without_empty(routes: dict[uuid.UUID, MappingIds]) -> dict[uuid.UUID, MappingIds]:
    """``routes`` less the mappings (and interfaces) left without a record; none left: as
    they were, so that the caller says the event names no record."""
    kept = {
        interface_id: {name: ids for name, ids in selection.items() if ids}
        for interface_id, selection in routes.items()
    }
    kept = {interface_id: selection for interface_id, selection in kept.items() if selection}
    return kept or routes


def _unread_reason(event: DueEvent, portal: Portal, what: str) -> str:
    """Why nothing reads an event: a custom object lookup that failed, or no mapping."""
    custom = {t for t in event_types(event) if t not in _STANDARD_OBJECTS}
    failed = next((t.unresolved for t in portal.targets if custom and t.unresolved), None)
    if failed is not None:
        return f"{failed}; the scheduled run picks the change up"
    return f"no active interface on portal {event.portal_id} reads {what}"


async def load_portals(
    repo: WebhookEventRepository,
    portal_ids: Iterable[int],
    readers: dict[uuid.UUID, Readers],
) -> dict[int, Portal]:
    """The portals among ``portal_ids`` that hubsync has a connection to.

    ``readers`` caches each mapping version's readers by version id: versions
    never change, so a version is parsed once per process. Custom objects are
    still named by name here (see ``custom_types.py``).
    """
    wanted = set(portal_ids)
    owners: dict[uuid.UUID, tuple[int, uuid.UUID]] = {}  # connection → (portal, tenant)
    for row in await repo.hubspot_connections():
        portal = next((p for p in _portals_of(row.hub_id, row.config) if p in wanted), None)
        if portal is not None:
            owners[row.id] = (portal, row.tenant_id)
    targets: dict[int, list[Target]] = {portal: [] for portal, _ in owners.values()}
    for interface in await repo.active_interfaces(owners):
        version = interface.version
        if version.id not in readers:
            readers[version.id] = Readers.of(version_table(version).objects)
        portal, _ = owners[interface.hubspot_connection_id]
        targets[portal].append(Target(interface.id, interface.tenant_id, readers[version.id],
                                      interface.hubspot_connection_id))  # fmt: skip
    return {
        portal: Portal(frozenset(t for p, t in owners.values() if p == portal), tuple(found))
        for portal, found in targets.items()
    }


def _portals_of(hub_id: int | None, config: Mapping[str, Any]) -> set[int]:
    named = {hub_id, config.get("portal_id")}
    return {int(p) for p in named if p is not None and str(p).isdigit()}
