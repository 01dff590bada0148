"""Associations v4: default and labelled links in batches, batch reads with per-input paging."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox.associations import CATEGORIES, AssocType
from app.connectors.hubspot.sandbox.context import body, inputs, readable, sandbox, stamps, writable
from app.connectors.hubspot.sandbox.errors import HubSpotError, bad_request, json_response
from app.connectors.hubspot.sandbox.records import Portal
from app.connectors.hubspot.sandbox.schema import ObjectType

router = APIRouter(prefix="/crm/v4")
PAGE = 500
Pair = tuple[ObjectType, ObjectType]


def _pair(request: Request, write: bool) -> Pair:
    check = writable if write else readable
    source = check(request, "from_type")
    return source, readable(request, "to_type")


def _ids(raw: Any) -> int:
    try:
        return int(raw["id"])
    except (KeyError, TypeError, ValueError):
        raise bad_request("Each input needs from.id and to.id", "INVALID_INPUT") from None


def _exists(portal: Portal, ot: ObjectType, ids: Iterable[int]) -> set[int]:
    return {rid for rid, r in portal.store.get(list(set(ids))).items() if r.type_id == ot.type_id}


def _missing(ot: ObjectType, ref: int) -> HubSpotError:
    return HubSpotError(404, "OBJECT_NOT_FOUND", f"No {ot.singular} with id {ref} exists")


def _kinds(portal: Portal, pair: Pair, types: Any) -> list[AssocType]:
    kinds = []
    for spec in types if isinstance(types, list) else []:
        kind = portal.assoc_types.by_id.get(spec.get("associationTypeId", -1))
        category = spec.get("associationCategory")
        if (
            kind is None
            or category not in CATEGORIES
            or (kind.from_type, kind.to_type) != (pair[0].type_id, pair[1].type_id)
        ):
            raise bad_request(f"Invalid association type {spec}", "INVALID_ASSOCIATION_TYPE")
        kinds.append(kind)
    if not kinds:
        raise bad_request(
            "types must name at least one association type", "INVALID_ASSOCIATION_TYPE"
        )
    return kinds


def _link(portal: Portal, pairs: list[tuple[int, int, list[AssocType]]]) -> None:
    rows = [
        row
        for a, b, kinds in pairs
        for kind in kinds
        for row in portal.assoc_types.links(kind, a, b)
    ]
    portal.associate(rows)


def _batch(
    request: Request, results: list[Any], errors: list[dict[str, Any]], started: int
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        **stamps(started, sandbox(request).portal.now_ms()),
    }
    if errors:
        out["numErrors"], out["errors"] = len(errors), errors
    return out


def _checked(
    portal: Portal, pair: Pair, raw: list[dict[str, Any]]
) -> tuple[list[tuple[int, int, dict[str, Any]]], list[dict[str, Any]]]:
    wanted = [(_ids(i.get("from")), _ids(i.get("to")), i) for i in raw]
    sources = _exists(portal, pair[0], (a for a, _, _ in wanted))
    targets = _exists(portal, pair[1], (b for _, b, _ in wanted))
    ok, errors = [], []
    for a, b, item in wanted:
        if a not in sources or b not in targets:
            ot, ref = (pair[0], a) if a not in sources else (pair[1], b)
            errors.append(_missing(ot, ref).standard({"ids": [str(ref)]}))
        else:
            ok.append((a, b, item))
    return ok, errors


@router.post("/associations/{from_type}/{to_type}/batch/associate/default")
async def associate_default(request: Request) -> Response:
    """Link pairs with the default (unlabelled) type, both directions."""
    pair = _pair(request, write=True)
    portal = sandbox(request).portal
    started = portal.now_ms()
    ok, errors = _checked(portal, pair, inputs(await body(request), 2000))
    kind = portal.assoc_types.default(pair[0].type_id, pair[1].type_id)
    _link(portal, [(a, b, [kind]) for a, b, _ in ok])
    spec = {"associationCategory": kind.category, "associationTypeId": kind.type_id}
    results = [
        {"from": {"id": str(a)}, "to": {"id": str(b)}, "associationSpec": spec} for a, b, _ in ok
    ]
    return json_response(_batch(request, results, errors, started))


def _labels(pair: Pair, a: int, b: int, kinds: list[AssocType]) -> dict[str, Any]:
    return {
        "fromObjectTypeId": pair[0].type_id,
        "fromObjectId": str(a),
        "toObjectTypeId": pair[1].type_id,
        "toObjectId": str(b),
        "labels": [k.label for k in kinds if k.label is not None],
    }


@router.post("/associations/{from_type}/{to_type}/batch/create")
async def batch_create(request: Request) -> Response:
    """Link pairs with the given association types (201, or 207 with per-input errors)."""
    pair = _pair(request, write=True)
    portal = sandbox(request).portal
    started = portal.now_ms()
    ok, errors = _checked(portal, pair, inputs(await body(request), 2000))
    planned = [(a, b, _kinds(portal, pair, item.get("types"))) for a, b, item in ok]
    _link(portal, planned)
    results = [_labels(pair, a, b, kinds) for a, b, kinds in planned]
    return json_response(_batch(request, results, errors, started), 207 if errors else 201)


def _grouped(portal: Portal, from_id: int, to: ObjectType) -> list[dict[str, Any]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for to_id, type_id, _ in portal.store.associations(from_id, to.type_id):
        grouped.setdefault(to_id, []).append(portal.assoc_types.by_id[type_id].spec())
    return [{"toObjectId": str(k), "associationTypes": v} for k, v in grouped.items()]


def _page(
    items: list[dict[str, Any]], after: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    start = int(after) if after and after.isdigit() else 0
    end = start + limit
    return items[start:end], str(end) if end < len(items) else None


@router.post("/associations/{from_type}/{to_type}/batch/read")
async def batch_read(request: Request) -> Response:
    """Each input's associations, paged per input; unknown or unlinked ids in ``errors`` (207)."""
    source, target = _pair(request, write=False)
    portal = sandbox(request).portal
    started = portal.now_ms()
    raw = inputs(await body(request), 1000)
    refs = [(str(i.get("id", "")), i.get("after")) for i in raw]
    known = _exists(portal, source, (int(r) for r, _ in refs if r.isdigit()))
    results, errors = [], []
    for ref, after in refs:
        linked = _grouped(portal, int(ref), target) if ref.isdigit() and int(ref) in known else []
        if not linked:
            message = f"No {target.singular} is associated with {source.singular} {ref}."
            errors.append(
                HubSpotError(404, "OBJECT_NOT_FOUND", message).standard({"fromObjectId": [ref]})
            )
            continue
        page, more = _page(linked, after if isinstance(after, str) else None, PAGE)
        result: dict[str, Any] = {"from": {"id": ref}, "to": page}
        if more is not None:
            result["paging"] = {"next": {"after": more}}
        results.append(result)
    return json_response(_batch(request, results, errors, started), 207 if errors else 200)


@router.post("/associations/{from_type}/{to_type}/batch/archive")
async def batch_archive(request: Request) -> Response:
    """Remove every association between the given pairs (204)."""
    _pair(request, write=True)
    portal = sandbox(request).portal
    pairs = [
        (_ids(i.get("from")), _ids(t))
        for i in inputs(await body(request), 2000)
        for t in i.get("to") or []
    ]
    portal.dissociate(pairs)
    return Response(status_code=204)


@router.get("/objects/{from_type}/{object_id}/associations/{to_type}")
async def read_one(request: Request) -> Response:
    """One record's associations to a type, up to 500 a page."""
    source, target = _pair(request, write=False)
    portal = sandbox(request).portal
    ref = request.path_params["object_id"]
    if not ref.isdigit() or int(ref) not in _exists(portal, source, [int(ref)]):
        raise _missing(source, int(ref) if ref.isdigit() else 0)
    limit = min(int(request.query_params.get("limit", PAGE)), PAGE)
    page, more = _page(_grouped(portal, int(ref), target), request.query_params.get("after"), limit)
    out: dict[str, Any] = {"results": page}
    if more is not None:
        out["paging"] = {
            "next": {"after": more, "link": str(request.url.include_query_params(after=more))}
        }
    return json_response(out)


@router.put("/objects/{from_type}/{object_id}/associations/default/{to_type}/{to_id}")
async def put_default(request: Request) -> Response:
    """Link one pair with the default type."""
    pair = _pair(request, write=True)
    portal = sandbox(request).portal
    started = portal.now_ms()
    item = {
        "from": {"id": request.path_params["object_id"]},
        "to": {"id": request.path_params["to_id"]},
    }
    ok, errors = _checked(portal, pair, [item])
    if errors:
        raise _missing(pair[0], 0)
    kind = portal.assoc_types.default(pair[0].type_id, pair[1].type_id)
    _link(portal, [(a, b, [kind]) for a, b, _ in ok])
    spec = {"associationCategory": kind.category, "associationTypeId": kind.type_id}
    results = [
        {"from": {"id": str(a)}, "to": {"id": str(b)}, "associationSpec": spec} for a, b, _ in ok
    ]
    return json_response(_batch(request, results, [], started))


@router.delete("/objects/{from_type}/{object_id}/associations/{to_type}/{to_id}")
async def delete_pair(request: Request) -> Response:
    """Remove every association between two records (204)."""
    _pair(request, write=True)
    portal = sandbox(request).portal
    pair = (
        _ids({"id": request.path_params["object_id"]}),
        _ids({"id": request.path_params["to_id"]}),
    )
    portal.dissociate([pair])
    return Response(status_code=204)
