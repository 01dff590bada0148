"""Blocking file work of the csv connector (run in a worker thread, never on the event loop).

One object is one ``<object>.csv`` file in the folder. Reads stream rows; a
rewrite copies the file row by row into a temporary file in the same folder,
fsyncs it and renames it over the original, so a reader sees the old file or
the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from app.connectors.csv.config import CsvConfig
from app.connectors.errors import ConnectorConfigError, ConnectorError, ConnectorUnavailable

SUFFIXES = (".csv", ".CSV")  # the first one for files the connector creates
Row = list[str]


class RowWriter(Protocol):
    """What ``csv.writer`` returns."""

    def writerow(self, row: Iterable[Any], /) -> Any:
        """Write one row."""


# Gets the current header (empty for a new file) and rows, writes the new header and rows,
# and says whether anything changed (if not, the file is left as it was).
Rewrite = Callable[[Row, Iterator[Row], RowWriter], bool]


def require_folder(folder: Path) -> None:
    """Raise ``ConnectorUnavailable`` unless the folder exists and can be listed and read."""
    if not folder.is_dir():
        raise ConnectorUnavailable(f"the folder {folder} does not exist or is not a folder")
    if not os.access(folder, os.R_OK | os.X_OK):
        raise ConnectorUnavailable(f"the folder {folder} cannot be read")


def list_objects(folder: Path) -> list[str]:
    """The objects in the folder: the names of its ``.csv`` files without the suffix."""
    require_folder(folder)
    return sorted(
        path.stem
        for path in folder.iterdir()
        if path.suffix in SUFFIXES and not path.name.startswith(".") and path.is_file()
    )


def object_path(folder: Path, object_name: str) -> Path:
    """The file of ``object_name``; names that could leave the folder are refused."""
    if not object_name or object_name.startswith(".") or Path(object_name).name != object_name:
        raise ConnectorConfigError("object", f"{object_name!r} is not a file name")
    for suffix in SUFFIXES:
        path = folder / f"{object_name}{suffix}"
        if path.is_file():
            return path
    return folder / f"{object_name}{SUFFIXES[0]}"


def existing_object(config: CsvConfig, object_name: str) -> Path:
    """The file of an object that must exist (``ConnectorConfigError`` when it does not)."""
    path = object_path(config.folder, object_name)
    require_folder(config.folder)
    if not path.is_file():
        raise ConnectorConfigError("object", f"there is no file {path.name} in the folder")
    return path


def _read_encoding(config: CsvConfig) -> str:
    # A BOM is accepted (and dropped) whether or not the settings promise one.
    return "utf-8-sig" if config.encoding == "utf-8" else config.encoding


@dataclass(frozen=True, slots=True)
class OpenFile:
    """A file being read: its header and its remaining rows (streamed)."""

    header: Row
    rows: Iterator[Row]


@contextmanager
def open_rows(config: CsvConfig, path: Path) -> Iterator[OpenFile]:
    """The header and an iterator over the non-blank data rows of a file."""
    with path.open(encoding=_read_encoding(config), newline="") as handle:
        rows = _checked(csv.reader(handle, delimiter=config.delimiter), config, path)
        yield OpenFile(next(rows, []), rows)


def _checked(reader: Iterator[Row], config: CsvConfig, path: Path) -> Iterator[Row]:
    """Rows without blank lines; decoding and parsing errors name the file."""
    try:
        for row in reader:
            if row:
                yield row
    except UnicodeDecodeError:
        raise ConnectorConfigError(
            "encoding", f"{path.name} is not {config.encoding} text"
        ) from None
    except csv.Error as exc:
        raise ConnectorError(f"{path.name} cannot be parsed: {exc}") from None


def _line_terminator(path: Path) -> str:
    with path.open("rb") as handle:
        first_line = handle.readline()
    return "\n" if first_line.endswith(b"\n") and not first_line.endswith(b"\r\n") else "\r\n"


def rewrite(config: CsvConfig, path: Path, transform: Rewrite) -> None:
    """Replace ``path`` atomically with what ``transform`` writes, if it changed anything."""
    exists = path.is_file()
    terminator = _line_terminator(path) if exists else "\r\n"
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 -- closed before the rename
        "w",
        encoding=config.encoding,
        newline="",
        dir=path.parent,
        prefix=f".{path.stem}.",
        suffix=".tmp",
        delete=False,
    )
    replaced = False
    try:
        with handle:
            writer = csv.writer(handle, delimiter=config.delimiter, lineterminator=terminator)
            changed = _copy(config, path, exists, writer, transform)
            _sync(handle)
        if changed:
            if exists:
                shutil.copymode(path, handle.name)
            os.replace(handle.name, path)
            replaced = True
            _sync_folder(path.parent)
    finally:
        if not replaced:  # failed, or nothing changed: the original stays as it was
            with contextlib.suppress(OSError):
                os.unlink(handle.name)


def _copy(
    config: CsvConfig, path: Path, exists: bool, writer: RowWriter, transform: Rewrite
) -> bool:
    if not exists:
        return transform([], iter(()), writer)
    with open_rows(config, path) as current:
        return transform(current.header, current.rows, writer)


def _sync(handle: IO[str]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a folder)."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def padded(row: Sequence[str], width: int) -> Row:
    """The row with empty cells added up to ``width`` columns."""
    return [*row, *([""] * (width - len(row)))]
