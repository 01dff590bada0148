"""CRM objects v3 batch endpoints: read, create, update, upsert, archive (≤100 inputs, 207s)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox.context import (
    body,
    flag,
    inputs,
    readable,
    sandbox,
    stamps,
    writable,
)
from app.connectors.hubspot.sandbox.errors import HubSpotError, bad_request, json_response
from app.connectors.hubspot.sandbox.records import Failed, WriteInput, Written, render
from app.connectors.hubspot.sandbox.schema import ObjectType

router = APIRouter()


def _write_input(raw: dict[str, Any], mode: str) -> WriteInput:
    props = raw.get("properties", {})
    if not isinstance(props, dict):
        raise bad_request("properties must be an object", "INVALID_PROPERTIES", "properties")
    ref, id_property, trace = raw.get("id"), raw.get("idProperty"), raw.get("objectWriteTraceId")
    if mode != "create" and not isinstance(ref, str | int):
        raise bad_request("Each input needs an id", "MISSING_ID", "id")
    associations = raw.get("associations") or []
    return WriteInput(
        props,
        id=None if ref is None else str(ref),
        id_property=id_property if isinstance(id_property, str) else None,
        trace_id=trace if isinstance(trace, str) else None,
        associations=associations if isinstance(associations, list) else [],
    )


def _error(failure: Failed) -> dict[str, Any]:
    context: dict[str, list[str]] = {}
    if failure.input.trace_id is not None:
        context["objectWriteTraceId"] = [failure.input.trace_id]
    if failure.input.id is not None:
        context["ids"] = [failure.input.id]
    return failure.error.standard(context)


def _result(ot: ObjectType, written: Written, upsert: bool) -> dict[str, Any]:
    out = render(ot, written.record, None)
    if upsert:
        out["new"] = written.new
    if written.trace_id is not None:
        out["objectWriteTraceId"] = written.trace_id
    return out


async def _write(request: Request, mode: str, ok_status: int) -> Response:
    ot = writable(request)
    state = sandbox(request)
    started = state.portal.now_ms()
    batch = [_write_input(raw, mode) for raw in inputs(await body(request))]
    written, failed = state.portal.write(ot, batch, mode, state.faults.record_fails)
    state.stats.record_failures += sum(f.injected for f in failed)
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": [_result(ot, w, mode == "upsert") for w in written],
        **stamps(started, state.portal.now_ms()),
    }
    if failed:
        out["numErrors"] = len(failed)
        out["errors"] = [_error(f) for f in failed]
    return json_response(out, 207 if failed else ok_status)


@router.post("/{object_type}/batch/create")
async def batch_create(request: Request) -> Response:
    """Create up to 100 records (201, or 207 when inputs with trace ids failed)."""
    return await _write(request, "create", 201)


@router.post("/{object_type}/batch/update")
async def batch_update(request: Request) -> Response:
    """Partially update up to 100 records by id or unique property."""
    return await _write(request, "update", 200)


@router.post("/{object_type}/batch/upsert")
async def batch_upsert(request: Request) -> Response:
    """Create or update up to 100 records by a unique property; results say which were ``new``."""
    return await _write(request, "upsert", 200)


@router.post("/{object_type}/batch/read")
async def batch_read(request: Request) -> Response:
    """Read up to 100 records; unknown ids are reported in a 207."""
    ot = readable(request)
    state = sandbox(request)
    started = state.portal.now_ms()
    payload = await body(request)
    refs = [str(i.get("id", "")) for i in inputs(payload)]
    id_property = payload.get("idProperty") if isinstance(payload.get("idProperty"), str) else None
    found = state.portal.find(ot, refs, id_property, flag(request, "archived"))
    wanted = payload.get("properties") or list(ot.defaults)
    out: dict[str, Any] = {
        "status": "COMPLETE",
        "results": [render(ot, found[ref], wanted) for ref in dict.fromkeys(refs) if ref in found],
        **stamps(started, state.portal.now_ms()),
    }
    missing = [ref for ref in dict.fromkeys(refs) if ref not in found]
    if missing:
        message = (
            f"Could not get some {ot.singular.upper()} objects, they may be deleted or not exist."
            " Check that ids are valid."
        )
        error = HubSpotError(404, "OBJECT_NOT_FOUND", message, context={"ids": missing})
        out["numErrors"] = 1
        out["errors"] = [error.standard()]
    return json_response(out, 207 if missing else 200)


@router.post("/{object_type}/batch/archive")
async def batch_archive(request: Request) -> Response:
    """Archive up to 100 records (204 whatever their state)."""
    ot = writable(request)
    portal = sandbox(request).portal
    refs = [str(i.get("id", "")) for i in inputs(await body(request))]
    found = portal.find(ot, refs, None)
    portal.archive(ot, list({r.id: r for r in found.values()}.values()))
    return Response(status_code=204)
