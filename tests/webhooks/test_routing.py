"""Routing without a database: custom objects by type id, association changes, the schema cache."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from app.connectors.hubspot.errors import ScopeError
from app.connectors.hubspot.schemas import ObjectSchema
from app.sync.mapping.loader import load_mapping
from app.sync.webhooks.custom_types import RETRY_AFTER, TTL, CustomObjectTypes
from app.sync.webhooks.repository import DueEvent
from app.sync.webhooks.routing import (
    End,
    Plan,
    Portal,
    Readers,
    Target,
    association_ends,
    plan_events,
)
from tests.webhooks.kit import FakeSchemas

PORTAL = 62515
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
TABLE = """\
objects:
  - name: companies
    source: {object: customers, key: customer_no}
    hubspot: {object: companies, match: erp_customer_no}
    direction: both
    fields: [{source: customer_no, hubspot: erp_customer_no}]
  - name: people
    source: {object: persons, key: person_no}
    hubspot: {object: contacts, match: email}
    direction: from_hubspot
    fields: [{source: email, hubspot: email}]
    associations: [{field: customer_no, to: companies}]
  - name: cars
    source: {object: vehicles, key: vin}
    hubspot: {object: p_cars, match: vin}
    direction: both
    fields: [{source: vin, hubspot: vin}]
    associations: [{field: owner_no, to: people}]
  - name: exports
    source: {object: shipments, key: shipment_no}
    hubspot: {object: shipments, match: shipment_no}
    fields: [{source: shipment_no, hubspot: shipment_no}]
"""  # cars (custom) and contacts link; shipments (custom) only flow to HubSpot
CARS = ObjectSchema(id="1", object_type_id="2-4711", name="cars",
                    fully_qualified_name=f"p{PORTAL}_cars")  # fmt: skip
SHIPMENTS = ObjectSchema(id="2", object_type_id="2-4712", name="shipments",
                         fully_qualified_name=f"p{PORTAL}_shipments")  # fmt: skip


def due(kind: str, object_id: int | None = 100, **payload: Any) -> DueEvent:
    """A due event of ``PORTAL``."""
    return DueEvent(uuid.uuid4(), PORTAL, None, kind, None if object_id is None else str(object_id),
                    {"subscriptionType": kind, **payload}, T0, 0)  # fmt: skip


def portal(table: str = TABLE) -> tuple[Portal, Target]:
    """A portal with one interface reading ``table``."""
    readers = Readers.of(load_mapping(table).objects)
    target = Target(uuid.uuid4(), uuid.uuid4(), readers, uuid.uuid4())
    return Portal(frozenset({target.tenant_id}), (target,)), target


def routed(plan: Plan, event: DueEvent) -> dict[str, set[str]]:
    """The mapping → ids the plan sends ``event`` to (its only interface)."""
    (selection,) = plan.changes[event.id].values()
    return selection


def reasons(plan: Plan) -> dict[uuid.UUID, str]:
    """Event id → why it is ignored."""
    return {event_id: reason for reason, ids in plan.ignored.items() for event_id in ids}


def test_readers_know_records_and_declared_associations_by_type() -> None:
    readers = Readers.of(load_mapping(TABLE).objects)
    assert readers.records == {"0-2": ("companies",), "0-1": ("people",), "p_cars": ("cars",)}
    assert readers.links == {("0-1", "0-2"): ("people",), ("p_cars", "0-1"): ("cars",)}
    assert readers.custom_names == {"p_cars"}  # shipments are not read from HubSpot
    resolved = readers.resolved({"p_cars": "2-4711"})
    assert resolved.records["2-4711"] == ("cars",)
    assert resolved.links[("2-4711", "0-1")] == ("cars",)
    assert resolved.custom_names == frozenset()


@pytest.mark.parametrize(
    ("kind", "payload", "ends"),
    [
        ("contact.associationChange",
         {"associationType": "CONTACT_TO_COMPANY", "fromObjectId": 1, "toObjectId": 2},
         (End("0-1", "1"), End("0-2", "2"))),
        ("company.associationChange",
         {"associationType": "PARENT_TO_CHILD_COMPANY", "fromObjectId": 3, "toObjectId": 4},
         (End("0-2", "3"), End("0-2", "4"))),
        ("deal.associationChange",
         {"associationType": "DEAL_TO_LINE_ITEM", "fromObjectId": 5, "toObjectId": 6},
         (End("0-3", "5"), End("0-8", "6"))),
        ("object.associationChange",
         {"fromObjectTypeId": "2-4711", "toObjectTypeId": "0-1", "fromObjectId": 7,
          "toObjectId": 8, "associationTypeId": 1001},
         (End("2-4711", "7"), End("0-1", "8"))),
        ("ticket.associationChange", {"associationType": "SOMETHING_NEW", "fromObjectId": 9},
         (End("0-5", "9"), End(None, None))),
    ],
)  # fmt: skip
def test_association_ends_from_generic_and_legacy_payloads(
    kind: str, payload: dict[str, Any], ends: tuple[End, End]
) -> None:
    assert association_ends(kind, payload) == ends


def test_an_association_change_runs_the_end_whose_mapping_declares_the_association() -> None:
    found, _ = portal()
    contact_side = due("contact.associationChange", None, associationType="CONTACT_TO_COMPANY",
                       fromObjectId=11, toObjectId=22, associationRemoved=False)  # fmt: skip
    company_side = due("company.associationChange", None, associationType="COMPANY_TO_CONTACT",
                       fromObjectId=22, toObjectId=11, associationRemoved=True)  # fmt: skip
    plan = plan_events([contact_side, company_side], {PORTAL: found})
    assert routed(plan, contact_side) == {"people": {"11"}}  # companies declare none
    assert routed(plan, company_side) == {"people": {"11"}}  # the same record, either way


def test_an_association_of_an_unknown_type_reaches_every_association_of_its_end() -> None:
    found, _ = portal()
    unknown = due("contact.associationChange", None, associationType="CONTACT_TO_SOMETHING",
                  fromObjectId=11, toObjectId=33)  # fmt: skip
    assert routed(plan_events([unknown], {PORTAL: found}), unknown) == {"people": {"11"}}


def test_an_association_nothing_declares_is_ignored_with_a_reason() -> None:
    found, _ = portal()
    deal = due("deal.associationChange", None, associationType="DEAL_TO_COMPANY",
               fromObjectId=1, toObjectId=2)  # fmt: skip
    nameless = due("contact.associationChange", None, associationType="CONTACT_TO_COMPANY")
    plan = plan_events([deal, nameless], {PORTAL: found})
    assert reasons(plan) == {
        deal.id: f"no active interface on portal {PORTAL} reads associations of 0-3 and 0-2",
        nameless.id: "the event names no record",
    }


def test_custom_object_events_reach_their_mapping_once_its_type_id_is_known() -> None:
    found, target = portal()
    change = due("object.propertyChange", 7, objectTypeId="2-4711", propertyName="vin")
    linked = due("object.associationChange", None, fromObjectTypeId="0-1", toObjectTypeId="2-4711",
                 fromObjectId=11, toObjectId=7)  # fmt: skip
    unresolved = plan_events([change], {PORTAL: found})
    assert reasons(unresolved) == {
        change.id: f"no active interface on portal {PORTAL} reads 2-4711"
    }
    known = Portal(found.tenant_ids, (target.with_types({"p_cars": "2-4711"}),))
    plan = plan_events([change, linked], {PORTAL: known})
    assert routed(plan, change) == {"cars": {"7"}}
    assert routed(plan, linked) == {"cars": {"7"}}  # people declare no link to cars


async def test_custom_types_are_looked_up_once_per_connection_while_fresh() -> None:
    found, target = portal()
    schemas = FakeSchemas(CARS, SHIPMENTS)
    types = CustomObjectTypes(schemas)
    change = due("object.creation", 7, objectTypeId="2-4711")
    plan = plan_events([change], await types.resolve({PORTAL: found}, [change], T0))
    assert routed(plan, change) == {"cars": {"7"}}
    await types.resolve({PORTAL: found}, [change], T0 + TTL / 2)
    assert schemas.calls == [target.connection_id]  # cached
    await types.resolve({PORTAL: found}, [change], T0 + TTL)
    assert len(schemas.calls) == 2  # expired


async def test_no_lookup_for_standard_objects_and_a_new_name_asks_again() -> None:
    found, _ = portal()
    schemas = FakeSchemas(CARS)
    types = CustomObjectTypes(schemas)
    await types.resolve({PORTAL: found}, [due("company.creation")], T0)
    assert schemas.calls == []  # no event about a custom object: HubSpot is not asked
    custom = [due("object.creation", 7, objectTypeId="2-4711")]
    await types.resolve({PORTAL: found}, custom, T0)
    newer, _ = portal(TABLE.replace("p_cars", "cars"))  # a new version names it otherwise
    plan = plan_events(custom, await types.resolve({PORTAL: newer}, custom, T0))
    assert len(schemas.calls) == 2
    assert routed(plan, custom[0]) == {"cars": {"7"}}


async def test_a_failed_lookup_ignores_custom_events_with_its_reason_and_waits() -> None:
    found, _ = portal()
    schemas = FakeSchemas(error=ScopeError("missing scope crm.schemas.custom.read", status=403))
    types = CustomObjectTypes(schemas)
    change = due("object.propertyChange", 7, objectTypeId="2-4711")
    company = due("company.propertyChange", 5)
    plan = plan_events([change, company], await types.resolve({PORTAL: found}, [change], T0))
    (reason,) = reasons(plan).values()
    assert reason.startswith("the custom object types could not be looked up in HubSpot (")
    assert "crm.schemas.custom.read" in reason
    assert reason.endswith("; the scheduled run picks the change up")
    assert routed(plan, company) == {"companies": {"5"}}  # standard objects still route
    await types.resolve({PORTAL: found}, [change], T0 + RETRY_AFTER / 2)
    assert len(schemas.calls) == 1  # not asked again at once
    schemas.error = None
    schemas.schemas = [CARS]
    resolved = await types.resolve({PORTAL: found}, [change], T0 + RETRY_AFTER)
    assert routed(plan_events([change], resolved), change) == {"cars": {"7"}}
