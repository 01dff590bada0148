"""The German (Swiss) catalog covers every UI string; Swiss number and date formats."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from jinja2 import Environment

from app.ui.formatting import swiss_datetime, swiss_number
from app.ui.i18n import language_tag, read_catalog, translations
from app.ui.templating import TEMPLATES

PROJECT_DIR = Path(__file__).resolve().parents[2]
APP_DIR = PROJECT_DIR / "app"
KEYWORDS: dict[str, None] = {"_": None, "gettext": None, "mark": None}


def _only_app(path: str) -> bool:
    parts = Path(os.path.relpath(path, PROJECT_DIR)).parts
    return parts[0] == APP_DIR.name and not any(p.startswith((".", "_")) for p in parts)


@pytest.fixture(scope="module")
def extracted() -> dict[str, set[str]]:
    """Every msgid in the code and templates, with the files it occurs in."""
    with (PROJECT_DIR / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle, "babel.cfg")  # type: ignore[no-untyped-call]
    # babel.cfg's patterns are relative to the project (``app/**.py``), so walk from there.
    found: dict[str, set[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        PROJECT_DIR, method_map, options_map, keywords=KEYWORDS, directory_filter=_only_app
    ):
        # a plural message is stored in the catalog under its singular id
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, set()).add(filename)
    return found


def _msgstrs(message: Message) -> list[str | None]:
    """The translation(s) of a catalog entry: one string, or one per plural form."""
    string = message.string
    if isinstance(string, tuple | list):
        return list(string)
    return [string]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    found = read_catalog("de_CH")
    assert found is not None
    return found


def test_extraction_sees_python_and_templates(extracted: dict[str, set[str]]) -> None:
    files = set().union(*extracted.values())
    assert any(f.endswith(".py") for f in files), "no msgid from python code (mark/_)"
    assert any(f.endswith(".html") for f in files), "no msgid from the templates"
    assert "Dashboard" in extracted
    assert "Email or password is incorrect." in extracted


def test_every_msgid_is_translated(extracted: dict[str, set[str]], catalog: Catalog) -> None:
    missing = sorted(
        f"{msgid!r} ({', '.join(sorted(files))})"
        for msgid, files in extracted.items()
        if msgid not in catalog
    )
    assert not missing, "msgids missing from the de_CH catalog:\n" + "\n".join(missing)
    untranslated = sorted(
        msgid for msgid in extracted if not all(s and s.strip() for s in _msgstrs(catalog[msgid]))
    )
    assert not untranslated, f"empty msgstr in the de_CH catalog: {untranslated}"
    fuzzy = sorted(msgid for msgid in extracted if catalog[msgid].fuzzy)
    assert not fuzzy, f"fuzzy (unused) translations in the de_CH catalog: {fuzzy}"


def test_catalog_passes_babels_checks(catalog: Catalog) -> None:
    problems = [
        f"{message.id!r}: {'; '.join(str(e) for e in errors)}"
        for message, errors in catalog.check()
    ]
    assert not problems, problems


def test_swiss_spelling_has_no_sharp_s(catalog: Catalog) -> None:
    offenders = [
        message.id
        for message in catalog
        if message.id and any(s and "ß" in s for s in _msgstrs(message))
    ]
    assert not offenders, f"msgstr with 'ß' (Swiss German writes 'ss'): {offenders}"


def test_german_translates() -> None:
    assert translations("de").gettext("Dashboard") == "Übersicht"


def test_unknown_language_falls_back_to_german() -> None:
    assert translations("fr").gettext("Dashboard") == "Übersicht"
    assert language_tag("fr") == "de-CH"


def test_english_returns_the_msgid() -> None:
    english = translations("en")
    assert english.gettext("Dashboard") == "Dashboard"
    assert english.gettext("Email or password is incorrect.") == "Email or password is incorrect."
    assert language_tag("en") == "en"


def test_templates_translate_like_jinjas_newstyle_gettext() -> None:
    """``_()`` in templates: translated and escaped, arguments escaped into it, ``%%`` a
    percent sign with or without arguments — the same text as Jinja's own, cached or not."""
    source = (
        '{{ _("Dashboard") }}|{{ _("Dashboard") }}'
        '|{{ _("Records synced: %(count)s", count="<b>") }}'
        '|{{ _("%(n)s %% more", n=1) }}|{{ _("100 %%") }}'
    )
    ours = TEMPLATES["de"].env.from_string(source).render()
    jinja = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    jinja.install_gettext_translations(translations("de"), newstyle=True)  # type: ignore[attr-defined]
    assert ours == jinja.from_string(source).render()
    assert ours == "Übersicht|Übersicht|Synchronisiert: &lt;b&gt;|1 % more|100 %"


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234567, 0, "1'234'567"),
        (1234.5, 2, "1'234.50"),
        (999, 0, "999"),
        (0, 0, "0"),
        (-1234567.891, 1, "-1'234'567.9"),
        (None, 0, "–"),
    ],
)
def test_swiss_number(value: float | None, decimals: int, expected: str) -> None:
    assert swiss_number(value, decimals) == expected


def test_swiss_number_default_decimals() -> None:
    assert swiss_number(1234567) == "1'234'567"


def test_swiss_datetime_in_winter_is_one_hour_ahead() -> None:
    assert swiss_datetime(datetime(2025, 3, 7, 13, 5, tzinfo=UTC)) == "07.03.2025 14:05"


def test_swiss_datetime_in_summer_is_two_hours_ahead() -> None:
    assert swiss_datetime(datetime(2025, 7, 7, 13, 5, tzinfo=UTC)) == "07.07.2025 15:05"


def test_swiss_datetime_crosses_midnight_and_shows_seconds() -> None:
    value = datetime(2025, 12, 31, 23, 30, 9, tzinfo=UTC)
    assert swiss_datetime(value) == "01.01.2026 00:30"
    assert swiss_datetime(value, seconds=True) == "01.01.2026 00:30:09"


def test_swiss_datetime_converts_other_offsets() -> None:
    new_york = timezone(timedelta(hours=-5))
    assert swiss_datetime(datetime(2025, 3, 7, 8, 5, tzinfo=new_york)) == "07.03.2025 14:05"


def test_swiss_datetime_of_none() -> None:
    assert swiss_datetime(None) == "–"
