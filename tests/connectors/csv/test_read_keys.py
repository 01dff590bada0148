"""``read_keys`` of the csv connector: one pass over the file, typed keys, the first row counts."""

from __future__ import annotations

from pathlib import Path

from app.connectors.base import RecordBatch
from app.connectors.csv import CsvConnector


def connector(folder: Path, text: str, **settings: int | str) -> CsvConnector:
    """A csv connector on ``folder``, whose ``customers.csv`` holds ``text``."""
    (folder / "customers.csv").write_text(text, encoding="utf-8")
    return CsvConnector.from_settings({"folder": str(folder), **settings})


async def read_keys(csvc: CsvConnector, keys: list[str]) -> list[RecordBatch]:
    """Every batch of one ``read_keys``."""
    return [batch async for batch in csvc.read_keys("customers", keys)]


async def test_keys_match_the_typed_value_and_the_first_row_counts(tmp_path: Path) -> None:
    text = "id;name\r\n7;Erste AG\r\n8;Zweite AG\r\n8;Doppel AG\r\n;Ohne Schlüssel\r\n"
    batches = await read_keys(connector(tmp_path, text), ["8", "7", "9", "None"])
    records = [r for b in batches for r in b.records]
    assert sorted((r["id"], r["name"]) for r in records) == [(7, "Erste AG"), (8, "Zweite AG")]
    assert [k for b in batches for k in b.deleted] == ["9", "None"]
    assert all(b.cursor is None for b in batches)


async def test_a_key_is_found_by_the_value_its_record_carries(tmp_path: Path) -> None:
    text = "id;name\r\n10,5;Halb AG\r\n11;Ganz AG\r\n"
    csvc = connector(tmp_path, text, decimal_separator=",")
    [batch] = await read_keys(csvc, ["10.5"])  # the record's key: Decimal("10.5")
    assert [r["name"] for r in batch.records] == ["Halb AG"]
    assert batch.deleted == []


async def test_records_come_in_batches_and_the_gone_keys_last(tmp_path: Path) -> None:
    text = "id;name\r\n" + "".join(f"k{i};Kunde {i}\r\n" for i in range(10))
    batches = await read_keys(connector(tmp_path, text, batch_size=2), ["k1", "k3", "k5", "kx"])
    assert [[r["id"] for r in b.records] for b in batches] == [["k1", "k3"], ["k5"], []]
    assert [b.deleted for b in batches] == [[], [], ["kx"]]


async def test_the_file_as_it_is_now_is_read(tmp_path: Path) -> None:
    csvc = connector(tmp_path, "id;name\r\nk1;Alt AG\r\n")
    (tmp_path / "customers.csv").write_text("id;name\r\nk1;Neu AG\r\n", encoding="utf-8")
    [batch] = await read_keys(csvc, ["k1"])
    assert batch.records == [{"id": "k1", "name": "Neu AG"}]
