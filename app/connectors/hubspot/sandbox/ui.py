"""The sandbox's HTML pages (``/ui``): browse and edit records as a person in HubSpot's CRM UI.

Writes made here go through the portal like API writes (same validation, same transaction)
and publish the same change events, with change source ``CRM_UI``, so hubsync sees them as a
user's edits in HubSpot. The pages bypass the API gate: no rate limits, no request counters.

Auth: every page asks for HTTP Basic credentials whose password is one of the portal's
private-app tokens (any user name; ``sandbox-token`` by default), because the sandbox can be
told to listen beyond loopback. Browsers resend Basic credentials on cross-site requests, so
every POST must also carry the per-process random form token the pages put in a hidden field
(403 without it). Pages load no scripts and forbid them by Content-Security-Policy.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from app.connectors.hubspot.sandbox.context import sandbox
from app.connectors.hubspot.sandbox.errors import HubSpotError
from app.connectors.hubspot.sandbox.records import WriteInput, render
from app.connectors.hubspot.sandbox.schema import ObjectType, PropertyDef
from app.connectors.hubspot.sandbox.store import Record
from app.connectors.hubspot.sandbox.times import iso

SOURCE = "CRM_UI"
PAGE_SIZE = 50
FORM_TOKEN = secrets.token_urlsafe(32)  # per process: cross-site forms cannot know it
_HERE = Path(__file__).parent
_CSS = _HERE / "static" / "sandbox.css"
_ENV = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_FOREVER_MS = 2**62
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_CHALLENGE = {"WWW-Authenticate": 'Basic realm="HubSpot sandbox", charset="UTF-8"'}
_CONTACTS = "0-1"
_ACTIONS = {
    "archive": ("Archive", "moves the record to the recycle bin (a deletion event)."),
    "gdpr-delete": (
        "GDPR delete",
        "deletes the contact permanently (privacy deletion and deletion events).",
    ),
}


class _Missing(Exception):
    """The object type or record a page names does not exist."""


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a ``<select>``."""

    value: str
    label: str
    selected: bool


@dataclass(frozen=True, slots=True)
class Field:
    """One property on the record form: its control, value, choices and complaint."""

    name: str
    label: str
    control: str  # text | email | textarea | select | multiple | readonly
    value: str
    options: tuple[Option, ...] = ()
    error: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """One record in a list page."""

    id: int
    cells: list[str]
    modified: str


def _signed_in(request: Request) -> bool:
    """Whether HTTP Basic credentials carry a private-app token of the portal as password."""
    kind, _, encoded = request.headers.get("authorization", "").partition(" ")
    if kind.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except ValueError:
        return False
    info = sandbox(request).tokens.authenticate(decoded.partition(":")[2])
    return info is not None and info.kind == "private_app"


async def _refusal(request: Request) -> Response | None:
    """401 without credentials, 403 for a POST without the form token, else None."""
    if not _signed_in(request):
        text = "Sign in with any user name and a private-app token of the portal as password."
        return _message(request, 401, "Sign in", text, _CHALLENGE)
    if request.method == "POST":
        sent = (await request.form()).get("form_token")
        if not isinstance(sent, str) or not secrets.compare_digest(sent, FORM_TOKEN):
            text = "The form token is missing or wrong; reload the page and try again."
            return _message(request, 403, "Forbidden", text)
    return None


class _UiRoute(APIRoute):
    """A UI route: sign-in and form token checked first, HTML for missing things."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler wrapped in the UI's checks and security headers."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            response = await _refusal(request)
            if response is None:
                try:
                    response = await handler(request)
                except _Missing:
                    response = _message(request, 404, "Not found", "No such page or record.")
            response.headers.update(_HEADERS)
            return response

        return guarded


def _base(request: Request) -> str:
    return f"{request.scope.get('root_path', '')}/ui"


def _html(
    request: Request,
    template: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered with the context every page shares."""
    page = _ENV.get_template(template).render(
        base=_base(request),
        portal_id=sandbox(request).config.portal_id,
        form_token=FORM_TOKEN,
        **context,
    )
    return HTMLResponse(page, status, dict(headers or {}))


def _message(
    request: Request, status: int, title: str, text: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    return _html(request, "message.html", status, headers, title=title, text=text)


def _redirect(request: Request, path: str) -> RedirectResponse:
    return RedirectResponse(f"{_base(request)}{path}", status_code=303)


def _object_type(request: Request) -> ObjectType:
    ot = sandbox(request).portal.catalog.find(request.path_params["object_type"])
    if ot is None:
        raise _Missing
    return ot


def _record(request: Request, ot: ObjectType) -> Record:
    ref = str(request.path_params["object_id"])
    found = sandbox(request).portal.find(ot, [ref], None)
    if ref not in found:
        raise _Missing
    return found[ref]


def _active(request: Request, ot: ObjectType) -> list[Record]:
    """Every active record of ``ot``, by id."""
    return list(sandbox(request).store.scan(ot.type_id, _FOREVER_MS))


def _columns(ot: ObjectType) -> tuple[str, ...]:
    """The properties a list page shows: the type's defaults, else its first own ones."""
    return ot.defaults[:4] or tuple(n for n in ot.properties if n not in ot.system)[:3]


def _title(ot: ObjectType, record: Record) -> str:
    shown = [record.props[n] for n in _columns(ot) if record.props.get(n)]
    return " ".join(shown[:2]) or f"{ot.singular.capitalize()} {record.id}"


def _control(prop: PropertyDef) -> str:
    if prop.read_only:
        return "readonly"
    if prop.type == "enumeration" and not prop.external_options:
        return "multiple" if prop.field_type == "checkbox" else "select"
    if prop.type == "bool":
        return "select"
    if prop.field_type == "textarea":
        return "textarea"
    return "email" if prop.name == "email" else "text"


def _options(prop: PropertyDef, value: str, multiple: bool) -> tuple[Option, ...]:
    """The choices of ``prop``, keeping a current value the option list lacks."""
    chosen = set(value.split(";")) if multiple else {value}
    if prop.type == "bool":
        pairs = [("true", "Yes"), ("false", "No")]
    else:
        pairs = [
            (str(o["value"]), str(o.get("label") or o["value"]))
            for o in prop.options
            if not o.get("hidden") or str(o["value"]) in chosen
        ]
    known = {v for v, _ in pairs}
    pairs += [(v, v) for v in sorted(chosen - known) if v]
    blank = [] if multiple else [("", "—")]
    return tuple(Option(v, label, v in chosen) for v, label in [*blank, *pairs])


def _field(prop: PropertyDef, value: str, error: str) -> Field:
    control = _control(prop)
    options = (
        _options(prop, value, control == "multiple") if control in ("select", "multiple") else ()
    )
    return Field(prop.name, prop.label or prop.name, control, value, options, error)


def _fields(
    ot: ObjectType, values: Mapping[str, str], errors: Mapping[str, str], existing: bool
) -> list[Field]:
    """Editable properties first, then (for an existing record) the read-only ones."""
    props = sorted(ot.properties.values(), key=lambda p: p.read_only)
    return [
        _field(p, values.get(p.name, ""), errors.get(p.name, ""))
        for p in props
        if existing or not p.read_only
    ]


def _submitted(ot: ObjectType, form: FormData) -> dict[str, str]:
    """The editable properties a form sent; multiple choices joined by ``;``."""
    out: dict[str, str] = {}
    for name, prop in ot.properties.items():
        if prop.read_only or name not in form:
            continue
        texts = [v.replace("\r\n", "\n") for v in form.getlist(name) if isinstance(v, str)]
        if _control(prop) == "multiple":
            out[name] = ";".join(v for v in texts if v)
        else:
            out[name] = texts[-1] if texts else ""
    return out


def _complaints(error: HubSpotError) -> tuple[dict[str, str], str]:
    """Messages per property, and one for the whole form when no property is named."""
    by_field = {str(e["in"]): str(e["message"]) for e in error.errors if "in" in e}
    return by_field, "" if by_field else error.message


def _record_page(
    request: Request,
    ot: ObjectType,
    record: Record | None,
    values: Mapping[str, str],
    error: HubSpotError | None = None,
) -> HTMLResponse:
    by_field, general = _complaints(error) if error is not None else ({}, "")
    return _html(
        request,
        "record.html",
        200 if error is None else 422,
        ot=ot,
        record=record,
        title=f"New {ot.singular}" if record is None else _title(ot, record),
        fields=_fields(ot, values, by_field, record is not None),
        general=general,
        gdpr=ot.type_id == _CONTACTS,
    )


async def _save(request: Request, ot: ObjectType, record: Record | None) -> Response:
    """Write the form through the portal: 303 to the record, or the form again with 422."""
    props = _submitted(ot, await request.form())
    mode = "create" if record is None else "update"
    change = WriteInput(props, id=None if record is None else str(record.id))
    try:
        written, _ = sandbox(request).portal.write(ot, [change], mode, source=SOURCE)
    except HubSpotError as error:
        shown = {} if record is None else render(ot, record, None)["properties"]
        return _record_page(request, ot, record, {**shown, **props}, error)
    return _redirect(request, f"/{ot.name}/{written[0].record.id}")


async def stylesheet(request: Request) -> Response:
    """The pages' stylesheet."""
    return FileResponse(_CSS, media_type="text/css")


async def home(request: Request) -> Response:
    """Object types with their record counts."""
    types = [
        (ot, len(_active(request, ot))) for ot in sandbox(request).portal.catalog.types.values()
    ]
    return _html(request, "index.html", title="Object types", types=types)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() else 1


def _matches(record: Record, needle: str) -> bool:
    return any(needle in v.casefold() for v in (*record.props.values(), str(record.id)))


def _link(request: Request, ot: ObjectType, q: str, page: int) -> str:
    query = urlencode({k: v for k, v in (("q", q), ("page", page)) if v})
    return f"{_base(request)}/{ot.name}?{query}"


async def records(request: Request) -> Response:
    """One object type's records, newest modified first, searchable, 50 a page."""
    ot = _object_type(request)
    q, page = request.query_params.get("q", "").strip(), _page_number(request)
    hits = [r for r in _active(request, ot) if _matches(r, q.casefold())]
    hits.sort(key=lambda r: (r.updated_ms, r.id), reverse=True)
    start = (page - 1) * PAGE_SIZE
    columns = _columns(ot)
    rows = [
        Row(r.id, [r.props.get(c, "") for c in columns], iso(r.updated_ms))
        for r in hits[start : start + PAGE_SIZE]
    ]
    return _html(
        request,
        "list.html",
        title=ot.name.replace("_", " ").capitalize(),
        ot=ot,
        q=q,
        total=len(hits),
        labels=[ot.properties[c].label for c in columns],
        rows=rows,
        previous=_link(request, ot, q, page - 1) if page > 1 else "",
        next=_link(request, ot, q, page + 1) if len(hits) > start + PAGE_SIZE else "",
    )


async def new_form(request: Request) -> Response:
    """An empty form for a new record."""
    return _record_page(request, _object_type(request), None, {})


async def create(request: Request) -> Response:
    """Create a record from the form."""
    return await _save(request, _object_type(request), None)


async def show(request: Request) -> Response:
    """One record's form, read-only properties included."""
    ot = _object_type(request)
    record = _record(request, ot)
    return _record_page(request, ot, record, render(ot, record, None)["properties"])


async def update(request: Request) -> Response:
    """Save the record's form."""
    ot = _object_type(request)
    return await _save(request, ot, _record(request, ot))


async def confirm(request: Request) -> Response:
    """Ask before archiving or GDPR-deleting a record."""
    ot = _object_type(request)
    record = _record(request, ot)
    action = request.path_params["action"]
    if action not in _ACTIONS or (action == "gdpr-delete" and ot.type_id != _CONTACTS):
        raise _Missing
    verb, effect = _ACTIONS[action]
    return _html(
        request,
        "confirm.html",
        title=f"{verb}: {_title(ot, record)}",
        ot=ot,
        record=record,
        action=action,
        verb=verb,
        effect=effect,
    )


async def archive(request: Request) -> Response:
    """Move a record to the recycle bin, as the CRM's delete does."""
    ot = _object_type(request)
    sandbox(request).portal.archive(ot, [_record(request, ot)], source=SOURCE)
    return _redirect(request, f"/{ot.name}")


async def gdpr_delete(request: Request) -> Response:
    """Delete a contact for good, as ``POST …/contacts/gdpr-delete`` does."""
    ot = _object_type(request)
    if ot.type_id != _CONTACTS:
        raise _Missing
    sandbox(request).portal.purge(ot, _record(request, ot), source=SOURCE)
    return _redirect(request, f"/{ot.name}")


_ROUTES: tuple[tuple[str, Callable[[Request], Coroutine[Any, Any, Response]], str], ...] = (
    ("/static/sandbox.css", stylesheet, "GET"),
    ("/", home, "GET"),
    ("/{object_type}", records, "GET"),
    ("/{object_type}/new", new_form, "GET"),
    ("/{object_type}/new", create, "POST"),
    ("/{object_type}/{object_id:int}", show, "GET"),
    ("/{object_type}/{object_id:int}", update, "POST"),
    ("/{object_type}/{object_id:int}/archive", archive, "POST"),
    ("/{object_type}/{object_id:int}/gdpr-delete", gdpr_delete, "POST"),
    ("/{object_type}/{object_id:int}/{action}", confirm, "GET"),
)


def ui_router() -> APIRouter:
    """The HTML pages, to be included under ``/ui`` of a sandbox app."""
    router = APIRouter(prefix="/ui", route_class=_UiRoute, include_in_schema=False)
    for path, endpoint, method in _ROUTES:
        router.add_api_route(path, endpoint, methods=[method])
    return router
