"""The published JSON Schemas: current, and agreeing with the loader on real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from app.sync.mapping.jsonschema import (
    INTERFACE_SCHEMA_FILE,
    MAPPING_SCHEMA_FILE,
    interface_json_schema,
    json_schema_files,
    mapping_json_schema,
    write_json_schemas,
)

DOCS = Path(__file__).parents[3] / "docs"
EXAMPLE = DOCS / "examples" / "erp-companies.yaml"


def errors(schema: dict[str, Any], document: object) -> list[str]:
    return [e.message for e in Draft202012Validator(schema).iter_errors(document)]


class TestCommittedFiles:
    @pytest.mark.parametrize("name", [MAPPING_SCHEMA_FILE, INTERFACE_SCHEMA_FILE])
    def test_the_committed_file_is_current(self, name: str) -> None:
        committed = (DOCS / name).read_text(encoding="utf-8")

        assert committed == json_schema_files()[name], (
            f"docs/{name} is stale: run `python -m app.sync.mapping.jsonschema`"
        )

    def test_write_produces_exactly_the_files(self, tmp_path: Path) -> None:
        written = write_json_schemas(tmp_path)

        assert {p.name: p.read_text(encoding="utf-8") for p in written} == json_schema_files()


class TestSchemas:
    @pytest.mark.parametrize("schema", [mapping_json_schema(), interface_json_schema()])
    def test_they_are_valid_and_say_what_they_are(self, schema: dict[str, Any]) -> None:
        Draft202012Validator.check_schema(schema)

        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].startswith("urn:hubsync:schema:")
        assert schema["title"].startswith("hubsync")
        assert schema["description"]

    def test_the_example_file_is_valid(self) -> None:
        document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))

        assert errors(interface_json_schema(), document) == []
        assert errors(mapping_json_schema(), document["mapping"]) == []

    def test_an_editor_sees_a_wrong_direction_and_a_misspelt_key(self) -> None:
        document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["mapping"]
        document["objects"][0]["direction"] = "sideways"
        document["objects"][1]["fields"][0]["transfrom"] = "trim"

        found = errors(mapping_json_schema(), document)

        assert len(found) == 2
        assert any("'sideways' is not one of" in e for e in found)
        assert any("'transfrom' was unexpected" in e for e in found)

    @pytest.mark.parametrize("interval", [9, 46])
    def test_an_editor_sees_an_interval_out_of_range(self, interval: int) -> None:
        document = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        document["interval_minutes"] = interval

        assert len(errors(interface_json_schema(), document)) == 1

    def test_the_committed_file_is_json(self) -> None:
        committed = json.loads((DOCS / MAPPING_SCHEMA_FILE).read_text(encoding="utf-8"))

        assert committed["$defs"]["FieldRule"]["additionalProperties"] is False
