"""The layout of the sign-off documents, shared by the export and the XLSX import.

The XLSX workbook has one sheet per part of the table; row 1 of every data sheet
holds the German column headers below, each following row one element:

- ``Übersicht``: interface, version, created / approved by and at, a legend and
  the "Freigabe" signature area. Read by people only; the import ignores it.
- ``Objekte``: Objekt | Quellobjekt | Schlüssel | Änderungsfeld | Richtung |
  HubSpot-Objekt | Abgleichsfeld | Konfliktregel — one row per object mapping.
- ``Felder``: Objekt | Quellobjekt | Quellfeld | Richtung | HubSpot-Objekt |
  HubSpot-Eigenschaft | Kennzeichen | Transformation | Vorlage | Standardwert |
  Typ Standardwert | Konfliktregel | Bemerkung — one row per field rule, in order.
- ``Filter``: Objekt | Quellfeld | Bedingung | Wert | Typ Wert.
- ``Zuordnungen``: Objekt | Quellfeld | Zielobjekt | Zuordnungstyp-ID | Bezeichnung.
- ``Löschregeln``: Objekt | Quelle gelöscht → in HubSpot | HubSpot gelöscht → in
  Quelle | Markierungsfeld | Markierungswert | Typ Markierungswert |
  Datenschutz-Löschung — one row per object mapping.

Cell conventions (what makes XLSX → import → MappingTable exact):

- Enumerations are written as German labels (``→ nach HubSpot``, ``neuere
  gewinnt``, ``archivieren`` …); the import also accepts the YAML values
  (``to_hubspot``). An empty Richtung / Konfliktregel on a field means "as the
  object" (``None`` in the model).
- Transformation: a plain name as text (``trim``); chains and names with
  arguments in YAML flow notation, as in the mapping file
  (``[trim, {map: {CH: Schweiz}}]``).
- Free values (Standardwert, filter Wert, Markierungswert) are type-tagged: the
  ``Typ …`` column says Text, Ganzzahl, Dezimalzahl, Ja/Nein (native cells),
  or Liste, Datum, Zeitpunkt, Struktur (YAML flow text). An empty type column
  with an empty value is "no value"; with a value, the cell's own type decides.
- Formula injection: every text cell is written as a string cell, and text
  starting with ``=``, ``+``, ``-``, ``@``, tab, CR, LF or NUL gets a ``'``
  prefix (:func:`neutralize`, also used by the CSV). Text starting with ``'`` is
  prefixed too, so :func:`restore` can strip exactly the prefix the export
  added. Numbers stay numeric cells and need no prefix (a default of -5 is the
  number -5; the text "-5" is ``'-5`` with type Text).
- Kennzeichen (Schlüssel / Abgleichsfeld), Bemerkung, and Quellobjekt /
  HubSpot-Objekt on ``Felder`` are for readers; the import checks the object
  columns against ``Objekte`` and ignores the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from app.sync.mapping.model import ConflictRule, DeletionAction, Direction, PrivacyAction

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
_PREFIXED = (*FORMULA_TRIGGERS, "'")
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_FLOW_CHARS = 32_767  # Excel's limit for one cell
_EXACT_INT = 2**53  # beyond this Excel rounds numbers; such integers are written as text

Cell = str | int | float | bool | None
Row = dict[str, Cell]


def neutralize(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet could run as a formula (CSV and XLSX)."""
    return "'" + text if text.startswith(_PREFIXED) else text


def restore(text: str) -> str:
    """Strip the ``'`` that :func:`neutralize` added, and only that."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_PREFIXED) else text


ARROWS = {Direction.to_hubspot: "→", Direction.from_hubspot: "←", Direction.both: "↔"}
DIRECTION_WORDS = {
    Direction.to_hubspot: "nach HubSpot",
    Direction.from_hubspot: "von HubSpot",
    Direction.both: "beidseitig",
}
DIRECTIONS = {d: f"{ARROWS[d]} {w}" for d, w in DIRECTION_WORDS.items()}
CONFLICTS = {
    ConflictRule.newest: "neuere gewinnt",
    ConflictRule.source: "Quelle gewinnt",
    ConflictRule.hubspot: "HubSpot gewinnt",
}
DELETION_ACTIONS = {
    DeletionAction.archive: "archivieren",
    DeletionAction.delete: "löschen",
    DeletionAction.flag: "markieren",
    DeletionAction.gdpr_delete: "DSGVO-Löschung",
    DeletionAction.ignore: "ignorieren",
}
PRIVACY_ACTIONS = {
    PrivacyAction.delete: "löschen",
    PrivacyAction.anonymize: "anonymisieren",
    PrivacyAction.ignore: "ignorieren",
}
# Filter condition (the model's key, by alias) → label.
CONDITIONS = {
    "equals": "gleich",
    "not_equals": "ungleich",
    "in": "ist einer von",
    "not_in": "ist keiner von",
    "empty": "ist leer",
}
ROLE_KEY, ROLE_MATCH = "Schlüssel", "Abgleichsfeld"


# Type tags for free values: native cells, then those written as YAML flow text.
TEXT, INTEGER, DECIMAL, BOOLEAN = "Text", "Ganzzahl", "Dezimalzahl", "Ja/Nein"
FLOW_KINDS: dict[str, type | tuple[type, ...]] = {
    "Liste": list,
    "Zeitpunkt": dt.datetime,
    "Datum": dt.date,
    "Struktur": object,
}
KINDS = (TEXT, INTEGER, DECIMAL, BOOLEAN, *FLOW_KINDS)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a sheet: the key rows use, its German header and width."""

    key: str
    header: str
    width: int = 18
    derived: bool = False  # for readers only; the import does not need it
    choices: tuple[str, ...] = ()  # offered as a drop-down list in the XLSX


@dataclass(frozen=True, slots=True)
class Sheet:
    """One sheet of the workbook (and its columns, in order)."""

    name: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        """The column whose rows use ``key``."""
        return next(c for c in self.columns if c.key == key)


_DIRECTION = tuple(DIRECTIONS.values())
_CONFLICT = tuple(CONFLICTS.values())
_DELETION = tuple(DELETION_ACTIONS.values())

OBJECT = Column("object", "Objekt")
OBJECTS = Sheet("Objekte", (
    OBJECT, Column("source_object", "Quellobjekt"), Column("key", "Schlüssel"),
    Column("updated", "Änderungsfeld"), Column("direction", "Richtung", choices=_DIRECTION),
    Column("hubspot_object", "HubSpot-Objekt"), Column("match", "Abgleichsfeld", 20),
    Column("conflict", "Konfliktregel", choices=_CONFLICT),
))  # fmt: skip
FIELDS = Sheet("Felder", (
    OBJECT, Column("source_object", "Quellobjekt", derived=True),
    Column("source", "Quellfeld", 20), Column("direction", "Richtung", choices=_DIRECTION),
    Column("hubspot_object", "HubSpot-Objekt", derived=True),
    Column("hubspot", "HubSpot-Eigenschaft", 24), Column("role", "Kennzeichen", 24, True),
    Column("transform", "Transformation", 40), Column("template", "Vorlage", 30),
    Column("default", "Standardwert", 20),
    Column("default_type", "Typ Standardwert", 16, choices=KINDS),
    Column("conflict", "Konfliktregel", choices=_CONFLICT),
    Column("note", "Bemerkung", 40, derived=True),
))  # fmt: skip
FILTERS = Sheet("Filter", (
    OBJECT, Column("field", "Quellfeld", 20),
    Column("condition", "Bedingung", 16, choices=tuple(CONDITIONS.values())),
    Column("value", "Wert", 40), Column("value_type", "Typ Wert", 16, choices=KINDS),
))  # fmt: skip
ASSOCIATIONS = Sheet("Zuordnungen", (
    OBJECT, Column("field", "Quellfeld", 20), Column("to", "Zielobjekt"),
    Column("type_id", "Zuordnungstyp-ID"), Column("label", "Bezeichnung", 30),
))  # fmt: skip
DELETIONS = Sheet("Löschregeln", (
    OBJECT, Column("source_deleted", "Quelle gelöscht → in HubSpot", 28, choices=_DELETION),
    Column("hubspot_deleted", "HubSpot gelöscht → in Quelle", 28, choices=_DELETION),
    Column("flag_field", "Markierungsfeld", 20), Column("flag_value", "Markierungswert"),
    Column("flag_value_type", "Typ Markierungswert", 16, choices=KINDS),
    Column("privacy", "Datenschutz-Löschung", 22, choices=tuple(PRIVACY_ACTIONS.values())),
))  # fmt: skip
SHEETS = (OBJECTS, FIELDS, FILTERS, ASSOCIATIONS, DELETIONS)
OVERVIEW = "Übersicht"


def parse_label(text: str, labels: Mapping[Any, str]) -> Any:
    """The key whose label (or own value) is ``text``; ValueError naming the choices."""
    wanted = text.strip().casefold()
    for key, label in labels.items():
        if wanted in (label.casefold(), str(key).casefold()):
            return key
    raise ValueError(f"{text!r} is not one of: {', '.join(labels.values())}")


def dump_flow(value: Any) -> str:
    """``value`` in YAML flow notation on (usually) one line, as in the mapping file."""
    text = yaml.safe_dump(
        value, default_flow_style=True, allow_unicode=True, sort_keys=False, width=2**31
    )
    return text.removesuffix("\n...\n").removesuffix("\n")


def load_flow(text: str) -> Any:
    """Parse YAML flow text safely: size-capped, no anchors or aliases (SECURITY.md §4)."""
    if len(text) > MAX_FLOW_CHARS:
        raise ValueError(f"longer than {MAX_FLOW_CHARS} characters")
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise ValueError("YAML anchors and aliases are not allowed")
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as error:
        raise ValueError(f"not valid YAML: {error}".splitlines()[0]) from error


_YES, _NO = {"ja", "wahr", "true", "1"}, {"nein", "falsch", "false", "0"}


def value_cell(value: Any) -> tuple[Cell, str | None]:
    """A free value as (cell, type tag): native where exact, else YAML flow text."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, BOOLEAN
    if isinstance(value, int):
        return (value if abs(value) < _EXACT_INT else str(value)), INTEGER
    if isinstance(value, float):
        return value, DECIMAL
    if isinstance(value, str) and not _XML_ILLEGAL.search(value):
        return value, TEXT
    kind = next(k for k, t in FLOW_KINDS.items() if isinstance(value, t))
    return dump_flow(value), kind


def cell_value(cell: object, kind: str | None) -> Any:
    """The value a (cell, type tag) pair stands for; ValueError if they disagree."""
    if kind is None:
        return cell
    if kind in FLOW_KINDS:
        value = load_flow(cell) if isinstance(cell, str) else None
        if not isinstance(value, FLOW_KINDS[kind]) or (
            kind == "Datum" and isinstance(value, dt.datetime)
        ):
            raise ValueError(f"{cell!r} is no {kind} in YAML notation")
        return value
    return _NATIVE[kind](cell)


def _text(cell: object) -> str:
    return "" if cell is None else str(cell)


def _integer(cell: object) -> int:
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    try:
        if isinstance(cell, int | str) and not isinstance(cell, bool):
            return int(cell)
    except ValueError:
        pass
    raise ValueError(f"{cell!r} is no Ganzzahl")


def _decimal(cell: object) -> float:
    try:
        if isinstance(cell, int | float | str) and not isinstance(cell, bool):
            return float(cell)
    except ValueError:
        pass
    raise ValueError(f"{cell!r} is no Dezimalzahl")


def _boolean(cell: object) -> bool:
    if isinstance(cell, bool):
        return cell
    word = str(cell).strip().casefold()
    if word in _YES | _NO:
        return word in _YES
    raise ValueError(f"{cell!r} is no Ja/Nein value")


_NATIVE = {TEXT: _text, INTEGER: _integer, DECIMAL: _decimal, BOOLEAN: _boolean}
