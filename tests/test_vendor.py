"""The vendored front-end files are exactly the locked packages' files (htmx 4)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.ui import STATIC_DIR
from tests.databases import unavailable

PROJECT_DIR = Path(__file__).resolve().parents[1]
VENDOR_DIR = STATIC_DIR / "vendor"
VENDORED = VENDOR_DIR / "VENDORED.txt"
LINE = re.compile(
    r"^(?P<file>\S+) (?P<package>\S+) (?P<version>\S+) sha256:(?P<digest>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class Vendored:
    file: str
    package: str
    version: str
    digest: str


@pytest.fixture(scope="module")
def vendored() -> list[Vendored]:
    if not VENDORED.is_file():
        unavailable(
            f"{VENDORED.relative_to(PROJECT_DIR)} is missing: run `make setup` (with CI=true) "
            "to install and vendor the front-end files"
        )
    entries = []
    for number, line in enumerate(VENDORED.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        match = LINE.fullmatch(line.strip())
        assert match, f"VENDORED.txt line {number} is malformed: {line!r}"
        entries.append(Vendored(**match.groupdict()))
    assert entries, "VENDORED.txt lists no files"
    return entries


def _json(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PROJECT_DIR / name).read_text(encoding="utf-8"))
    return data


def test_every_vendored_file_matches_its_recorded_hash(vendored: list[Vendored]) -> None:
    for entry in vendored:
        path = VENDOR_DIR / entry.file
        assert path.is_file(), f"{entry.file} is listed in VENDORED.txt but missing"
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        assert actual == entry.digest, f"{entry.file} differs from its recorded SHA-256"


def test_every_served_vendor_file_is_recorded(vendored: list[Vendored]) -> None:
    on_disk = {p.name for p in VENDOR_DIR.iterdir() if p.is_file() and p.name != VENDORED.name}
    assert on_disk == {entry.file for entry in vendored}


def test_versions_match_the_lock_file_and_package_json(vendored: list[Vendored]) -> None:
    lock_packages = _json("package-lock.json")["packages"]
    dependencies = _json("package.json")["dependencies"]
    for entry in vendored:
        locked = lock_packages.get(f"node_modules/{entry.package}")
        assert locked is not None, f"{entry.package} is not in package-lock.json"
        assert entry.version == locked["version"], (
            f"{entry.file}: vendored {entry.package} {entry.version}, "
            f"package-lock.json has {locked['version']}"
        )
        assert dependencies.get(entry.package) == entry.version, (
            f"{entry.file}: vendored {entry.package} {entry.version}, "
            f"package.json asks for {dependencies.get(entry.package)}"
        )


def test_htmx_is_version_4(vendored: list[Vendored]) -> None:
    htmx = [entry for entry in vendored if entry.package == "htmx.org"]
    assert htmx, "htmx.org is not vendored"
    for entry in htmx:
        assert entry.version.split(".")[0] == "4", f"htmx {entry.version} is not 4.x"
    assert _json("package.json")["dependencies"]["htmx.org"].split(".")[0] == "4"
