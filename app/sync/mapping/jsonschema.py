"""The JSON Schemas editors use to check mapping tables and interface files as they are typed.

Both are generated from the pydantic models, so they cannot disagree with the
loader. Committed copies live in ``docs/``; a test keeps them current, and
``python -m app.sync.mapping.jsonschema`` rewrites them after a model change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from app.sync.mapping.loader import InterfaceFile
from app.sync.mapping.model import MappingTable

DRAFT = "https://json-schema.org/draft/2020-12/schema"
MAPPING_SCHEMA_FILE = "mapping.schema.json"
INTERFACE_SCHEMA_FILE = "interface.schema.json"


def mapping_json_schema() -> dict[str, Any]:
    """The JSON Schema of a bare mapping table (``objects: [...]``)."""
    return _schema(
        MappingTable,
        "urn:hubsync:schema:mapping",
        "hubsync mapping table",
        "Object mappings between a business system and HubSpot: fields, transforms, "
        "directions, conflict rules, filters, associations and deletion policies.",
    )


def interface_json_schema() -> dict[str, Any]:
    """The JSON Schema of an interface file (tenant, schedule, connections, ``mapping``)."""
    return _schema(
        InterfaceFile,
        "urn:hubsync:schema:interface",
        "hubsync interface file",
        "Everything `hubsync interface apply` needs; strings may hold ${ENV_VAR} references "
        "outside `mapping`.",
    )


def json_schema_files() -> dict[str, str]:
    """The committed schema files by name, exactly as they are written."""
    schemas = {
        MAPPING_SCHEMA_FILE: mapping_json_schema(),
        INTERFACE_SCHEMA_FILE: interface_json_schema(),
    }
    return {name: json.dumps(s, indent=2, ensure_ascii=False) + "\n" for name, s in schemas.items()}


def write_json_schemas(directory: Path) -> list[Path]:
    """Write (or refresh) the schema files into ``directory``; returns their paths."""
    written = []
    for name, text in json_schema_files().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _schema(model: type[BaseModel], schema_id: str, title: str, text: str) -> dict[str, Any]:
    generated = model.model_json_schema()
    generated.pop("title", None)
    generated.pop("description", None)
    return {"$schema": DRAFT, "$id": schema_id, "title": title, "description": text} | generated


if __name__ == "__main__":
    write_json_schemas(Path(__file__).resolve().parents[3] / "docs")
