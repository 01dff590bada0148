"""The csv connector beyond the conformance suite: encodings, quoting, numbers, atomic writes."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.connectors.base import FieldInfo, FieldType, ObjectInfo, Record, RecordBatch, WriteOutcome
from app.connectors.csv import CsvConnector
from app.connectors.csv import files as csv_files
from app.connectors.errors import ConnectorConfigError, ConnectorUnavailable

HEADER = "id;name;amount;updated_at\r\n"
CUSTOMERS = HEADER + "1;Müller & Söhne AG;12.50;2024-03-01T08:00:00+00:00\r\n2;Genève;3;\r\n"
TRICKY = ['Café "Zum Löwen"; Bern', "zwei\r\nZeilen", 'nur "Anführungszeichen"', "a;b;c"]


def put(folder: Path, text: str, encoding: str = "utf-8", name: str = "customers") -> Path:
    """Write an export file as an ERP would."""
    path = folder / f"{name}.csv"
    path.write_bytes(text.encode(encoding))
    return path


def connector(folder: Path, **settings: Any) -> CsvConnector:
    """A csv connector on ``folder``."""
    return CsvConnector.from_settings({"folder": str(folder), **settings})


async def read_all(csvc: CsvConnector, since: dict[str, Any] | None = None) -> list[RecordBatch]:
    """Every batch of one read."""
    return [batch async for batch in csvc.read("customers", since)]


async def records(csvc: CsvConnector, key: str = "id") -> dict[str, Record]:
    """A full read, by key."""
    return {str(r[key]): r for batch in await read_all(csvc) for r in batch.records}


async def customers_info(csvc: CsvConnector) -> ObjectInfo:
    """The discovered ``customers`` object."""
    (info,) = [info for info in await csvc.discover() if info.name == "customers"]
    return info


def listing(folder: Path) -> list[str]:
    """The names of the files in a folder."""
    return sorted(path.name for path in folder.iterdir())


def parsed(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    """The file's rows as the standard library reads them."""
    text = path.read_bytes().decode(encoding)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


async def test_a_bom_is_read_with_or_without_the_setting(tmp_path: Path) -> None:
    """The BOM never ends up in the first column's name."""
    put(tmp_path, CUSTOMERS, "utf-8-sig")
    for encoding in ("utf-8", "utf-8-sig"):
        rows = await records(connector(tmp_path, encoding=encoding))
        assert rows["1"]["name"] == "Müller & Söhne AG"


async def test_utf8_sig_writes_a_bom_and_utf8_does_not(tmp_path: Path) -> None:
    """The encoding setting decides the bytes written."""
    path = put(tmp_path, CUSTOMERS, "utf-8-sig")
    await connector(tmp_path, encoding="utf-8-sig").write("customers", [{"id": "3"}])
    assert path.read_bytes().startswith(b"\xef\xbb\xbfid;")
    await connector(tmp_path, encoding="utf-8").write("customers", [{"id": "4"}])
    assert path.read_bytes().startswith(b"id;")


async def test_cp1252_umlauts_round_trip(tmp_path: Path) -> None:
    """Windows-1252 exports are read and written in their own encoding."""
    path = put(tmp_path, CUSTOMERS, "cp1252")
    csvc = connector(tmp_path, encoding="windows-1252")
    results = await csvc.write("customers", [{"id": "3", "name": "Zürich Straße"}])
    assert results[0].outcome == WriteOutcome.created
    assert "M\xfcller".encode("latin-1") in path.read_bytes()
    assert "Zürich Straße".encode("cp1252") in path.read_bytes()
    rows = await records(csvc)
    assert (rows["1"]["name"], rows["3"]["name"]) == ("Müller & Söhne AG", "Zürich Straße")


async def test_text_cp1252_cannot_hold_fails_alone(tmp_path: Path) -> None:
    """A record the file's encoding cannot represent fails with a reason; others are written."""
    put(tmp_path, CUSTOMERS, "cp1252")
    csvc = connector(tmp_path, encoding="cp1252")
    results = await csvc.write("customers", [{"id": "3", "name": "Łódź"}, {"id": "4"}])
    assert [r.outcome for r in results] == [WriteOutcome.failed, WriteOutcome.created]
    assert "cp1252" in (results[0].reason or "")
    assert set(await records(csvc)) == {"1", "2", "4"}


async def test_a_file_in_another_encoding_names_the_setting(tmp_path: Path) -> None:
    """cp1252 bytes read as UTF-8 are a configuration error on ``encoding``."""
    put(tmp_path, CUSTOMERS, "cp1252")
    with pytest.raises(ConnectorConfigError) as raised:
        await records(connector(tmp_path, encoding="utf-8"))
    assert raised.value.field == "encoding"


async def test_delimiters_quotes_and_newlines_in_values_round_trip(tmp_path: Path) -> None:
    """Values holding the delimiter, quotes and line breaks survive a write and a read."""
    path = put(tmp_path, HEADER)
    csvc = connector(tmp_path)
    written = [{"id": str(n), "name": name} for n, name in enumerate(TRICKY)]
    assert {r.outcome for r in await csvc.write("customers", written)} == {WriteOutcome.created}
    assert [row[1] for row in parsed(path)[1:]] == TRICKY
    assert [r["name"] for r in (await records(csvc)).values()] == TRICKY


async def test_other_delimiters(tmp_path: Path) -> None:
    """A tab-separated export is read with ``delimiter="\\t"``."""
    put(tmp_path, "id\tname\r\n1\tSemi;colon, comma\r\n")
    rows = await records(connector(tmp_path, delimiter="\t"))
    assert rows["1"]["name"] == "Semi;colon, comma"


async def test_decimal_comma(tmp_path: Path) -> None:
    """With ``decimal_separator=","`` amounts like 1234,50 are numbers, and written that way."""
    path = put(tmp_path, "id;amount\r\n1;1234,50\r\n2;-0,75\r\n")
    csvc = connector(tmp_path, decimal_separator=",")
    assert (await customers_info(csvc)).field("amount") == FieldInfo(
        "amount", FieldType.number, nullable=False
    )
    assert [r["amount"] for r in (await records(csvc)).values()] == [
        Decimal("1234.50"),
        Decimal("-0.75"),
    ]
    await csvc.write(
        "customers", [{"id": "3", "amount": Decimal("7.5")}, {"id": "4", "amount": 2.25}]
    )
    assert parsed(path)[3:] == [["3", "7,5"], ["4", "2,25"]]
    point = connector(tmp_path)  # the default "." leaves 1234,50 as text
    assert (await customers_info(point)).field("amount") == FieldInfo(
        "amount", FieldType.string, nullable=False
    )


async def test_a_failed_rename_leaves_the_original_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between writing the new file and renaming it changes nothing on disk."""
    path = put(tmp_path, CUSTOMERS)
    before = path.read_bytes()

    def crash(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(ConnectorUnavailable, match="No space left"):
        await connector(tmp_path).write("customers", [{"id": "1", "name": "neu"}, {"id": "9"}])
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["customers.csv"]


async def test_writes_keep_column_order_untouched_rows_and_line_ends(tmp_path: Path) -> None:
    """Only the named cells change; other rows stay byte for byte, LF stays LF."""
    text = 'name,id,extra\nZürich,1,x\n"Genève, GE",2,y,surplus\n'
    path = put(tmp_path, text)
    csvc = connector(tmp_path, delimiter=",")
    results = await csvc.write(
        "customers",
        [{"id": 1, "name": "Zürich"}, {"id": "2", "extra": "z"}, {"id": "3", "name": "Bern"}],
    )
    outcomes = [WriteOutcome.unchanged, WriteOutcome.updated, WriteOutcome.created]
    assert [(r.key, r.outcome) for r in results] == list(
        zip(["1", "2", "3"], outcomes, strict=True)
    )
    assert path.read_text() == ('name,id,extra\nZürich,1,x\n"Genève, GE",2,z,surplus\nBern,3,\n')


async def test_unknown_columns_and_missing_keys_fail_alone(tmp_path: Path) -> None:
    """Records naming a column the file lacks, or without a key, fail with a reason."""
    put(tmp_path, CUSTOMERS)
    csvc = connector(tmp_path)
    results = await csvc.write(
        "customers", [{"id": "5", "colour": "red"}, {"name": "x"}, {"id": "6"}]
    )
    assert [r.outcome for r in results] == [
        WriteOutcome.failed,
        WriteOutcome.failed,
        WriteOutcome.created,
    ]
    assert "colour" in (results[0].reason or "")
    assert "id" in (results[1].reason or "")


async def test_writing_a_new_object_creates_its_file(tmp_path: Path) -> None:
    """A write to a missing file creates it, key column first."""
    csvc = connector(tmp_path, keys={"orders": "number"})
    await csvc.write("orders", [{"total": 5, "number": "A-1"}, {"number": "A-2", "note": "ä"}])
    assert parsed(tmp_path / "orders.csv") == [
        ["number", "total", "note"],
        ["A-1", "5", ""],
        ["A-2", "", "ä"],
    ]


async def test_discovery_infers_types(tmp_path: Path) -> None:
    """Types come from a sample: numbers, booleans, ISO dates; leading zeros stay text."""
    put(
        tmp_path,
        "nr;plz;amount;active;born;seen_at;note;empty\r\n"
        "1;0815;1.5;true;1970-01-31;2024-03-01T08:00:00+01:00;x;\r\n"
        "2;8001;2;FALSE;1999-12-31;2024-03-01 09:30:00;;\r\n",
    )
    csvc = connector(tmp_path, keys={"customers": "nr"}, cursor_columns={"customers": "seen_at"})
    info = await customers_info(csvc)
    assert info.key == ("nr",)
    assert info.detects_deletes
    assert info.fields == (
        FieldInfo("nr", FieldType.integer, nullable=False, is_key=True),
        FieldInfo("plz", FieldType.string, nullable=False),
        FieldInfo("amount", FieldType.number, nullable=False),
        FieldInfo("active", FieldType.boolean, nullable=False),
        FieldInfo("born", FieldType.date, nullable=False),
        FieldInfo("seen_at", FieldType.datetime, nullable=False, can_be_cursor=True),
        FieldInfo("note", FieldType.string, nullable=True),
        FieldInfo("empty", FieldType.string, nullable=True),
    )
    row = (await records(csvc, key="nr"))["1"]
    assert (row["nr"], row["plz"], row["amount"], row["active"]) == (
        1,
        "0815",
        Decimal("1.5"),
        True,
    )
    assert row["born"] == date(1970, 1, 31)
    assert row["seen_at"] == datetime(2024, 3, 1, 7, 0, tzinfo=UTC)
    assert row["empty"] is None


async def test_a_file_without_the_key_column_is_listed_but_not_read(tmp_path: Path) -> None:
    """Discovery shows it without a key; reading it names the ``keys`` setting."""
    put(tmp_path, "nr;name\r\n1;x\r\n")
    csvc = connector(tmp_path)
    assert (await customers_info(csvc)).key == ()
    with pytest.raises(ConnectorConfigError) as raised:
        await read_all(csvc)
    assert raised.value.field == "keys"


async def resume_after_edit(folder: Path, edit: Callable[[str], str]) -> set[int]:
    """Read 4 of 10 rows, let ``edit`` rewrite the export, resume; the ids read after resuming."""
    rows = "".join(f"{n};name {n};1;\r\n" for n in range(10))
    put(folder, HEADER + rows)
    csvc = connector(folder, batch_size=4)
    first = await anext(aiter(csvc.read("customers", None)))
    assert [r["id"] for r in first.records] == [0, 1, 2, 3]
    put(folder, HEADER + edit(rows))
    rest = await read_all(csvc, first.cursor)
    assert (await read_all(csvc, rest[-1].cursor))[-1].records == []
    return {r["id"] for batch in rest for r in batch.records}


async def test_resuming_on_a_rewritten_file_with_the_same_first_rows(tmp_path: Path) -> None:
    """A new export that begins with the rows already read resumes right after them."""
    assert await resume_after_edit(tmp_path, lambda rows: rows) == set(range(4, 10))
    changed_later = await resume_after_edit(tmp_path, lambda rows: rows.replace("name 7", "neu 7"))
    assert changed_later == set(range(4, 10))


async def test_resuming_on_a_file_changed_before_the_stop_misses_nothing(tmp_path: Path) -> None:
    """If rows already read changed, the pass starts over: at least once, never lost."""
    assert await resume_after_edit(tmp_path, lambda rows: rows.replace("name 1", "neu 1")) == set(
        range(10)
    )
    shortened = await resume_after_edit(tmp_path, lambda rows: "".join(rows.splitlines(True)[:2]))
    assert shortened == {0, 1}


async def test_the_cursor_of_100k_rows_stays_small(tmp_path: Path) -> None:
    """The snapshot costs under 20 bytes a row."""
    put(tmp_path, HEADER + "".join(f"K{n:07d};Kunde {n};{n}.05;\r\n" for n in range(100_000)))
    batches = await read_all(connector(tmp_path, batch_size=10_000))
    assert sum(len(b.records) for b in batches) == 100_000
    assert len(json.dumps(batches[-1].cursor)) < 2_000_000


async def test_a_foreign_cursor_is_refused(tmp_path: Path) -> None:
    """A cursor the connector did not make is a configuration error on ``since``."""
    put(tmp_path, CUSTOMERS)
    with pytest.raises(ConnectorConfigError) as raised:
        await read_all(connector(tmp_path), {"updated_at": "2024-01-01"})
    assert raised.value.field == "since"


@pytest.mark.parametrize("name", ["../customers", ".hidden", "a/b", ""])
async def test_object_names_cannot_leave_the_folder(tmp_path: Path, name: str) -> None:
    """Object names are file names in the folder, nothing else."""
    with pytest.raises(ConnectorConfigError) as raised:
        await connector(tmp_path).write(name, [{"id": "1"}])
    assert raised.value.field == "object"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"delimiter": ";;"}, "delimiter"),
        ({"delimiter": ""}, "delimiter"),
        ({"encoding": "utf-9"}, "encoding"),
        ({"encoding": "latin-1"}, "encoding"),
        ({"decimal_separator": "'"}, "decimal_separator"),
        ({"batch_size": 0}, "batch_size"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_name_the_field(tmp_path: Path, settings: dict[str, Any], field: str) -> None:
    """Each invalid setting is reported under its own name."""
    with pytest.raises(ConnectorConfigError) as raised:
        connector(tmp_path, **settings)
    assert raised.value.field == field


async def test_a_file_instead_of_a_folder_is_unavailable(tmp_path: Path) -> None:
    """A path that is not a folder is unavailable, and check() says why."""
    csvc = connector(put(tmp_path, CUSTOMERS))
    result = await csvc.check()
    assert not result.ok
    assert "not a folder" in result.message
    with pytest.raises(ConnectorUnavailable):
        await csvc.discover()


async def test_a_hanging_folder_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A share that stops answering makes calls unavailable after ``timeout_s``, not hang."""
    released = threading.Event()

    def hang(*_args: object) -> list[str]:
        released.wait()
        return []

    monkeypatch.setattr(csv_files, "list_objects", hang)
    try:
        with pytest.raises(ConnectorUnavailable, match=r"within 0\.05s"):
            await connector(tmp_path, timeout_s=0.05).discover()
    finally:
        released.set()
    await asyncio.sleep(0)


async def test_upper_case_suffixes_are_the_same_object(tmp_path: Path) -> None:
    """``ARTIKEL.CSV`` from a Windows ERP is the object ``ARTIKEL``, read and written in place."""
    (tmp_path / "ARTIKEL.CSV").write_text("id;name\r\n1;Schraube\r\n")
    csvc = connector(tmp_path)
    assert [info.name for info in await csvc.discover()] == ["ARTIKEL"]
    await csvc.write("ARTIKEL", [{"id": "2", "name": "Mutter"}])
    assert listing(tmp_path) == ["ARTIKEL.CSV"]
    batches = [batch async for batch in csvc.read("ARTIKEL", None)]
    assert [r["name"] for r in batches[-1].records] == ["Schraube", "Mutter"]


async def test_rows_without_or_repeating_a_key_are_reported_unreadable(tmp_path: Path) -> None:
    """Broken export rows fail alone with their values kept; the good ones are read."""
    put(tmp_path, "id;name\n1;Muster AG\n;Ohne Nummer\n2;Beispiel GmbH\n1;Doppelt AG\n")
    batches = await read_all(connector(tmp_path))
    read = [r["id"] for b in batches for r in b.records]
    unreadable = [u for b in batches for u in b.unreadable]
    assert read == [1, 2]  # ids are inferred as integers
    assert [(u.key, u.raw["name"]) for u in unreadable] == [
        (None, "Ohne Nummer"),
        ("1", "Doppelt AG"),
    ]
    assert "no value in the key column" in unreadable[0].reason
    assert "repeats key '1'" in unreadable[1].reason
