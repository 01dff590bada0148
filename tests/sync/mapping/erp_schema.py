"""A fake ERP (``discover()``) and HubSpot portal that fit docs/examples/erp-companies.yaml.

The portal is the sandbox's standard properties plus the example's custom ones, so
tests of mapping tables and of the sync engine check against what the sandbox serves.
"""

from __future__ import annotations

from app.connectors.base import FieldInfo, FieldType, ObjectInfo
from app.connectors.hubspot.sandbox.schema import PropertyDef, standard_types
from app.sync.mapping.schema_check import HubSpotProperty

STR, INT, NUM, BOOL, DATE, DT = (
    FieldType.string,
    FieldType.integer,
    FieldType.number,
    FieldType.boolean,
    FieldType.date,
    FieldType.datetime,
)


def source_object(object_name: str, key: str, text: str, **types: FieldType) -> ObjectInfo:
    """An ERP table: the fields named in ``text`` hold text, ``changed_at`` is the cursor."""
    types = {**dict.fromkeys(text.split(), STR), **types, "changed_at": DT}
    fields = tuple(
        FieldInfo(n, t, is_key=n == key, can_be_cursor=n == "changed_at") for n, t in types.items()
    )
    return ObjectInfo(object_name, fields, (key,), cursor="changed_at")


ERP = [
    source_object(
        "customers",
        "customer_no",
        "customer_no name website street zip city country_code phone turnover branch_code"
        " crm_stage",
        employees=INT,
        blocked=BOOL,
        is_test=BOOL,
    ),
    source_object(
        "persons",
        "person_id",
        "customer_no email first_name last_name function phone mobile language gender",
        person_id=INT,
    ),
    source_object(
        "orders",
        "order_no",
        "order_no customer_no title status",
        contact_person_id=INT,
        total_chf=NUM,
        order_date=DATE,
    ),
]


def sandbox_property(definition: PropertyDef) -> HubSpotProperty:
    return HubSpotProperty(
        name=definition.name,
        type=definition.type,
        field_type=definition.field_type,
        options=tuple(sorted(definition.option_values)),
        has_unique_value=definition.has_unique_value,
        read_only=definition.read_only,
    )


CUSTOM = {
    "companies": [
        HubSpotProperty("erp_customer_no", "string", has_unique_value=True),
        HubSpotProperty("erp_blocked", "bool", "booleancheckbox"),
        HubSpotProperty(
            "erp_branch", "enumeration", "select",
            ("manufacturing", "wholesale", "retail", "services"),
        ),
    ],
    "contacts": [
        HubSpotProperty("erp_language", "enumeration", "select", ("de", "fr", "it", "en")),
        HubSpotProperty("erp_salutation", "string"),
    ],
    "deals": [HubSpotProperty("erp_order_no", "string", has_unique_value=True)],
}  # fmt: skip


def portal() -> dict[str, list[HubSpotProperty]]:
    """The sandbox portal's standard properties plus the example's custom ones."""
    return {
        name: [*map(sandbox_property, kind.properties.values()), *CUSTOM.get(name, [])]
        for name, kind in standard_types().items()
    }
