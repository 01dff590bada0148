"""UI languages: English message ids, German (Switzerland) by default.

Catalogs are read from the ``.po`` files at start-up, so nothing has to be
compiled at set-up and a missing translation shows up in the catalog test.
"""

from __future__ import annotations

import gettext
import io
from functools import cache

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from app.ui import LOCALE_DIR

DEFAULT_LANGUAGE = "de"
LANGUAGES = {"de": ("de_CH", "de-CH"), "en": ("en", "en")}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations for ``language`` (``de`` or ``en``)."""
    locale_name, _tag = LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])
    po_path = LOCALE_DIR / locale_name / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale_name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def language_tag(language: str) -> str:
    """The BCP 47 tag for ``<html lang>``."""
    return LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])[1]


def mark(message: str) -> str:
    """Mark ``message`` for the catalog where it is defined; templates translate it."""
    return message
