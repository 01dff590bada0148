"""CRM objects v3, one record at a time: list, read, create, update, archive, search, GDPR."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox import search
from app.connectors.hubspot.sandbox.context import (
    body,
    flag,
    names,
    object_type,
    readable,
    require,
    sandbox,
    writable,
)
from app.connectors.hubspot.sandbox.errors import bad_request, json_response, not_found
from app.connectors.hubspot.sandbox.records import WriteInput, render
from app.connectors.hubspot.sandbox.schema import ObjectType
from app.connectors.hubspot.sandbox.store import Record

router = APIRouter()
MAX_PAGE = 100


def _embed(request: Request, ot: ObjectType, record: Record, body: dict[str, Any]) -> None:
    """Add the ``associations`` a read asked for (v3 shape: ids and type names)."""
    portal = sandbox(request).portal
    embedded = {}
    for name in names(request, "associations") or []:
        target = portal.catalog.find(name)
        if target is None:
            continue
        rows = portal.store.associations(record.id, target.type_id)
        results = [
            {"id": str(to), "type": portal.assoc_types.by_id[tid].name} for to, tid, _ in rows
        ]
        if results:
            embedded[name] = {"results": results}
    if embedded:
        body["associations"] = embedded


def _input(payload: dict[str, Any]) -> WriteInput:
    props = payload.get("properties", {})
    if not isinstance(props, dict):
        raise bad_request("properties must be an object", "INVALID_PROPERTIES", "properties")
    associations = payload.get("associations") or []
    if not isinstance(associations, list):
        raise bad_request("associations must be a list", "INVALID_ASSOCIATION", "associations")
    trace = payload.get("objectWriteTraceId")
    return WriteInput(
        props, trace_id=trace if isinstance(trace, str) else None, associations=associations
    )


@router.get("/{object_type}")
async def list_page(request: Request) -> Response:
    """``GET /crm/v3/objects/{t}``: a page of records by id, with an ``after`` cursor."""
    ot = readable(request)
    try:
        limit = int(request.query_params.get("limit", "10"))
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        raise bad_request("limit and after must be numbers", "INVALID_PAGING") from None
    if not 0 < limit <= MAX_PAGE:
        raise bad_request(f"limit must be between 1 and {MAX_PAGE}", "INVALID_LIMIT", "limit")
    rows = sandbox(request).store.page(ot.type_id, after, limit + 1, flag(request, "archived"))
    wanted = names(request, "properties") or list(ot.defaults)
    results = []
    for record in rows[:limit]:
        results.append(item := render(ot, record, wanted))
        _embed(request, ot, record, item)
    out: dict[str, Any] = {"results": results}
    if len(rows) > limit:
        cursor = str(rows[limit].id)
        link = str(request.url.include_query_params(after=cursor))
        out["paging"] = {"next": {"after": cursor, "link": link}}
    return json_response(out)


@router.post("/{object_type}")
async def create(request: Request) -> Response:
    """``POST /crm/v3/objects/{t}``: one new record (201)."""
    ot = writable(request)
    written, _ = sandbox(request).portal.write(ot, [_input(await body(request))], "create")
    return json_response(render(ot, written[0].record, None), 201)


@router.post("/{object_type}/search")
async def search_records(request: Request) -> Response:
    """``POST …/{t}/search``: filtered, sorted, offset-paged, lagging behind writes."""
    ot = readable(request)
    state = sandbox(request)
    cap = state.config.search_result_cap
    query = search.parse(ot, await body(request), cap)
    until = state.portal.now_ms() - int(state.config.search_lag_seconds * 1000)
    candidates = state.store.scan(ot.type_id, until, query.since_ms)
    total, page, more = search.run(query, candidates, cap)
    wanted = query.properties or [*ot.defaults]
    out: dict[str, Any] = {"total": total, "results": [render(ot, r, wanted) for r in page]}
    if more is not None:
        out["paging"] = {"next": {"after": str(more)}}
    return json_response(out)


@router.post("/{object_type}/gdpr-delete")
async def gdpr_delete(request: Request) -> Response:
    """``POST /crm/v3/objects/contacts/gdpr-delete``: permanent deletion plus privacy events."""
    ot = object_type(request)
    if ot.type_id != "0-1":
        raise bad_request("GDPR deletion is only available for contacts", "INVALID_OBJECT_TYPE")
    require(request, ot.write_scopes)
    payload = await body(request)
    ref, id_property = str(payload.get("objectId", "")), payload.get("idProperty")
    portal = sandbox(request).portal
    found = portal.find(ot, [ref], id_property) or portal.find(ot, [ref], id_property, True)
    if ref in found:
        portal.purge(ot, found[ref])
    elif id_property in (None, "hs_object_id"):
        raise not_found()
    return Response(status_code=204)


def _one(request: Request, ot: ObjectType, archived: bool = False) -> Record:
    ref = request.path_params["object_id"]
    id_property = request.query_params.get("idProperty")
    found = sandbox(request).portal.find(ot, [ref], id_property, archived)
    if ref not in found:
        raise not_found()
    return found[ref]


@router.get("/{object_type}/{object_id}")
async def read(request: Request) -> Response:
    """``GET /crm/v3/objects/{t}/{id}``: one record (archived ones only with archived=true)."""
    ot = readable(request)
    record = _one(request, ot, flag(request, "archived"))
    out = render(ot, record, names(request, "properties") or list(ot.defaults))
    _embed(request, ot, record, out)
    return json_response(out)


@router.patch("/{object_type}/{object_id}")
async def update(request: Request) -> Response:
    """``PATCH /crm/v3/objects/{t}/{id}``: a partial update."""
    ot = writable(request)
    record = _one(request, ot)
    change = _input(await body(request))
    change.id = str(record.id)
    written, _ = sandbox(request).portal.write(ot, [change], "update")
    return json_response(render(ot, written[0].record, None))


@router.delete("/{object_type}/{object_id}")
async def archive(request: Request) -> Response:
    """``DELETE /crm/v3/objects/{t}/{id}``: to the recycle bin; 204 even if already gone."""
    ot = writable(request)
    ref = request.path_params["object_id"]
    portal = sandbox(request).portal
    found = portal.find(ot, [ref], request.query_params.get("idProperty"))
    portal.archive(ot, list(found.values()))
    return Response(status_code=204)
