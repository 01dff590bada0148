"""The scope calculator: the scopes a mapping table needs, and nothing more."""

from __future__ import annotations

import pytest

from app.connectors.hubspot.sandbox.tokens import ALL_SCOPES
from app.sync.hubspot_oauth import required_scopes
from app.sync.hubspot_oauth.scopes import object_scopes
from app.sync.mapping.loader import load_mapping
from app.sync.mapping.model import MappingTable
from tests.factories import MAPPING_YAML

CONTACTS_FROM_HUBSPOT = """\
objects:
  - name: people
    source: {object: persons, key: id}
    hubspot: {object: contacts, match: email}
    direction: from_hubspot
    fields:
      - {source: mail, hubspot: email}
      - {source: first, hubspot: firstname}
"""
COMPANIES_AND_CONTACTS = """\
objects:
  - name: firms
    source: {object: customers, key: customer_no}
    hubspot: {object: companies, match: erp_customer_no}
    direction: from_hubspot
    fields:
      - {source: customer_no, hubspot: erp_customer_no}
  - name: people
    source: {object: persons, key: id}
    hubspot: {object: contacts, match: email}
    fields:
      - {source: mail, hubspot: email}
    associations:
      - {field: customer_no, to: firms}
"""


def table(text: str) -> MappingTable:
    return load_mapping(text)


def test_no_table_needs_only_oauth() -> None:
    assert required_scopes([]) == ("oauth",)


def test_companies_written_with_a_custom_match_property() -> None:
    assert required_scopes([table(MAPPING_YAML)]) == (
        "crm.objects.companies.read",
        "crm.objects.companies.write",
        "crm.schemas.companies.read",
        "crm.schemas.companies.write",
        "oauth",
    )


def test_reading_default_properties_needs_no_write_scope() -> None:
    assert required_scopes([table(CONTACTS_FROM_HUBSPOT)]) == (
        "crm.objects.contacts.read",
        "crm.schemas.contacts.read",
        "oauth",
    )


def test_an_association_needs_write_on_both_ends() -> None:
    scopes = required_scopes([table(COMPANIES_AND_CONTACTS)])
    assert "crm.objects.contacts.write" in scopes
    assert "crm.objects.companies.write" in scopes  # the firms end only reads otherwise
    assert "crm.schemas.companies.write" in scopes  # erp_customer_no may have to be created
    assert "crm.schemas.contacts.write" not in scopes  # email exists in every portal


def test_tables_are_merged_without_duplicates() -> None:
    scopes = required_scopes([table(MAPPING_YAML), table(MAPPING_YAML)])
    assert len(scopes) == len(set(scopes))
    assert list(scopes) == sorted(scopes)


@pytest.mark.parametrize(
    ("object_type", "read", "schema_read"),
    [
        ("contacts", "crm.objects.contacts.read", "crm.schemas.contacts.read"),
        ("0-2", "crm.objects.companies.read", "crm.schemas.companies.read"),
        ("0-3", "crm.objects.deals.read", "crm.schemas.deals.read"),
        ("line_items", "crm.objects.line_items.read", None),
        ("tickets", "tickets", None),
        ("2-1234567", "crm.objects.custom.read", "crm.schemas.custom.read"),
        ("p_machines", "crm.objects.custom.read", "crm.schemas.custom.read"),
        ("quotes", "crm.objects.quotes.read", None),
    ],
)
def test_object_scopes(object_type: str, read: str, schema_read: str | None) -> None:
    scopes = object_scopes(object_type)
    assert scopes.read == read
    assert scopes.schema_read == schema_read


def test_standard_objects_ask_only_for_scopes_hubspot_knows() -> None:
    for name in ("contacts", "companies", "deals", "products", "line_items", "tickets", "2-1"):
        scopes = object_scopes(name)
        for scope in (scopes.read, scopes.write, scopes.schema_read, scopes.schema_write):
            assert scope is None or scope in ALL_SCOPES, scope
