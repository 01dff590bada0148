"""Reading a sign-off XLSX back into a MappingTable, safely (SECURITY.md §10).

The bytes stay in memory. Before openpyxl sees them, the ZIP container is
checked from its central directory (``infolist()``): signature, the two parts
every workbook has, at most 200 entries, 50 MiB declared uncompressed in all,
a compression ratio of at most 100 per entry, no encrypted entries and no
archives inside. openpyxl then parses through defusedxml (XML bombs, XXE), in
read-only mode without external links; rows are read up to a bound whatever
the sheet declares, and formula or error cells are refused by name.

The sheets and cell conventions are those of :mod:`app.sync.mapping.layout`.
Every problem names its sheet and cell (``Felder!C7``) or row; all are
reported at once in one :class:`XlsxImportError`. The result is only a
MappingTable: the caller stores it as a draft version, never approved.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import openpyxl
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter
from pydantic import ValidationError

from app.core.errors import InvalidInput
from app.sync.mapping.layout import (
    ASSOCIATIONS,
    CONDITIONS,
    CONFLICTS,
    DELETION_ACTIONS,
    DELETIONS,
    DIRECTIONS,
    FIELDS,
    FILTERS,
    KINDS,
    OBJECTS,
    PRIVACY_ACTIONS,
    SHEETS,
    Sheet,
    cell_value,
    load_flow,
    parse_label,
    restore,
)
from app.sync.mapping.model import MappingTable

MiB = 1024 * 1024
MAX_FILE_BYTES = 5 * MiB
MAX_ENTRIES = 200
MAX_UNCOMPRESSED = 50 * MiB
MAX_RATIO = 100
MAX_ROWS = 2000  # data rows per sheet
MAX_COLUMNS = 40
_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_ARCHIVE_SUFFIXES = (".zip", ".xlsx", ".xlsm", ".docx", ".pptx", ".jar", ".gz", ".tgz",
                     ".bz2", ".xz", ".7z", ".rar", ".tar", ".cab")  # fmt: skip
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ",
                  b"7z\xbc\xaf\x27\x1c", b"Rar!", b"MSCF")  # fmt: skip
_WORKBOOK = "Arbeitsmappe"

Loc = tuple[str | int, ...]
Grid = list[list[object]]


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One problem in an uploaded workbook, where (``Felder!C7``) and what."""

    where: str
    message: str

    def describe(self) -> str:
        """The problem as one line."""
        return f"{self.where}: {self.message}"


class XlsxImportError(InvalidInput):
    """An uploaded workbook that cannot become a mapping table, with every problem found."""

    def __init__(self, problems: Iterable[ImportProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(p.describe() for p in self.problems))


def import_xlsx(data: bytes) -> MappingTable:
    """The mapping table a sign-off XLSX describes; XlsxImportError names every problem."""
    check_container(data)
    return _build(_read_workbook(data))


# ---- the container, before openpyxl


def check_container(data: bytes) -> None:
    """Refuse anything but a plain, modest XLSX zip, from its directory alone."""
    if len(data) > MAX_FILE_BYTES:
        _refuse(f"the file is larger than {MAX_FILE_BYTES // MiB} MiB")
    if not data.startswith(b"PK\x03\x04"):
        _refuse("not an XLSX file (no ZIP signature)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        _refuse("not an XLSX file (damaged ZIP container)")
    with archive:
        entries = archive.infolist()
        _check_entries(entries)
        for entry in entries:
            _check_not_an_archive(archive, entry)


def _check_entries(entries: list[zipfile.ZipInfo]) -> None:
    names = {e.filename for e in entries}
    missing = [part for part in _REQUIRED_PARTS if part not in names]
    if missing:
        _refuse(f"not an XLSX workbook ({', '.join(missing)} missing)")
    if len(entries) > MAX_ENTRIES:
        _refuse(f"the archive has {len(entries)} entries, at most {MAX_ENTRIES} are allowed")
    total = sum(e.file_size for e in entries)
    if total > MAX_UNCOMPRESSED:
        _refuse(f"unpacked size {total // MiB} MiB exceeds {MAX_UNCOMPRESSED // MiB} MiB")
    for entry in entries:
        if entry.flag_bits & 0x1:
            _refuse(f"{entry.filename} is encrypted")
        if entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            _refuse(f"{entry.filename} is compressed more than {MAX_RATIO}:1 (zip bomb?)")


def _check_not_an_archive(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> None:
    if entry.filename.lower().endswith(_ARCHIVE_SUFFIXES):
        _refuse(f"{entry.filename}: archives inside the workbook are not allowed")
    try:
        with archive.open(entry) as stream:
            head = stream.read(8)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        _refuse(f"{entry.filename} cannot be read ({error})")
    if head.startswith(_ARCHIVE_MAGIC):
        _refuse(f"{entry.filename}: archives inside the workbook are not allowed")


def _refuse(message: str, where: str = "Datei") -> NoReturn:
    raise XlsxImportError([ImportProblem(where, message)])


# ---- the workbook, through openpyxl and defusedxml


def _read_workbook(data: bytes) -> dict[str, Grid]:
    if not openpyxl.DEFUSEDXML:  # never parse uploaded XML without defusedxml
        raise RuntimeError("defusedxml is not active in openpyxl; refusing to parse XLSX")
    problems: list[ImportProblem] = []
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, keep_links=False, data_only=False
        )
        try:
            grids = {ws.title: _read_grid(ws, problems) for ws in workbook.worksheets}
        finally:
            workbook.close()
    except Exception as error:  # noqa: BLE001 - anything openpyxl raises means "unreadable"
        _refuse(_unreadable(error))
    if problems:
        raise XlsxImportError(problems)
    return grids


def _unreadable(error: BaseException) -> str:
    cause: BaseException | None = error
    for _ in range(10):  # openpyxl wraps parser errors in its own
        if cause is None:
            break
        if isinstance(cause, DefusedXmlException):
            return "the workbook contains forbidden XML (DTD or entity declarations)"
        cause = cause.__cause__ or cause.__context__
    first_line = f"{type(error).__name__}: {error}".splitlines()[0]
    return f"the workbook cannot be read ({first_line[:200]})"


def _read_grid(ws: Any, problems: list[ImportProblem]) -> Grid:
    ws.reset_dimensions()  # read what is there, not what the sheet declares
    grid: Grid = []
    for number, row in enumerate(ws.iter_rows(min_row=1, max_col=MAX_COLUMNS), start=1):
        values = [_value(ws.title, number, column, c, problems) for column, c in enumerate(row, 1)]
        if number > MAX_ROWS + 1 and any(v is not None for v in values):
            problems.append(ImportProblem(ws.title, f"more than {MAX_ROWS} rows"))
            break
        grid.append(values)
    return grid


def _value(sheet: str, row: int, column: int, cell: Any, problems: list[ImportProblem]) -> object:
    where = f"{sheet}!{get_column_letter(column)}{row}"
    if cell.data_type == "f":
        problems.append(ImportProblem(where, "formulas are not allowed; enter the value"))
        return None
    if cell.data_type == "e":
        problems.append(ImportProblem(where, f"error value {cell.value}"))
        return None
    value = cell.value
    return restore(value) if isinstance(value, str) else value


# ---- rows to the model's data, remembering where every value came from


@dataclass(frozen=True, slots=True)
class Record:
    """One non-empty data row of a sheet, by column key."""

    sheet: str
    row: int
    values: dict[str, object]
    letters: dict[str, str]

    def at(self, key: str) -> str:
        """The cell of column ``key`` in this row, e.g. ``Felder!C7``."""
        return f"{self.sheet}!{self.letters.get(key, '?')}{self.row}"

    @property
    def place(self) -> str:
        """The whole row, e.g. ``Felder, Zeile 7``."""
        return f"{self.sheet}, Zeile {self.row}"


class _Builder:
    """Collects converted data, problems, and the places pydantic errors point back to."""

    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []
        self.places: dict[Loc, str] = {(): _WORKBOOK}

    def convert(self, record: Record, key: str, convert: Callable[[object], Any]) -> Any:
        """One cell through ``convert``; a ValueError becomes a problem naming the cell."""
        try:
            return convert(record.values.get(key))
        except ValueError as error:
            self.problems.append(ImportProblem(record.at(key), str(error)))
            return None

    def take(self, record: Record, loc: Loc, keys: Mapping[str, str]) -> dict[str, Any]:
        """The model keys ↦ raw cells of ``keys`` (model key → column key), places noted."""
        self.places[loc] = record.place
        data: dict[str, Any] = {}
        for model_key, column_key in keys.items():
            self.places[(*loc, model_key)] = record.at(column_key)
            if record.values.get(column_key) is not None:
                data[model_key] = record.values[column_key]
        return data

    def value(self, record: Record, key: str, type_key: str) -> Any:
        """A type-tagged free value (see the layout)."""
        kind = self.convert(record, type_key, _label({k: k for k in KINDS}))
        return self.convert(record, key, lambda cell: cell_value(cell, kind))


def _label(labels: Mapping[Any, str]) -> Callable[[object], Any]:
    return lambda cell: None if cell is None else parse_label(str(cell), labels)


def _required(labels: Mapping[Any, str]) -> Callable[[object], Any]:
    def parse(cell: object) -> Any:
        if cell is None:
            raise ValueError(f"empty; one of: {', '.join(labels.values())}")
        return parse_label(str(cell), labels)

    return parse


def _flow(cell: object) -> Any:
    return None if cell is None else load_flow(str(cell))


def _records(grids: Mapping[str, Grid], sheet: Sheet, builder: _Builder) -> list[Record]:
    grid = grids.get(sheet.name)
    if grid is None:
        if sheet in (OBJECTS, FIELDS):
            builder.problems.append(ImportProblem(_WORKBOOK, f"sheet {sheet.name!r} is missing"))
        return []
    header = [str(h).strip() if h is not None else "" for h in (grid[0] if grid else [])]
    letters: dict[str, str] = {}
    for column in sheet.columns:
        if column.header in header:
            letters[column.key] = get_column_letter(header.index(column.header) + 1)
        elif not column.derived:
            where = f"{sheet.name}!1"
            builder.problems.append(ImportProblem(where, f"column {column.header!r} is missing"))
    index = {key: header.index(sheet.column(key).header) for key in letters}
    return [
        Record(sheet.name, number, {k: row[i] for k, i in index.items()}, letters)
        for number, row in enumerate(grid[1:], start=2)
        if any(v is not None for v in row)
    ]


_OBJECT_KEYS = {"name": "object", "direction": "direction", "conflict": "conflict"}
_SOURCE_KEYS = {"object": "source_object", "key": "key", "updated": "updated"}
_HUBSPOT_KEYS = {"object": "hubspot_object", "match": "match"}
_FIELD_KEYS = {k: k for k in ("source", "hubspot", "direction", "transform", "template",
                              "default", "conflict")}  # fmt: skip
_ASSOCIATION_KEYS = {k: k for k in ("field", "to", "type_id", "label")}
_DELETION_KEYS = {k: k for k in ("source_deleted", "hubspot_deleted", "flag_field", "flag_value")}


def _object(b: _Builder, r: Record, loc: Loc) -> dict[str, Any]:
    data = b.take(r, loc, _OBJECT_KEYS)
    data["source"] = b.take(r, (*loc, "source"), _SOURCE_KEYS)
    data["hubspot"] = b.take(r, (*loc, "hubspot"), _HUBSPOT_KEYS)
    data["direction"] = b.convert(r, "direction", _label(DIRECTIONS))
    data["conflict"] = b.convert(r, "conflict", _label(CONFLICTS))
    data.update(fields=[], filters=[], associations=[])
    return {k: v for k, v in data.items() if v is not None}


def _field(b: _Builder, r: Record, loc: Loc) -> dict[str, Any]:
    data = b.take(r, loc, _FIELD_KEYS)
    data["direction"] = b.convert(r, "direction", _label(DIRECTIONS))
    data["conflict"] = b.convert(r, "conflict", _label(CONFLICTS))
    data["transform"] = b.convert(r, "transform", _flow)
    data["default"] = b.value(r, "default", "default_type")
    return data


def _filter(b: _Builder, r: Record, loc: Loc) -> dict[str, Any]:
    condition = b.convert(r, "condition", _required(CONDITIONS)) or "equals"  # else reported
    data = b.take(r, loc, {"field": "field", condition: "value"})
    data[condition] = b.value(r, "value", "value_type")
    return data


def _association(b: _Builder, r: Record, loc: Loc) -> dict[str, Any]:
    return b.take(r, loc, _ASSOCIATION_KEYS)


def _deletion(b: _Builder, r: Record, loc: Loc) -> dict[str, Any]:
    data = b.take(r, loc, _DELETION_KEYS)
    data["source_deleted"] = b.convert(r, "source_deleted", _label(DELETION_ACTIONS))
    data["hubspot_deleted"] = b.convert(r, "hubspot_deleted", _label(DELETION_ACTIONS))
    flag_value = b.value(r, "flag_value", "flag_value_type")  # None is a value here
    return {k: v for k, v in data.items() if v is not None} | {"flag_value": flag_value}


_Part = Callable[[_Builder, Record, Loc], dict[str, Any]]
_LISTS: tuple[tuple[Sheet, str, _Part], ...] = (
    (FIELDS, "fields", _field),
    (FILTERS, "filters", _filter),
    (ASSOCIATIONS, "associations", _association),
)


def _build(grids: Mapping[str, Grid]) -> MappingTable:
    b = _Builder()
    records = {sheet.name: _records(grids, sheet, b) for sheet in SHEETS}
    objects = [_object(b, r, ("objects", i)) for i, r in enumerate(records[OBJECTS.name])]
    index = {o["name"]: i for i, o in enumerate(objects) if isinstance(o.get("name"), str)}
    for sheet, key, part in _LISTS:
        for r in records[sheet.name]:
            if (i := _owner(b, r, index, objects)) is not None:
                loc = ("objects", i, key, len(objects[i][key]))
                objects[i][key].append(part(b, r, loc))
    for r in records[DELETIONS.name]:
        if (i := _owner(b, r, index, objects)) is not None:
            _attach_deletion(b, r, objects[i], ("objects", i))
    if b.problems:
        raise XlsxImportError(b.problems)
    try:
        return MappingTable.model_validate({"objects": objects})
    except ValidationError as error:
        raise XlsxImportError(_located(error, b.places)) from error


def _owner(
    b: _Builder, r: Record, index: dict[str, int], objects: list[dict[str, Any]]
) -> int | None:
    name = r.values.get("object")
    if name not in index:
        b.problems.append(ImportProblem(r.at("object"), f"unknown object {name!r} (see Objekte)"))
        return None
    i = index[str(name)]
    for key, model_key in (("source_object", "source"), ("hubspot_object", "hubspot")):
        given, actual = r.values.get(key), objects[i][model_key].get("object")
        if given is not None and given != actual:
            b.problems.append(
                ImportProblem(r.at(key), f"{given!r} differs from Objekte ({actual!r})")
            )
    return i


def _attach_deletion(b: _Builder, r: Record, target: dict[str, Any], loc: Loc) -> None:
    if "on_delete" in target:
        b.problems.append(ImportProblem(r.place, f"second row for object {target['name']!r}"))
        return
    target["on_delete"] = _deletion(b, r, (*loc, "on_delete"))
    b.places[(*loc, "on_privacy_deletion")] = r.at("privacy")
    privacy = b.convert(r, "privacy", _label(PRIVACY_ACTIONS))
    if privacy is not None:
        target["on_privacy_deletion"] = privacy


def _located(error: ValidationError, places: Mapping[Loc, str]) -> list[ImportProblem]:
    problems: list[ImportProblem] = []
    for detail in error.errors(include_url=False):
        loc = tuple(detail["loc"])
        cut = next(n for n in range(len(loc), -1, -1) if loc[:n] in places)
        where, rest = places[loc[:cut]], loc[cut:]
        message = detail["msg"].removeprefix("Value error, ")
        if rest and "!" not in where:  # a row or the workbook: say which part of it
            message = f"{'.'.join(map(str, rest))}: {message}"
        problem = ImportProblem(where, message)
        if problem not in problems:
            problems.append(problem)
    return problems
