"""Settings of the csv connector: where the files are and how the ERP wrote them."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from app.connectors.base import ConnectorConfig

# Codec names (as ``codecs.lookup`` spells them) the connector reads and writes.
SUPPORTED_ENCODINGS = ("utf-8", "utf-8-sig", "cp1252")
DEFAULT_KEY = "id"


class CsvConfig(ConnectorConfig):
    """A folder of ``<object>.csv`` files: delimiter, encoding, keys and number format."""

    folder: Path
    delimiter: str = ";"  # Swiss and German ERPs export with ";" (the "," is the decimal mark)
    encoding: str = "utf-8"  # "utf-8-sig" writes a BOM; reading accepts a BOM either way
    decimal_separator: Literal[".", ","] = "."
    keys: dict[str, str] = Field(default_factory=dict)  # object → key column (default "id")
    cursor_columns: dict[str, str] = Field(default_factory=dict)  # object → e.g. updated_at
    batch_size: int = Field(default=500, ge=1, le=100_000)
    timeout_s: float = Field(default=30.0, gt=0)  # a hung network share must not hang a run

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in '"\r\n':
            raise ValueError("must be exactly one character, not a quote or a line break")
        return value

    @field_validator("encoding")
    @classmethod
    def _supported_encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
        except LookupError:
            name = ""
        if name not in SUPPORTED_ENCODINGS:
            raise ValueError(f"unsupported encoding; use one of {', '.join(SUPPORTED_ENCODINGS)}")
        return name

    def key_column(self, object_name: str) -> str:
        """The column that identifies a row of ``object_name``."""
        return self.keys.get(object_name, DEFAULT_KEY)
