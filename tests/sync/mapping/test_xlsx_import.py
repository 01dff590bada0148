"""Importing the sign-off XLSX: exact round trip, located errors, and hostile files refused."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from app.sync.mapping import xlsx_import
from app.sync.mapping.export import export_xlsx
from app.sync.mapping.model import MappingTable
from app.sync.mapping.xlsx_import import XlsxImportError, import_xlsx
from tests.sync.mapping.test_export import INFO, swiss_table

MiB = 1024 * 1024
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    + ']>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
    'uniqueCount="1"><si><t>&lol9;</t></si></sst>'
).encode()
SHARED_STRINGS = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" />'
)


@pytest.fixture
def table() -> MappingTable:
    return swiss_table()


@pytest.fixture
def exported(table: MappingTable) -> bytes:
    return export_xlsx(table, INFO)


def typed(value: Any) -> Any:
    """``value`` with the type of every leaf, so 5 and 5.0 or "-5" and -5 differ."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


def edit(data: bytes, change: Callable[[Any], None]) -> bytes:
    """The workbook after ``change(workbook)``, saved again."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    change(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes], extra: dict[str, bytes] | None = None) -> bytes:
    """The zip ``data`` with some parts replaced and some added."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            target.writestr(info.filename, replace.get(info.filename, source.read(info)))
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return buffer.getvalue()


def problems(data: bytes) -> list[str]:
    with pytest.raises(XlsxImportError) as raised:
        import_xlsx(data)
    return [p.describe() for p in raised.value.problems]


@pytest.fixture
def no_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if a file gets as far as openpyxl: container checks must refuse it first."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl was reached")

    monkeypatch.setattr(openpyxl, "load_workbook", forbidden)


class TestRoundTrip:
    def test_rich_table_comes_back_exactly(self, table: MappingTable, exported: bytes) -> None:
        back = import_xlsx(exported)
        assert back.model_dump() == table.model_dump()
        assert typed(back.model_dump()) == typed(table.model_dump())

    def test_minimal_table_keeps_defaults(self) -> None:
        table = MappingTable.model_validate({"objects": [{
            "name": "companies", "source": {"object": "customers", "key": "id"},
            "hubspot": {"object": "companies", "match": "erp_id"},
            "fields": [{"source": "id", "hubspot": "erp_id"}],
        }]})  # fmt: skip
        back = import_xlsx(export_xlsx(table, INFO))
        assert typed(back.model_dump()) == typed(table.model_dump())

    def test_hand_edits_are_understood(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            fields = workbook["Felder"]
            fields["D3"] = "to_hubspot"  # the YAML value instead of the label
            fields["J3"], fields["K3"] = 7, None  # a number typed in, no type given
            fields["J4"], fields["K4"] = "12", "Ganzzahl"  # text that the type makes a number

        back = import_xlsx(edit(exported, change)).mapping("companies")
        assert back.fields[1].direction == "to_hubspot"
        assert back.fields[1].default == 7
        assert back.fields[2].default == 12

    def test_declared_dimension_is_ignored(self, table: MappingTable, exported: bytes) -> None:
        sheet = zipfile.ZipFile(io.BytesIO(exported)).read("xl/worksheets/sheet3.xml")
        lying = sheet.replace(b'<dimension ref="A1:M36" />', b'<dimension ref="A1:A1" />')
        assert lying != sheet
        back = import_xlsx(rezip(exported, {"xl/worksheets/sheet3.xml": lying}))
        assert back.model_dump() == table.model_dump()

    def test_import_is_only_a_table(self, exported: bytes) -> None:
        assert type(import_xlsx(exported)) is MappingTable  # no approval, no version


class TestLocatedErrors:
    def test_formula_cell_is_named(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Felder"]["C7"] = '=HYPERLINK("http://evil.example")'

        found = problems(edit(exported, change))
        assert found == ["Felder!C7: formulas are not allowed; enter the value"]

    def test_unknown_label_names_the_cell(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Objekte"]["E3"] = "irgendwohin"

        (found,) = problems(edit(exported, change))
        assert found.startswith("Objekte!E3: 'irgendwohin' is not one of: → nach HubSpot")

    def test_type_mismatch_names_the_cell(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Felder"]["J12"], workbook["Felder"]["K12"] = "viele", "Ganzzahl"

        assert problems(edit(exported, change)) == ["Felder!J12: 'viele' is no Ganzzahl"]

    def test_bad_yaml_names_the_cell(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Felder"]["H3"] = "[trim, &a upper, *a]"

        (found,) = problems(edit(exported, change))
        assert found == "Felder!H3: YAML anchors and aliases are not allowed"

    def test_model_errors_point_to_cells_and_rows(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Felder"]["C3"] = "1st name"  # not a valid field name
            workbook["Felder"]["J10"] = None  # lifecyclestage: no source, no template,
            workbook["Felder"]["K10"] = None  # … and now no default either
            workbook["Zuordnungen"]["D2"] = "eins"

        found = problems(edit(exported, change))
        assert any(p.startswith("Felder!C3: String should match pattern") for p in found)
        assert "Felder, Zeile 10: a field needs `source`, `template` or `default`" in found
        assert any(p.startswith("Zuordnungen!D2: Input should be a valid integer") for p in found)
        assert len(found) == 3

    def test_deletion_rules_errors_point_to_their_row_and_cell(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Löschregeln"]["B3"] = "markieren"  # contacts: flag without a flag field
            workbook["Löschregeln"]["G4"] = "vergessen"

        found = problems(edit(exported, change))
        assert found == [
            "Löschregeln!G4: 'vergessen' is not one of: löschen, anonymisieren, ignorieren"
        ]
        found = problems(edit(exported, lambda wb: wb["Löschregeln"].__setitem__("B3", "flag")))
        assert found == ["Löschregeln, Zeile 3: the `flag` action needs `flag_field`"]

    def test_unknown_object_and_disagreeing_object_columns(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            workbook["Filter"]["A2"] = "firms"
            workbook["Felder"]["E2"] = "deals"

        found = problems(edit(exported, change))
        assert "Filter!A2: unknown object 'firms' (see Objekte)" in found
        assert "Felder!E2: 'deals' differs from Objekte ('companies')" in found

    def test_missing_sheet_and_column(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            del workbook["Objekte"]
            workbook["Felder"]["F1"] = "Eigenschaft"

        found = problems(edit(exported, change))
        assert "Arbeitsmappe: sheet 'Objekte' is missing" in found
        assert "Felder!1: column 'HubSpot-Eigenschaft' is missing" in found

    def test_object_without_fields(self, exported: bytes) -> None:
        def change(workbook: Any) -> None:
            fields = workbook["Felder"]
            for row in fields.iter_rows(min_row=2):
                if row[0].value == "orders":
                    for cell in row:
                        cell.value = None

        found = problems(edit(exported, change))
        assert found == ["Objekte, Zeile 4: fields: List should have at least 1 item "
                         "after validation, not 0"]  # fmt: skip

    def test_too_many_rows(self, exported: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(xlsx_import, "MAX_ROWS", 5)
        assert "Felder: more than 5 rows" in problems(exported)


class TestHostileFiles:
    def test_defusedxml_is_active(self) -> None:
        assert openpyxl.DEFUSEDXML is True

    def test_refuses_to_parse_without_defusedxml(
        self, exported: bytes, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(openpyxl, "DEFUSEDXML", False)
        with pytest.raises(RuntimeError, match="defusedxml"):
            import_xlsx(exported)

    def test_not_a_zip(self, no_openpyxl: None) -> None:
        assert problems(b"Kunde;Name\n1;Muster AG\n") == [
            "Datei: not an XLSX file (no ZIP signature)"
        ]

    def test_damaged_zip(self, no_openpyxl: None) -> None:
        assert problems(b"PK\x03\x04" + bytes(100)) == [
            "Datei: not an XLSX file (damaged ZIP container)"
        ]

    def test_zip_without_workbook(self, no_openpyxl: None) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
        assert problems(buffer.getvalue()) == [
            "Datei: not an XLSX workbook (xl/workbook.xml missing)"
        ]

    def test_too_many_entries(self, exported: bytes, no_openpyxl: None) -> None:
        data = rezip(exported, {}, {f"xl/media/p{n}.txt": b"x" for n in range(200)})
        (found,) = problems(data)
        assert "entries, at most 200 are allowed" in found

    def test_200_mib_of_zeros_is_refused_from_the_directory(self, no_openpyxl: None) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("xl/workbook.xml", "<workbook/>")
            with archive.open("xl/worksheets/sheet1.xml", "w") as entry:
                for _ in range(200):
                    entry.write(bytes(MiB))
        data = buffer.getvalue()
        assert len(data) < MiB  # it compresses to almost nothing
        assert problems(data) == ["Datei: unpacked size 200 MiB exceeds 50 MiB"]

    def test_high_compression_ratio(self, exported: bytes, no_openpyxl: None) -> None:
        data = rezip(exported, {}, {"xl/media/zeros.bin": bytes(2 * MiB)})
        assert problems(data) == [
            "Datei: xl/media/zeros.bin is compressed more than 100:1 (zip bomb?)"
        ]

    def test_encrypted_entry(self, exported: bytes, no_openpyxl: None) -> None:
        buffer = io.BytesIO()
        with (
            zipfile.ZipFile(io.BytesIO(rezip(exported, {}))) as source,
            zipfile.ZipFile(buffer, "w") as target,
        ):
            for info in source.infolist():
                target.writestr(info.filename, source.read(info))
            target.getinfo("xl/workbook.xml").flag_bits |= 0x1  # as the directory will say
        assert problems(buffer.getvalue()) == ["Datei: xl/workbook.xml is encrypted"]

    @pytest.mark.parametrize("name", ["xl/embeddings/inner.xlsx", "xl/embeddings/oleObject1.bin"])
    def test_nested_archive(self, exported: bytes, no_openpyxl: None, name: str) -> None:
        data = rezip(exported, {}, {name: exported})
        assert problems(data) == [f"Datei: {name}: archives inside the workbook are not allowed"]

    def test_billion_laughs_shared_strings(self, exported: bytes) -> None:
        parts = zipfile.ZipFile(io.BytesIO(exported))
        types = parts.read("[Content_Types].xml").replace(b"</Types>", SHARED_STRINGS + b"</Types>")
        data = rezip(
            exported, {"[Content_Types].xml": types}, {"xl/sharedStrings.xml": BILLION_LAUGHS}
        )
        assert problems(data) == [
            "Datei: the workbook contains forbidden XML (DTD or entity declarations)"
        ]

    def test_billion_laughs_worksheet(self, exported: bytes) -> None:
        data = rezip(exported, {"xl/worksheets/sheet3.xml": BILLION_LAUGHS})
        assert problems(data) == [
            "Datei: the workbook contains forbidden XML (DTD or entity declarations)"
        ]

    def test_file_too_large(self, no_openpyxl: None, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(xlsx_import, "MAX_FILE_BYTES", 10)
        (found,) = problems(b"PK\x03\x04" + bytes(20))
        assert found.startswith("Datei: the file is larger than")
