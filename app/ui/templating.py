"""The Jinja2 environment and the one render helper for pages and htmx partials."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader
from jinja2_fragments.fastapi import Jinja2Blocks
from starlette.responses import Response

from app.ui import TEMPLATE_DIR
from app.ui.formatting import option_tags, swiss_datetime, swiss_number
from app.ui.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    language_tag,
    template_gettext,
    translations,
)

LANGUAGE_COOKIE = "hubsync_lang"


def _templates_for(language: str) -> Jinja2Blocks:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR), autoescape=True, extensions=["jinja2.ext.i18n"]
    )
    found = translations(language)
    env.install_gettext_translations(found, newstyle=True)  # type: ignore[attr-defined]
    env.globals["_"] = env.globals["gettext"] = template_gettext(found)  # cached, no alias hop
    env.filters["datetime"] = swiss_datetime
    env.filters["number"] = swiss_number
    env.filters["option_tags"] = option_tags
    return Jinja2Blocks(env=env)


TEMPLATES = {language: _templates_for(language) for language in LANGUAGES}


def is_partial(request: Request) -> bool:
    """Whether htmx asked for a fragment rather than a whole page."""
    return request.headers.get("HX-Request-Type") == "partial"


def request_language(request: Request) -> str:
    """The UI language: the language cookie, else German."""
    language = request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE)
    return language if language in LANGUAGES else DEFAULT_LANGUAGE


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page, or only ``block`` of it for a partial htmx request."""
    language = request_language(request)
    context = {"lang_tag": language_tag(language), **context}
    part = block if block and is_partial(request) else None
    response: Response = TEMPLATES[language].TemplateResponse(
        request, name, context, status_code=status_code, headers=headers, block_name=part
    )
    response.headers["Vary"] = "HX-Request, HX-Request-Type, Cookie"
    response.headers.setdefault("Cache-Control", "no-store")
    return response
