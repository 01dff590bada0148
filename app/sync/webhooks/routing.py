"""Which interface and object mapping a HubSpot event concerns, or why none does.

A portal's events go to the active interfaces on a HubSpot connection of that
portal (the ``hub_id`` column, or ``config["portal_id"]`` of an OAuth
connection). Within an interface, a record change concerns the object
mappings that read that object type from HubSpot (direction ``from_hubspot``
or ``both``), the standard objects matched by name (``companies``) or type id
(``0-2``). Custom objects are not routed yet: their ``object.*`` events carry
only the type id (``2-…``), which a mapping's ``p_<name>`` does not show
without asking HubSpot's schema API, so they are ignored and the scheduled run
picks their changes up. Everything else is ``ignored`` with a reason too.
Privacy deletions go to the privacy flow whatever the portal and mappings are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.sync.mapping.model import Direction, ObjectMapping
from app.sync.versions import version_table
from app.sync.webhooks.repository import DueEvent, WebhookEventRepository

PRIVACY_DELETION = "contact.privacyDeletion"
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
_MERGE_ID_FIELDS = ("primaryObjectId", "newObjectId")

MappingIds = dict[str, set[str]]  # object mapping name → HubSpot ids


def object_type_id(name: str) -> str:
    """The type id of a standard object named as the API names it (others: the name)."""
    return _TYPE_IDS.get(name.lower(), name)


def event_object_type(subscription_type: str, payload: Mapping[str, Any]) -> str | None:
    """The type id of the object an event is about (``object.*`` events carry theirs)."""
    kind = subscription_type.split(".", 1)[0]
    if kind == "object":
        found = payload.get("objectTypeId")
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
class Target:
    """An active interface on a portal and the object mappings that read from HubSpot."""

    interface_id: uuid.UUID
    tenant_id: uuid.UUID
    readers: Mapping[str, tuple[str, ...]]  # object type id → object mapping names


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
    if action not in CHANGE_ACTIONS:
        plan.ignore(event, f"{event.subscription_type} is not a record change hubsync acts on")
        return
    ids = record_ids(event)
    type_id = event_object_type(event.subscription_type, event.payload) or kind
    routes = {
        target.interface_id: {name: set(ids) for name in target.readers[type_id]}
        for target in portal.targets
        if type_id in target.readers
    }
    if not routes:
        plan.ignore(event, f"no active interface on portal {event.portal_id} reads {type_id}")
    elif not ids:
        plan.ignore(event, "the event names no record")
    else:
        plan.changes[event.id] = routes


async def load_portals(
    repo: WebhookEventRepository,
    portal_ids: Iterable[int],
    readers: dict[uuid.UUID, Mapping[str, tuple[str, ...]]],
) -> dict[int, Portal]:
    """The portals among ``portal_ids`` that hubsync has a connection to.

    ``readers`` caches each mapping version's readers by version id: versions
    never change, so a version is parsed once per process.
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
            readers[version.id] = _readers(version_table(version).objects)
        portal, _ = owners[interface.hubspot_connection_id]
        targets[portal].append(Target(interface.id, interface.tenant_id, readers[version.id]))
    return {
        portal: Portal(frozenset(t for p, t in owners.values() if p == portal), tuple(found))
        for portal, found in targets.items()
    }


def _portals_of(hub_id: int | None, config: Mapping[str, Any]) -> set[int]:
    named = {hub_id, config.get("portal_id")}
    return {int(p) for p in named if p is not None and str(p).isdigit()}


def _readers(objects: Iterable[ObjectMapping]) -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for mapping in objects:
        if mapping.direction.includes(Direction.from_hubspot):
            found.setdefault(object_type_id(mapping.hubspot.object), []).append(mapping.name)
    return {type_id: tuple(names) for type_id, names in found.items()}
