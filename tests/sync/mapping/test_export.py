"""Sign-off documents: XLSX, CSV and Markdown exports of a mapping table."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import pytest

from app.sync.mapping.export import (
    DocumentInfo,
    document_filename,
    export_csv,
    export_markdown,
    export_xlsx,
    markdown_text,
)
from app.sync.mapping.layout import FIELDS, OVERVIEW, SHEETS, neutralize, restore
from app.sync.mapping.model import MappingTable

INJECTIONS = ['=HYPERLINK("http://evil.example","klick")', "+1+1", "@SUM(A1)", "\tx"]


def swiss_table() -> MappingTable:
    """A realistic ERP ↔ HubSpot table using every feature of the model."""
    return MappingTable.model_validate({"objects": [
        {
            "name": "companies",
            "source": {"object": "customers", "key": "customer_no", "updated": "changed_at"},
            "hubspot": {"object": "companies", "match": "erp_customer_no"},
            "direction": "both",
            "conflict": "newest",
            "fields": [
                {"source": "customer_no", "hubspot": "erp_customer_no", "direction": "to_hubspot"},
                {"source": "name", "hubspot": "name", "transform": "trim"},
                {"source": "website", "hubspot": "domain", "transform": "domain",
                 "direction": "to_hubspot"},
                {"source": "country_code", "hubspot": "country",
                 "transform": ["trim", "upper", {"map": {"CH": "Schweiz", "LI": "Liechtenstein",
                                                         "AT": "Österreich", "NO": "Norwegen"}}]},
                {"source": "city", "hubspot": "city", "transform": {"map": {"Zürich": "Zürich",
                                                                         "Genève": "Genf"}}},
                {"source": "phone", "hubspot": "phone", "transform": {"phone": {"region": "CH"}}},
                {"source": "turnover", "hubspot": "annualrevenue",
                 "transform": [{"number": {"decimal": "."}}], "default": -1250.5},
                {"source": "crm_status", "hubspot": "hs_lead_status", "direction": "from_hubspot",
                 "conflict": "hubspot"},
                {"hubspot": "lifecyclestage", "default": "customer", "direction": "to_hubspot"},
                {"hubspot": "erp_display_name", "template": "{{ name }} ({{ city | upper }})"},
                {"source": "discount", "hubspot": "erp_discount", "default": -5,
                 "conflict": "source"},
                {"source": "note", "hubspot": "erp_note", "default": INJECTIONS[0]},
                {"source": "sum", "hubspot": "erp_sum", "default": INJECTIONS[1]},
                {"source": "at", "hubspot": "erp_at", "default": INJECTIONS[2]},
                {"source": "tab", "hubspot": "erp_tab", "default": INJECTIONS[3]},
                {"source": "minus", "hubspot": "erp_minus", "default": "-5"},
                {"source": "quoted", "hubspot": "erp_quoted", "default": "'-5"},
                {"source": "apostrophe", "hubspot": "erp_apostrophe", "default": "'s Hüsli"},
                {"source": "blank", "hubspot": "erp_blank", "default": ""},
                {"source": "yes_text", "hubspot": "erp_yes", "default": "true"},
                {"source": "key_account", "hubspot": "erp_key_account", "default": False,
                 "transform": "boolean"},
                {"source": "tags", "hubspot": "erp_tags", "default": ["A", "B"],
                 "transform": {"join": ";"}},
                {"source": "since", "hubspot": "erp_since", "default": dt.date(2024, 1, 31),
                 "transform": {"date": {"format": "%d.%m.%Y"}}},
                {"source": "synced", "hubspot": "erp_synced",
                 "default": dt.datetime(2024, 1, 31, 8, 30, tzinfo=dt.UTC)},
                {"source": "extra", "hubspot": "erp_extra", "default": {"a": 1, "b": [None, 2.5]}},
                {"source": "big", "hubspot": "erp_big", "default": 2**60 + 1},
                {"source": "ratio", "hubspot": "erp_ratio", "default": 5.0},
            ],
            "filters": [
                {"field": "status", "in": ["aktiv", "gesperrt"]},
                {"field": "country_code", "not_in": ["XX", "-"]},
                {"field": "deleted", "equals": False},
                {"field": "mandant", "not_equals": "-1"},
                {"field": "email", "empty": False},
            ],
            "on_delete": {"source_deleted": "flag", "hubspot_deleted": "ignore",
                          "flag_field": "erp_active", "flag_value": "nein"},
        },
        {
            "name": "contacts",
            "source": {"object": "persons", "key": "person_id"},
            "hubspot": {"object": "contacts", "match": "email"},
            "conflict": "source",
            "fields": [
                {"source": "email", "hubspot": "email", "transform": ["trim", "lower"]},
                {"source": "first_name", "hubspot": "firstname"},
                {"source": "last_name", "hubspot": "lastname"},
                {"source": "salutation", "hubspot": "salutation",
                 "transform": {"map": {"H": "Herr", "F": "Frau", "D": "Divers <x> | y"}}},
                {"source": "language", "hubspot": "hs_language",
                 "transform": {"map": {"de": "Deutsch", "fr": "Français", "it": "Italiano"}}},
                {"source": "person_id", "hubspot": "erp_person_id"},
            ],
            "associations": [
                {"field": "customer_no", "to": "companies", "type_id": 1, "label": "Hauptfirma"},
            ],
            "on_delete": {"source_deleted": "archive", "hubspot_deleted": "delete"},
            "on_privacy_deletion": "anonymize",
        },
        {
            "name": "orders",
            "source": {"object": "orders", "key": "order_no", "updated": "modified"},
            "hubspot": {"object": "deals", "match": "erp_order_no"},
            "direction": "from_hubspot",
            "conflict": "hubspot",
            "fields": [{"source": "order_no", "hubspot": "erp_order_no"},
                       {"source": "amount", "hubspot": "amount", "transform": "number"}],
            "associations": [{"field": "customer_no", "to": "companies"}],
            "on_delete": {"source_deleted": "ignore", "hubspot_deleted": "flag",
                          "flag_field": "cancelled", "flag_value": True},
            "on_privacy_deletion": "delete",
        },
    ]})  # fmt: skip


INFO = DocumentInfo(
    interface="Abacus ↔ HubSpot (Müller AG)",
    version=3,
    created_by="Anna Meier",
    created_at=dt.datetime(2026, 11, 2, 9, 15, tzinfo=dt.UTC),
    approved_by="Beat Keller",
    approved_at=dt.datetime(2026, 11, 5, 16, 0, tzinfo=dt.UTC),
    source_system="Abacus",
)


@pytest.fixture
def table() -> MappingTable:
    return swiss_table()


def open_xlsx(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))


def csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


class TestNeutralize:
    @pytest.mark.parametrize("text", [*INJECTIONS, "-5", "\r", "\n1", "\0x", "'=x", "'"])
    def test_prefixes_and_restores_exactly(self, text: str) -> None:
        assert neutralize(text).startswith("'")
        assert restore(neutralize(text)) == text

    @pytest.mark.parametrize("text", ["Zürich", "a=b", "", "1+1", "'s Hüsli"])
    def test_restore_undoes_only_what_was_added(self, text: str) -> None:
        assert restore(neutralize(text)) == text

    def test_harmless_text_is_untouched(self) -> None:
        assert neutralize("Zürich") == "Zürich"
        assert restore("'abc") == "'abc"  # not a prefix neutralize adds


class TestExportXlsx:
    def test_sheets_headers_and_frozen_header(self, table: MappingTable) -> None:
        workbook = open_xlsx(export_xlsx(table, INFO))
        assert workbook.sheetnames == [OVERVIEW, *(s.name for s in SHEETS)]
        fields = workbook["Felder"]
        assert [c.value for c in fields[1]] == [c.header for c in FIELDS.columns]
        assert fields["A1"].font.b
        assert fields.freeze_panes == "A2"
        assert fields.column_dimensions["F"].width == 24

    def test_header_block_and_signature_area(self, table: MappingTable) -> None:
        overview = open_xlsx(export_xlsx(table, INFO))[OVERVIEW]
        cells = {row[0].value: row[1].value for row in overview.iter_rows(max_col=2)}
        assert cells["Schnittstelle"] == INFO.interface
        assert cells["Version"] == 3
        assert cells["Erstellt von"] == "Anna Meier"
        assert cells["Freigegeben am"] == "05.11.2026 16:00 UTC"
        assert "Freigabe" in cells
        assert {"Betreiber", "Kunde"} <= set(cells)

    def test_unapproved_says_so(self, table: MappingTable) -> None:
        info = DocumentInfo("ERP", 1, "Anna Meier", INFO.created_at)
        overview = open_xlsx(export_xlsx(table, info))[OVERVIEW]
        cells = {row[0].value: row[1].value for row in overview.iter_rows(max_col=2)}
        assert cells["Freigegeben von"] == "noch nicht freigegeben"

    def test_rows_read_well_in_german(self, table: MappingTable) -> None:
        workbook = open_xlsx(export_xlsx(table, INFO))
        objects = [[c.value for c in row] for row in workbook["Objekte"].iter_rows(min_row=2)]
        assert objects[0] == [
            "companies", "customers", "customer_no", "changed_at",
            "↔ beidseitig", "companies", "erp_customer_no", "neuere gewinnt",
        ]  # fmt: skip
        assert objects[2][4] == "← von HubSpot"
        fields = [[c.value for c in row] for row in workbook["Felder"].iter_rows(min_row=2)]
        assert fields[0][2:7] == ["customer_no", "→ nach HubSpot", "companies",
                                  "erp_customer_no", "Schlüssel, Abgleichsfeld"]  # fmt: skip
        assert fields[3][7] == "[trim, upper, {map: {CH: Schweiz, LI: Liechtenstein, "\
                               "AT: Österreich, 'NO': Norwegen}}]"  # fmt: skip
        deletions = [[c.value for c in row] for row in workbook["Löschregeln"].iter_rows(min_row=2)]
        assert deletions[0][1:3] == ["markieren", "ignorieren"]
        assert deletions[1][6] == "anonymisieren"

    def test_values_are_type_tagged(self, table: MappingTable) -> None:
        fields = open_xlsx(export_xlsx(table, INFO))["Felder"]
        by_target = {row[5].value: (row[9], row[10].value) for row in fields.iter_rows(min_row=2)}
        negative, kind = by_target["erp_discount"]
        assert (negative.value, negative.data_type, kind) == (-5, "n", "Ganzzahl")
        text, kind = by_target["erp_minus"]
        assert (text.value, text.data_type, kind) == ("'-5", "s", "Text")
        assert by_target["erp_key_account"][0].value is False
        assert by_target["erp_tags"][0].value == "[A, B]"
        assert by_target["erp_tags"][1] == "Liste"

    def test_formula_injection_is_neutralized(self, table: MappingTable) -> None:
        fields = open_xlsx(export_xlsx(table, INFO))["Felder"]
        defaults = {row[9].value: row[9] for row in fields.iter_rows(min_row=2)}
        for text in INJECTIONS:
            cell = defaults["'" + text]
            assert cell.data_type == "s"
            assert cell.value.startswith("'")

    def test_drop_down_lists(self, table: MappingTable) -> None:
        objects = open_xlsx(export_xlsx(table, INFO))["Objekte"]
        lists = {str(v.sqref): v.formula1 for v in objects.data_validations.dataValidation}
        assert lists["E2:E1000"] == '"→ nach HubSpot,← von HubSpot,↔ beidseitig"'
        assert lists["H2:H1000"] == '"neuere gewinnt,Quelle gewinnt,HubSpot gewinnt"'


class TestExportCsv:
    def test_header_and_field_rows_with_object_columns(self, table: MappingTable) -> None:
        rows = csv_rows(export_csv(table))
        assert rows[0] == [c.header for c in FIELDS.columns]
        assert len(rows) == 1 + sum(len(m.fields) for m in table.objects)
        assert rows[1][:7] == [
            "companies", "customers", "customer_no", "→ nach HubSpot",
            "companies", "erp_customer_no", "Schlüssel, Abgleichsfeld",
        ]  # fmt: skip

    def test_semicolons_umlauts_and_quoting(self, table: MappingTable) -> None:
        data = export_csv(table)
        text = data.decode("utf-8-sig")
        assert "Österreich" in text
        assert '"[trim, upper, {map: {CH: Schweiz' not in text  # no ";" inside: not quoted
        assert '"{join: ;}"' in text  # RFC 4180: a field holding the delimiter is quoted
        assert "\r\n" in text

    def test_formula_injection_is_neutralized(self, table: MappingTable) -> None:
        rows = csv_rows(export_csv(table))
        defaults = {row[5]: row[9] for row in rows[1:]}
        for target, text in zip(
            ("erp_note", "erp_sum", "erp_at", "erp_tab"), INJECTIONS, strict=True
        ):
            assert defaults[target] == "'" + text
        assert defaults["erp_discount"] == "-5"  # a number, not text: no prefix needed
        assert defaults["erp_minus"] == "'-5"
        assert defaults["erp_key_account"] == "nein"


class TestExportMarkdown:
    def test_caption_per_object(self, table: MappingTable) -> None:
        text = export_markdown(table, INFO)
        assert ("## companies: Abacus customers ↔ HubSpot companies, beidseitig, "
                "Konflikt: neuere gewinnt") in text  # fmt: skip
        assert (
            "## orders: Abacus orders ← HubSpot deals, von HubSpot, Konflikt: HubSpot gewinnt"
            in text
        )
        assert "## contacts: Abacus persons → HubSpot contacts, nach HubSpot" in text

    def test_tables_headers_and_arrows(self, table: MappingTable) -> None:
        lines = export_markdown(table, INFO).splitlines()
        header = "| Quellfeld | Richtung | HubSpot-Eigenschaft | Kennzeichen | Transformation"
        assert sum(line.startswith(header) for line in lines) == 3
        assert "| crm_status | ← von HubSpot | hs_lead_status |" in "\n".join(lines)
        assert "### Filter" in lines
        assert "### Zuordnungen" in lines
        assert "| Betreiber |  |  |  |" in lines

    def test_escaping(self, table: MappingTable) -> None:
        text = export_markdown(table, INFO)
        assert "Divers &lt;x&gt; \\| y" in text
        assert "<x>" not in text
        assert markdown_text("a|b<c>\nd\\") == "a\\|b&lt;c&gt;<br>d\\\\"

    def test_header_block(self, table: MappingTable) -> None:
        text = export_markdown(table, INFO)
        assert text.startswith("# Mapping-Tabelle Abacus ↔ HubSpot (Müller AG), Version 3")
        assert "| Freigegeben von | Beat Keller |" in text


def test_document_filename() -> None:
    assert document_filename(INFO, "xlsx") == "mapping-abacus-hubspot-muller-ag-v3.xlsx"
