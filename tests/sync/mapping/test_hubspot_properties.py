"""Planning the custom HubSpot properties a mapping table needs (pure, no portal)."""

from __future__ import annotations

from typing import Any

import pytest

from app.sync.mapping.hubspot_properties import PlannedProperty, label_for, plan_properties
from app.sync.mapping.model import MappingTable
from app.sync.mapping.schema_check import HubSpotProperty

EXISTING = {
    "companies": [HubSpotProperty("name", "string"), HubSpotProperty("domain", "string")],
    "contacts": [HubSpotProperty("email", "string"), HubSpotProperty("firstname", "string")],
}


def table(*fields: dict[str, Any], match: str = "erp_customer_no", **extra: Any) -> MappingTable:
    """One companies mapping with ``fields``."""
    return MappingTable.model_validate(
        {
            "objects": [
                {
                    "name": "companies",
                    "source": {"object": "customers", "key": "customer_no"},
                    "hubspot": {"object": "companies", "match": match},
                    "fields": list(fields),
                    **extra,
                }
            ]
        }
    )


def planned(*fields: dict[str, Any], **extra: Any) -> dict[str, PlannedProperty]:
    return {p.name: p for p in plan_properties(table(*fields, **extra), EXISTING)}


def test_the_match_property_is_created_unique_with_a_readable_label_in_the_hubsync_group() -> None:
    found = planned({"source": "customer_no", "hubspot": "erp_customer_no"})
    prop = found["erp_customer_no"]
    assert prop == PlannedProperty(
        object_type="companies", name="erp_customer_no", label="Erp customer no",
        type="string", field_type="text", has_unique_value=True,
    )  # fmt: skip
    spec = prop.spec().wire()
    assert spec["groupName"] == "hubsync"
    assert spec["hasUniqueValue"] is True
    assert "options" not in spec


@pytest.mark.parametrize(
    ("transform", "kind", "field_type"),
    [
        ("number", "number", "number"),
        ("integer", "number", "number"),
        ("boolean", "bool", "booleancheckbox"),
        ("date", "date", "date"),
        ("datetime", "datetime", "date"),
        ("trim", "string", "text"),
        (["trim", "integer"], "number", "number"),
        (None, "string", "text"),
    ],
)
def test_the_type_follows_the_transform(transform: Any, kind: str, field_type: str) -> None:
    found = planned(
        {"source": "customer_no", "hubspot": "erp_customer_no"},
        {"source": "x", "hubspot": "erp_value", "transform": transform},
    )
    assert (found["erp_value"].type, found["erp_value"].field_type) == (kind, field_type)
    assert found["erp_value"].has_unique_value is False


def test_an_enumeration_gets_its_closed_set_of_values_as_options() -> None:
    found = planned(
        {"source": "customer_no", "hubspot": "erp_customer_no"},
        {"source": "tier", "hubspot": "erp_tier",
         "transform": {"map": {"A": "gold", "B": "silver"}, "default": "bronze"}},
    )  # fmt: skip
    prop = found["erp_tier"]
    assert (prop.type, prop.field_type) == ("enumeration", "select")
    assert prop.options == ("bronze", "gold", "silver")
    options = prop.spec().wire()["options"]
    assert [(o["label"], o["value"]) for o in options] == [
        ("bronze", "bronze"), ("gold", "gold"), ("silver", "silver"),
    ]  # fmt: skip


def test_an_open_value_map_is_text() -> None:
    found = planned(
        {"source": "customer_no", "hubspot": "erp_customer_no"},
        {"source": "tier", "hubspot": "erp_tier",
         "transform": {"map": {"A": "gold"}, "keep_unmapped": True}},
    )  # fmt: skip
    assert (found["erp_tier"].type, found["erp_tier"].options) == ("string", ())


def test_a_typed_match_field_stays_unique() -> None:
    found = planned({"source": "customer_no", "hubspot": "erp_customer_no", "transform": "integer"})
    assert (found["erp_customer_no"].type, found["erp_customer_no"].has_unique_value) == (
        "number",
        True,
    )
    assert list(found) == ["erp_customer_no"]


def test_existing_hubspot_defined_and_read_only_flows_are_not_planned() -> None:
    found = planned(
        {"source": "customer_no", "hubspot": "erp_customer_no"},
        {"source": "name", "hubspot": "name", "transform": "trim"},
        {"source": "domain", "hubspot": "domain"},
        {"source": "x", "hubspot": "hs_lead_status"},
        {"source": "y", "hubspot": "erp_from_hubspot", "direction": "from_hubspot"},
        direction="both",
    )
    assert list(found) == ["erp_customer_no"]


def test_nothing_is_planned_when_everything_exists() -> None:
    match = HubSpotProperty("erp_customer_no", "string", has_unique_value=True)
    existing = {**EXISTING, "companies": [*EXISTING["companies"], match]}
    mapping = table({"source": "customer_no", "hubspot": "erp_customer_no"},
                    {"source": "name", "hubspot": "name"})  # fmt: skip
    assert plan_properties(mapping, existing) == []


def test_an_object_type_the_portal_lacks_is_left_to_validation() -> None:
    mapping = table({"source": "customer_no", "hubspot": "erp_customer_no"})
    assert plan_properties(mapping, {"contacts": EXISTING["contacts"]}) == []


def test_a_deletion_flag_property_is_planned_as_a_checkbox() -> None:
    found = planned(
        {"source": "customer_no", "hubspot": "erp_customer_no"},
        on_delete={"source_deleted": "flag", "flag_field": "erp_active", "flag_value": False},
    )
    assert (found["erp_active"].type, found["erp_active"].field_type) == ("bool", "booleancheckbox")


def test_describe_names_object_type_and_unique() -> None:
    prop = planned({"source": "customer_no", "hubspot": "erp_customer_no"})["erp_customer_no"]
    assert prop.describe() == "companies.erp_customer_no (string/text; unique)"


@pytest.mark.parametrize(
    ("name", "label"),
    [("erp_customer_no", "Erp customer no"), ("kunde-nr", "Kunde nr"), ("x", "X")],
)
def test_labels(name: str, label: str) -> None:
    assert label_for(name) == label
