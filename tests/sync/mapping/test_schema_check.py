"""Mapping tables checked against both sides' real schemas, each problem located."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import pytest

from app.connectors.base import Connector, FieldInfo, FieldType, ObjectInfo
from app.connectors.hubspot.errors import NotFound
from app.connectors.hubspot.properties import PropertiesApi, Property
from app.sync.mapping.loader import read_interface_file, read_mapping
from app.sync.mapping.problems import MappingProblem
from app.sync.mapping.schema_check import (
    HubSpotProperty,
    check_against,
    fetch_schemas,
    hubspot_property,
)
from tests.sync.mapping.erp_schema import BOOL, DATE, DT, ERP, INT, NUM, STR, portal

EXAMPLE = Path(__file__).parents[3] / "docs" / "examples" / "erp-companies.yaml"
TABLE = textwrap.dedent("""\
    objects:
      - name: companies
        source: {object: customers, key: customer_no, updated: changed_at}
        hubspot: {object: companies, match: erp_customer_no}
        direction: both
        fields:
          - {source: name, hubspot: name}
          - {source: employees, hubspot: numberofemployees, transform: integer}
          - {source: crm_stage, hubspot: lifecyclestage, direction: from_hubspot}
        filters:
          - {field: is_test, equals: false}
      - name: contacts
        source: {object: persons, key: person_id}
        hubspot: {object: contacts, match: email}
        fields:
          - {source: email, hubspot: email}
        associations:
          - {field: customer_no, to: companies}
    """)


def check(
    text: str = TABLE,
    *,
    erp: Sequence[ObjectInfo] | None = ERP,
    hubspot: dict[str, list[HubSpotProperty]] | None = None,
) -> list[MappingProblem]:
    loaded = read_mapping(text)
    return check_against(
        loaded.table,
        source_objects=erp,
        hubspot_properties=portal() if hubspot is None else hubspot,
        line_of=loaded.locator.line,
    )


def changed(old: str, new: str) -> str:
    assert old in TABLE
    return TABLE.replace(old, new, 1)


def located(problems: list[MappingProblem]) -> list[tuple[str | None, str | None, int | None]]:
    return [(p.object, p.field, p.line) for p in problems]


class TestAGoodTable:
    def test_it_has_no_problems(self) -> None:
        assert check() == []

    def test_the_example_file_passes_against_a_matching_portal(self) -> None:
        loaded = read_interface_file(
            EXAMPLE.read_text(), environ={"ERP_DB_PASSWORD": "x", "HUBSPOT_TOKEN": "t"}
        )

        problems = check_against(
            loaded.interface.mapping,
            source_objects=ERP,
            hubspot_properties=portal(),
            line_of=loaded.locator.within("mapping").line,
        )

        assert problems == []

    def test_a_side_given_as_none_is_not_checked(self) -> None:
        text = changed("object: customers", "object: clients").replace("companies,", "firms,")
        table = read_mapping(text).table

        only_hubspot = check_against(table, source_objects=None, hubspot_properties=portal())
        only_source = check_against(table, source_objects=ERP, hubspot_properties=None)

        assert [p.field for p in only_hubspot] == ["hubspot.object"]
        assert [p.field for p in only_source] == ["source.object"]
        assert only_source[0].line is None  # no ``line_of`` given


class TestUnknownNames:
    def test_an_unknown_source_object(self) -> None:
        [problem] = check(changed("object: customers", "object: clients"))

        assert located([problem]) == [("companies", "source.object", 3)]
        assert problem.message == "the source has no object 'clients'"

    def test_unknown_source_fields_everywhere(self) -> None:
        text = TABLE.replace("key: customer_no", "key: cust_no").replace(
            "source: name,", "source: nom,"
        )
        text = text.replace("field: is_test", "field: test").replace(
            "field: customer_no", "field: cust"
        )

        problems = check(text)

        assert located(problems) == [
            ("companies", "source.key", 3),
            ("companies", "name", 7),
            ("companies", "filters[0].field", 11),
            ("contacts", "associations[0].field", 18),
        ]
        assert problems[1].message == "the source object 'customers' has no field 'nom'"

    def test_an_unknown_hubspot_object(self) -> None:
        [problem] = check(changed("object: companies,", "object: firms,"))

        assert located([problem]) == [("companies", "hubspot.object", 4)]
        assert problem.message == "HubSpot has no object type 'firms'"

    def test_an_unknown_hubspot_property(self) -> None:
        [problem] = check(changed("hubspot: name}", "hubspot: nmae}"))

        assert located([problem]) == [("companies", "nmae", 7)]
        assert problem.message == "HubSpot companies have no property 'nmae'"

    def test_a_template_using_an_unknown_field(self) -> None:
        text = changed("{source: name, hubspot: name}", "{hubspot: name, template: '{{ nom }}'}")

        [problem] = check(text)

        assert located([problem]) == [("companies", "name", 7)]
        assert "no field 'nom'" in problem.message

    def test_an_updated_field_that_cannot_be_a_cursor(self) -> None:
        [problem] = check(changed("updated: changed_at", "updated: name"))

        assert located([problem]) == [("companies", "source.updated", 3)]
        assert problem.message == "'name' cannot be a change cursor"


class TestMatchProperty:
    def test_a_match_property_that_is_not_unique(self) -> None:
        [problem] = check(changed("match: erp_customer_no", "match: name"))

        assert located([problem]) == [("companies", "hubspot.match", 4)]
        assert "not a unique-value property" in problem.message

    def test_email_is_unique_for_contacts_whatever_the_flag_says(self) -> None:
        hubspot = portal()
        hubspot["contacts"] = [replace(p, has_unique_value=False) for p in hubspot["contacts"]]

        assert check(hubspot=hubspot) == []


class TestTypes:
    @pytest.mark.parametrize(
        ("source_type", "hubspot_type", "ok"),
        [
            (STR, "number", False),
            (INT, "number", True),
            (NUM, "string", True),
            (STR, "bool", False),
            (BOOL, "bool", True),
            (DT, "date", False),
            (DATE, "datetime", True),
            (FieldType.json, "string", False),
        ],
    )
    def test_to_hubspot_without_a_transform(
        self, source_type: FieldType, hubspot_type: str, ok: bool
    ) -> None:
        problems = self.check_one(source_type, hubspot_type, "to_hubspot")

        assert located(problems) == ([] if ok else [("companies", "target", 8)])

    @pytest.mark.parametrize(
        ("source_type", "hubspot_type", "ok"),
        [
            (INT, "datetime", False),
            (STR, "datetime", True),
            (INT, "number", False),
            (NUM, "number", True),
        ],
    )
    def test_from_hubspot_without_a_transform(
        self, source_type: FieldType, hubspot_type: str, ok: bool
    ) -> None:
        problems = self.check_one(source_type, hubspot_type, "from_hubspot")

        assert located(problems) == ([] if ok else [("companies", "target", 8)])

    def test_a_transform_decides_the_kind_sent(self) -> None:
        assert self.check_one(STR, "number", "to_hubspot", "number") == []
        assert self.check_one(DT, "date", "to_hubspot", "date") == []

    def test_a_transform_of_the_wrong_kind(self) -> None:
        [problem] = self.check_one(STR, "number", "to_hubspot", "date")

        assert problem.message == (
            "the transform gives date values; HubSpot's 'target' is a number property"
        )

    def test_a_transform_without_reverse_cannot_flow_from_hubspot(self) -> None:
        [problem] = self.check_one(STR, "string", "from_hubspot", "domain")

        assert located([problem]) == [("companies", "target", 8)]
        assert problem.message == "has no reverse, so it cannot flow from HubSpot"

    def test_a_constant_has_the_kind_of_its_value(self) -> None:
        text = changed(
            "{source: employees, hubspot: numberofemployees, transform: integer}",
            "{hubspot: numberofemployees, default: many, direction: to_hubspot}",
        )

        [problem] = check(text)

        assert located([problem]) == [("companies", "numberofemployees", 8)]

    @staticmethod
    def check_one(
        source_type: FieldType, hubspot_type: str, direction: str, transform: str | None = None
    ) -> list[MappingProblem]:
        extra = f", transform: {transform}" if transform else ""
        text = changed(
            "{source: employees, hubspot: numberofemployees, transform: integer}",
            f"{{source: value, hubspot: target, direction: {direction}{extra}}}",
        )
        customers = replace(ERP[0], fields=(*ERP[0].fields, FieldInfo("value", source_type)))
        hubspot = portal()
        hubspot["companies"].append(HubSpotProperty("target", hubspot_type))
        return check(text, erp=[customers, *ERP[1:]], hubspot=hubspot)


class TestEnumerations:
    def test_map_values_that_are_no_options(self) -> None:
        text = changed(
            "{source: crm_stage, hubspot: lifecyclestage, direction: from_hubspot}",
            "{source: crm_stage, hubspot: lifecyclestage, direction: to_hubspot,\n"
            "             transform: {map: {K: customer, L: lead, P: prospect}, default: other}}",
        )

        [problem] = check(text)

        assert located([problem]) == [("companies", "lifecyclestage", 10)]
        assert problem.message.startswith("HubSpot refuses 'prospect' for 'lifecyclestage';")

    def test_a_default_that_is_no_option(self) -> None:
        text = changed(
            "{source: email, hubspot: email}",
            "{source: email, hubspot: email}\n      - {hubspot: lifecyclestage, default: vip}",
        )

        [problem] = check(text)

        assert located([problem]) == [("contacts", "lifecyclestage", 17)]
        assert "'vip'" in problem.message

    def test_values_of_a_multiple_choice_are_checked_one_by_one(self) -> None:
        hubspot = portal()
        hubspot["companies"].append(HubSpotProperty("tags", "enumeration", "checkbox", ("a", "b")))
        good = changed("{source: name, hubspot: name}", "{hubspot: tags, default: 'a;b'}")
        bad = changed("{source: name, hubspot: name}", "{hubspot: tags, default: 'a;c'}")

        assert check(good, hubspot=hubspot) == []
        assert "HubSpot refuses 'c'" in check(bad, hubspot=hubspot)[0].message

    def test_a_boolean_property_takes_true_and_false(self) -> None:
        hubspot = portal()
        hubspot["companies"].append(HubSpotProperty("vip", "bool", "booleancheckbox"))
        good = changed("{source: name, hubspot: name}", "{hubspot: vip, default: true}")
        bad = changed("{source: name, hubspot: name}", "{hubspot: vip, default: 'yes'}")

        assert check(good, hubspot=hubspot) == []
        assert [p.message.split(";")[0] for p in check(bad, hubspot=hubspot)] == [
            "the default gives string values",
            "HubSpot refuses 'yes' for 'vip'",
        ]

    def test_options_kept_elsewhere_are_not_checked(self) -> None:
        text = changed("{source: name, hubspot: name}", "{hubspot: hubspot_owner_id, default: 42}")

        assert check(text) == []


class TestWrites:
    def test_a_read_only_hubspot_property(self) -> None:
        text = changed("{source: name, hubspot: name}", "{source: name, hubspot: hs_object_id}")

        [problem] = check(text)

        assert located([problem]) == [("companies", "hs_object_id", 7)]
        assert problem.message == "'hs_object_id' is read-only in HubSpot"

    def test_a_read_only_property_may_flow_from_hubspot(self) -> None:
        text = changed(
            "{source: name, hubspot: name}",
            "{source: changed_at, hubspot: hs_lastmodifieddate, direction: from_hubspot}",
        )

        assert check(text) == []

    def test_both_ways_with_an_object_that_is_not_writable(self) -> None:
        erp = [replace(ERP[0], writable=False), *ERP[1:]]

        [problem] = check(erp=erp)

        assert located([problem]) == [("companies", "direction", 5)]
        assert problem.message == "the source object 'customers' is read-only"

    def test_deletions_and_privacy_into_an_object_that_is_not_writable(self) -> None:
        text = TABLE.replace(
            "    associations:",
            "    on_delete: {hubspot_deleted: delete}\n"
            "    on_privacy_deletion: anonymize\n"
            "    associations:",
        )
        erp = [ERP[0], replace(ERP[1], writable=False), ERP[2]]

        assert located(check(text, erp=erp)) == [
            ("contacts", "on_delete.hubspot_deleted", 17),
            ("contacts", "on_privacy_deletion", 18),
        ]

    def test_flag_fields_exist_on_their_side(self) -> None:
        text = TABLE.replace(
            "    filters:",
            "    on_delete: {source_deleted: flag, hubspot_deleted: flag, flag_field: gone}\n"
            "    filters:",
        )

        problems = check(text)

        assert [(p.field, p.line) for p in problems] == [
            ("on_delete.flag_field", 10),
            ("on_delete.flag_field", 10),
        ]
        assert {p.message for p in problems} == {
            "the source object 'customers' has no field 'gone'",
            "HubSpot companies have no property 'gone'",
        }

    def test_a_field_from_hubspot_needs_a_source_field(self) -> None:
        text = changed(
            "{source: name, hubspot: name}", "{hubspot: name, default: x, direction: from_hubspot}"
        )

        [problem] = check(text)

        assert problem.message == "a field that flows from HubSpot needs `source`"


def text_property(name: str, *, archived: bool = False) -> Property:
    return Property(
        name=name, label=name, type="string", field_type="text", group_name="g", archived=archived
    )


class TestFromTheHubSpotClient:
    def test_a_property_definition_is_converted(self) -> None:
        definition = Property.model_validate(
            {
                "name": "erp_branch",
                "label": "Branch",
                "type": "enumeration",
                "fieldType": "select",
                "groupName": "erp",
                "options": [{"label": "Retail", "value": "retail", "hidden": False}],
                "hasUniqueValue": False,
                "modificationMetadata": {"readOnlyValue": True, "archivable": True},
            }
        )

        assert hubspot_property(definition) == HubSpotProperty(
            "erp_branch", "enumeration", "select", ("retail",), False, True
        )

    def test_a_calculated_property_is_read_only(self) -> None:
        definition = Property(
            name="total", label="Total", type="number", field_type="calculation_equation",
            group_name="g", calculated=True,
        )  # fmt: skip

        assert hubspot_property(definition).read_only

    async def test_schemas_are_fetched_for_the_objects_the_table_maps(self) -> None:
        table = read_mapping(changed("object: contacts,", "object: people,")).table
        asked: list[str] = []

        class Properties:
            async def list(self, object_type: str) -> list[Property]:
                asked.append(object_type)
                if object_type == "people":
                    raise NotFound("unknown object type", status=404)
                return [text_property("name"), text_property("old", archived=True)]

        class Source:
            async def discover(self) -> list[ObjectInfo]:
                return ERP

        source, hubspot = await fetch_schemas(
            table,
            connector=cast(Connector[Any], Source()),
            properties=cast(PropertiesApi, Properties()),
        )

        assert source == ERP
        assert asked == ["companies", "people"]
        assert hubspot == {"companies": [HubSpotProperty("name", "string")]}
