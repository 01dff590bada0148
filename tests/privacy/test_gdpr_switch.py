"""The mapping switch ``on_delete.source_deleted: gdpr_delete``: where it is allowed, what it
plans, and that the JSON Schema and the XLSX sign-off sheet carry it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.sync.engine.deletion import DeletionEvent, DeletionStep, plan_deletion
from app.sync.mapping.export import DocumentInfo, export_xlsx
from app.sync.mapping.loader import load_mapping
from app.sync.mapping.model import MappingTable
from app.sync.mapping.xlsx_import import import_xlsx

DOCS = Path(__file__).parents[2] / "docs"


def table(*, hubspot_object: str = "contacts", on_delete: str = "source_deleted: gdpr_delete",
          direction: str = "to_hubspot") -> str:  # fmt: skip
    return f"""\
objects:
  - name: persons
    source: {{object: persons, key: person_id}}
    hubspot: {{object: {hubspot_object}, match: email}}
    direction: {direction}
    on_delete: {{{on_delete}}}
    fields:
      - {{source: email, hubspot: email}}
"""


class TestTheSwitch:
    def test_a_contacts_mapping_plans_the_gdpr_delete(self) -> None:
        mapping = load_mapping(table()).objects[0]

        plan = plan_deletion(mapping, DeletionEvent.source_deleted)

        assert (plan.step, plan.values) == (DeletionStep.gdpr_delete, {})

    def test_other_objects_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="for HubSpot contacts only"):
            MappingTable.model_validate_json(
                json.dumps({"objects": [_raw(hubspot_object="companies")]})
            )

    def test_it_never_applies_to_the_source(self) -> None:
        with pytest.raises(ValidationError, match="use it for `source_deleted` only"):
            MappingTable.model_validate_json(
                json.dumps({"objects": [_raw(on_delete={"hubspot_deleted": "gdpr_delete"})]})
            )

    def test_a_mapping_that_never_writes_hubspot_ignores_it_and_says_why(self) -> None:
        mapping = load_mapping(table(direction="from_hubspot")).objects[0]

        plan = plan_deletion(mapping, DeletionEvent.source_deleted)

        assert (plan.step, plan.reason) == (DeletionStep.ignore, "persons flows from_hubspot only")


class TestItsDocuments:
    def test_the_committed_json_schema_offers_it(self) -> None:
        schema = json.loads((DOCS / "mapping.schema.json").read_text(encoding="utf-8"))

        assert "gdpr_delete" in schema["$defs"]["DeletionAction"]["enum"]

    def test_the_xlsx_sheet_keeps_it(self) -> None:
        original = load_mapping(table())
        info = DocumentInfo("erp-persons", 1, "test", dt.datetime(2026, 11, 28, tzinfo=dt.UTC))

        again = import_xlsx(export_xlsx(original, info))

        assert again.objects[0].on_delete.source_deleted == "gdpr_delete"


def _raw(
    *, hubspot_object: str = "contacts", on_delete: dict[str, str] | None = None
) -> dict[str, object]:
    return {
        "name": "persons",
        "source": {"object": "persons", "key": "person_id"},
        "hubspot": {"object": hubspot_object, "match": "email"},
        "on_delete": on_delete or {"source_deleted": "gdpr_delete"},
        "fields": [{"source": "email", "hubspot": "email"}],
    }
