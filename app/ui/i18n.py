"""UI languages: English message ids, German (Switzerland) by default.

Catalogs are read from the ``.po`` files at start-up (all of a locale's files,
one per area of the UI), so nothing has to be compiled at set-up and a missing
translation shows up in the catalog test.
"""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from functools import cache
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2.nodes import EvalContext
from jinja2.utils import pass_eval_context
from markupsafe import Markup

from app.ui import LOCALE_DIR

DEFAULT_LANGUAGE = "de"
LANGUAGES = {"de": ("de_CH", "de-CH"), "en": ("en", "en")}


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The gettext translations for ``language`` (``de`` or ``en``)."""
    locale_name, _tag = LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])
    catalog = read_catalog(locale_name)
    if catalog is None:
        return gettext.NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def read_catalog(locale_name: str) -> Catalog | None:
    """Every ``.po`` file of a locale as one catalog (one file per area of the UI keeps
    the catalog easy to review); a msgid translated differently in two files is an error."""
    paths = sorted((LOCALE_DIR / locale_name / "LC_MESSAGES").glob("*.po"))
    if not paths:
        return None
    merged = Catalog(locale=locale_name)
    for path in paths:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=locale_name):
                if not message.id:
                    continue  # the header
                known = merged.get(message.id)
                if known is not None and known.string != message.string:
                    raise ValueError(
                        f"msgid {message.id!r} of {path.name} is translated differently elsewhere"
                    )
                merged[message.id] = message
    return merged


def template_gettext(found: gettext.NullTranslations) -> Callable[..., str]:
    """The templates' ``_()``: Jinja's newstyle gettext (the translation escaped, then
    always %-formatted with the keyword arguments), with each message that takes no
    arguments translated once: a list page says its labels hundreds of times."""
    fixed: dict[str, Markup] = {}

    @pass_eval_context
    def translate(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
        if not eval_ctx.autoescape:
            return found.gettext(message) % variables
        if variables:
            return _markup(found, message) % variables
        text = fixed.get(message)
        if text is None:
            text = fixed[message] = _markup(found, message) % {}
        return text

    return translate


def _markup(found: gettext.NullTranslations, message: str) -> Markup:
    # S704: the text is our own catalog's, trusted as Jinja's own gettext trusts it
    return Markup(found.gettext(message))  # noqa: S704


def language_tag(language: str) -> str:
    """The BCP 47 tag for ``<html lang>``."""
    return LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])[1]


def mark(message: str) -> str:
    """Mark ``message`` for the catalog where it is defined; templates translate it."""
    return message
