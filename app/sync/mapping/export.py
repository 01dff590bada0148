"""A mapping table as sign-off documents: XLSX (re-importable), CSV and Markdown.

Operator and customer sign these off, so they read in German; the XLSX also
carries everything :mod:`app.sync.mapping.xlsx_import` needs to rebuild the
exact table. The layout and cell conventions are documented in
:mod:`app.sync.mapping.layout`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from app.sync.mapping.layout import (
    ARROWS,
    ASSOCIATIONS,
    CONDITIONS,
    CONFLICTS,
    DELETION_ACTIONS,
    DELETIONS,
    DIRECTION_WORDS,
    DIRECTIONS,
    FIELDS,
    FILTERS,
    OBJECTS,
    OVERVIEW,
    PRIVACY_ACTIONS,
    ROLE_KEY,
    ROLE_MATCH,
    SHEETS,
    Cell,
    Row,
    Sheet,
    dump_flow,
    neutralize,
    value_cell,
)
from app.sync.mapping.model import FieldRule, MappingTable, ObjectMapping

_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_LINE = Border(bottom=Side(style="thin"))
_MAX_VALIDATED_ROW = 1000  # drop-down lists cover this many rows, so added rows get them too


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the header block of a sign-off document says (the engine knows all of it)."""

    interface: str
    version: int
    created_by: str
    created_at: dt.datetime
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    source_system: str = "Quelle"  # e.g. "Abacus ERP", used in the Markdown captions


def document_filename(info: DocumentInfo, extension: str) -> str:
    """A safe ASCII download name built on the server, e.g. ``mapping-erp-sync-v3.xlsx``."""
    ascii_name = unicodedata.normalize("NFKD", info.interface).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-")[:60]
    return f"mapping-{slug or 'schnittstelle'}-v{info.version}.{extension}"


# ---- rows: one dict per sheet row, keyed by the layout's column keys


def _object_rows(m: ObjectMapping) -> list[Row]:
    return [{
        "object": m.name, "source_object": m.source.object, "key": m.source.key,
        "updated": m.source.updated, "direction": DIRECTIONS[m.direction],
        "hubspot_object": m.hubspot.object, "match": m.hubspot.match,
        "conflict": CONFLICTS[m.conflict],
    }]  # fmt: skip


def _role(m: ObjectMapping, rule: FieldRule) -> str | None:
    roles = [ROLE_KEY] * (rule.source == m.source.key) + [ROLE_MATCH] * (
        rule.hubspot == m.hubspot.match
    )
    return ", ".join(roles) or None


def _field_row(m: ObjectMapping, rule: FieldRule) -> Row:
    default, default_type = value_cell(rule.default)
    return {
        "object": m.name, "source_object": m.source.object, "source": rule.source,
        "direction": DIRECTIONS[rule.direction] if rule.direction else None,
        "hubspot_object": m.hubspot.object, "hubspot": rule.hubspot, "role": _role(m, rule),
        "transform": None if rule.transform is None else dump_flow(rule.transform),
        "template": rule.template, "default": default, "default_type": default_type,
        "conflict": CONFLICTS[rule.conflict] if rule.conflict else None,
    }  # fmt: skip


def _field_rows(m: ObjectMapping) -> list[Row]:
    return [_field_row(m, rule) for rule in m.fields]


def _filter_rows(m: ObjectMapping) -> list[Row]:
    rows: list[Row] = []
    for rule in m.filters:
        condition = rule.model_dump(by_alias=True, exclude_none=True)
        field = condition.pop("field")
        ((key, value),) = condition.items()  # the model allows exactly one condition
        cell, kind = value_cell(value)
        rows.append({"object": m.name, "field": field, "condition": CONDITIONS[key],
                     "value": cell, "value_type": kind})  # fmt: skip
    return rows


def _association_rows(m: ObjectMapping) -> list[Row]:
    return [{"object": m.name, "field": a.field, "to": a.to, "type_id": a.type_id,
             "label": a.label} for a in m.associations]  # fmt: skip


def _deletion_rows(m: ObjectMapping) -> list[Row]:
    rules = m.on_delete
    flag_value, flag_type = value_cell(rules.flag_value)
    return [{
        "object": m.name, "source_deleted": DELETION_ACTIONS[rules.source_deleted],
        "hubspot_deleted": DELETION_ACTIONS[rules.hubspot_deleted],
        "flag_field": rules.flag_field, "flag_value": flag_value, "flag_value_type": flag_type,
        "privacy": PRIVACY_ACTIONS[m.on_privacy_deletion],
    }]  # fmt: skip


ROWS: dict[str, Callable[[ObjectMapping], list[Row]]] = {
    OBJECTS.name: _object_rows,
    FIELDS.name: _field_rows,
    FILTERS.name: _filter_rows,
    ASSOCIATIONS.name: _association_rows,
    DELETIONS.name: _deletion_rows,
}


def sheet_rows(table: MappingTable, sheet: Sheet) -> list[list[Cell]]:
    """The rows of one sheet for the whole table, cells in the sheet's column order."""
    rows = [row for m in table.objects for row in ROWS[sheet.name](m)]
    return [[row.get(c.key) for c in sheet.columns] for row in rows]


# ---- XLSX


def _put(ws: Worksheet, row: int, column: int, value: Cell) -> Any:
    """Write one cell; text always as a string cell, neutralized against formulas."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = neutralize(value)
        cell.data_type = "s"  # openpyxl would take text starting with "=" as a formula
    else:
        cell.value = value
    return cell


def _write_sheet(ws: Worksheet, sheet: Sheet, rows: Iterable[list[Cell]]) -> None:
    for number, column in enumerate(sheet.columns, start=1):
        header = _put(ws, 1, number, column.header)
        header.font, header.fill = _BOLD, _HEADER_FILL
        ws.column_dimensions[get_column_letter(number)].width = column.width
        if column.choices:
            _add_choices(ws, number, column.choices)
    for row_number, row in enumerate(rows, start=2):
        for number, value in enumerate(row, start=1):
            _put(ws, row_number, number, value)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def _add_choices(ws: Worksheet, column: int, choices: tuple[str, ...]) -> None:
    letter = get_column_letter(column)
    listed = DataValidation(type="list", formula1=f'"{",".join(choices)}"', allow_blank=True)
    listed.error, listed.errorTitle = f"Erlaubt: {', '.join(choices)}", "Ungültiger Wert"
    ws.add_data_validation(listed)
    listed.add(f"{letter}2:{letter}{_MAX_VALIDATED_ROW}")


def _when(moment: dt.datetime | None) -> str | None:
    return None if moment is None else f"{moment:%d.%m.%Y %H:%M} {moment.tzname() or ''}".strip()


def _info_rows(info: DocumentInfo) -> list[tuple[str, Cell]]:
    return [
        ("Schnittstelle", info.interface),
        ("Version", info.version),
        ("Quellsystem", info.source_system),
        ("Erstellt von", info.created_by),
        ("Erstellt am", _when(info.created_at)),
        ("Freigegeben von", info.approved_by or "noch nicht freigegeben"),
        ("Freigegeben am", _when(info.approved_at)),
    ]


_LEGEND = (
    "Richtung: → nach HubSpot, ← von HubSpot, ↔ beidseitig; leer bei einem Feld: wie das Objekt.",
    "Konfliktregel: wer gewinnt, wenn dasselbe Feld auf beiden Seiten geändert wurde; "
    "leer bei einem Feld: wie das Objekt.",
    "Schlüssel: eindeutiges Feld im Quellsystem. Abgleichsfeld: eindeutige HubSpot-Eigenschaft, "
    "über die Datensätze einander zugeordnet werden.",
    "Transformation und Werte der Typen Liste, Datum, Zeitpunkt und Struktur: YAML-Schreibweise "
    "wie in der Mapping-Datei. Ein vorangestelltes ' schützt Text vor der Ausführung als Formel.",
)


def _write_overview(ws: Worksheet, info: DocumentInfo) -> None:
    ws.title = OVERVIEW
    _put(ws, 1, 1, "Mapping-Tabelle – Freigabedokument").font = Font(bold=True, size=14)
    for offset, (label, value) in enumerate(_info_rows(info)):
        _put(ws, 3 + offset, 1, label).font = _BOLD
        _put(ws, 3 + offset, 2, value)
    _put(ws, 11, 1, "Legende").font = _BOLD
    for offset, line in enumerate(_LEGEND):
        _put(ws, 12 + offset, 1, line)
    _write_signatures(ws, 13 + len(_LEGEND))
    ws.column_dimensions["A"].width = 22
    for letter in "BCD":
        ws.column_dimensions[letter].width = 30


def _write_signatures(ws: Worksheet, top: int) -> None:
    _put(ws, top, 1, "Freigabe").font = Font(bold=True, size=12)
    for number, header in enumerate(("Rolle", "Name", "Datum", "Unterschrift"), start=1):
        _put(ws, top + 1, number, header).font = _BOLD
    for offset, role in enumerate(("Betreiber", "Kunde"), start=2):
        _put(ws, top + offset, 1, role)
        ws.row_dimensions[top + offset].height = 36
        for number in range(1, 5):
            ws.cell(row=top + offset, column=number).border = _LINE


def export_xlsx(table: MappingTable, info: DocumentInfo) -> bytes:
    """The XLSX sign-off document: an overview with signatures, then one sheet per part."""
    workbook = Workbook()
    _write_overview(workbook.active, info)
    for sheet in SHEETS:
        _write_sheet(workbook.create_sheet(sheet.name), sheet, sheet_rows(table, sheet))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- CSV and Markdown


def _display(value: Cell) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nein"
    return "" if value is None else str(value)


def export_csv(table: MappingTable) -> bytes:
    """The field rows (with their object columns) as CSV for Swiss Excel: UTF-8 BOM, ";"."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.header for c in FIELDS.columns])
    for row in sheet_rows(table, FIELDS):
        writer.writerow([neutralize(v) if isinstance(v, str) else _display(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


_MD_ESCAPES = str.maketrans({"\\": "\\\\", "|": "\\|", "&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MD_HIDDEN = {"object", "source_object", "hubspot_object", "note"}


def markdown_text(value: Cell) -> str:
    """A value safe inside a Markdown table cell: ``|``, ``<``, ``>`` escaped, one line."""
    text = _display(value).translate(_MD_ESCAPES)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def _md_table(headers: list[str], rows: list[list[Cell]]) -> list[str]:
    lines = ["| " + " | ".join(markdown_text(h) for h in headers) + " |"]
    lines.append("|" + "---|" * len(headers))
    lines += ["| " + " | ".join(markdown_text(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _md_section(sheet: Sheet, m: ObjectMapping) -> list[str]:
    rows = ROWS[sheet.name](m)
    if not rows:
        return []
    shown = [c for c in sheet.columns if c.key not in _MD_HIDDEN and not c.key.endswith("_type")]
    cells = [[row.get(c.key) for c in shown] for row in rows]
    return [f"### {sheet.name}", "", *_md_table([c.header for c in shown], cells)]


def caption(m: ObjectMapping, source_system: str) -> str:
    """The line naming an object pair, e.g. "companies: ERP customers ↔ HubSpot companies, …"."""
    return (
        f"{m.name}: {source_system} {m.source.object} {ARROWS[m.direction]} HubSpot "
        f"{m.hubspot.object}, {DIRECTION_WORDS[m.direction]}, Konflikt: {CONFLICTS[m.conflict]}"
    )


def export_markdown(table: MappingTable, info: DocumentInfo) -> str:
    """The Markdown sign-off document: header block, then one section per object."""
    lines = [f"# Mapping-Tabelle {markdown_text(info.interface)}, Version {info.version}", ""]
    lines += _md_table(["Angabe", "Wert"], [[k, v] for k, v in _info_rows(info)])
    for m in table.objects:
        lines += [f"## {markdown_text(caption(m, info.source_system))}", ""]
        lines += [f"Schlüssel: {markdown_text(m.source.key)} · Abgleichsfeld: "
                  f"{markdown_text(m.hubspot.match)}", ""]  # fmt: skip
        for sheet in (FIELDS, FILTERS, ASSOCIATIONS, DELETIONS):
            lines += _md_section(sheet, m)
    lines += ["## Freigabe", ""]
    lines += _md_table(
        ["Rolle", "Name", "Datum", "Unterschrift"],
        [[role, None, None, None] for role in ("Betreiber", "Kunde")],
    )
    return "\n".join(lines)
