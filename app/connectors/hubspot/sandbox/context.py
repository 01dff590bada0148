"""Request helpers shared by the routes: body parsing, object type and scope checks, query flags."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from app.connectors.hubspot.sandbox.errors import HubSpotError, bad_request
from app.connectors.hubspot.sandbox.schema import ObjectType
from app.connectors.hubspot.sandbox.state import SandboxState
from app.connectors.hubspot.sandbox.times import iso
from app.connectors.hubspot.sandbox.tokens import TokenInfo

SCOPES_LINK = "https://developers.hubspot.com/scopes"
MAX_BATCH = 100


def sandbox(request: Request) -> SandboxState:
    """The sandbox behind this request."""
    state: SandboxState = request.app.state.sandbox
    return state


async def body(request: Request) -> dict[str, Any]:
    """The JSON object sent, or HubSpot's 400 for anything else."""
    raw = await request.body()
    try:
        parsed = json.loads(raw or b"{}")
    except ValueError as exc:
        raise bad_request(f"Invalid input JSON: {exc}", "INVALID_JSON") from None
    if not isinstance(parsed, dict):
        raise bad_request("Invalid input JSON: expected an object", "INVALID_JSON")
    return parsed


def inputs(payload: dict[str, Any], limit: int = MAX_BATCH) -> list[dict[str, Any]]:
    """The ``inputs`` of a batch body, each an object, at most ``limit`` of them."""
    items = payload.get("inputs")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise bad_request("inputs must be a list of objects", "INVALID_INPUTS", "inputs")
    if len(items) > limit:
        raise bad_request(f"Too many inputs: {len(items)} > {limit}", "TOO_MANY_INPUTS", "inputs")
    return items


def require(request: Request, scopes: tuple[str, ...]) -> None:
    """HubSpot's 403 unless the token holds one of ``scopes``."""
    info: TokenInfo = request.state.token
    if any(scope in info.scopes for scope in scopes):
        return
    message = (
        "This app hasn't been granted all required scopes to make this call."
        f" Read more about required scopes here: {SCOPES_LINK}."
    )
    raise HubSpotError(
        403,
        "MISSING_SCOPES",
        message,
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": list(scopes)},
            }
        ],
        context={"missingScopes": [scopes[0]]},
        links={"scopes": SCOPES_LINK},
    )


def object_type(request: Request, param: str = "object_type") -> ObjectType:
    """The object type named in the path, or HubSpot's 400."""
    ref = request.path_params[param]
    ot = sandbox(request).portal.catalog.find(ref)
    if ot is None:
        raise bad_request(f"Unable to infer object type from: {ref}", "INVALID_OBJECT_TYPE")
    return ot


def readable(request: Request, param: str = "object_type") -> ObjectType:
    """The path's object type, checked for a read scope."""
    ot = object_type(request, param)
    require(request, ot.read_scopes)
    return ot


def writable(request: Request, param: str = "object_type") -> ObjectType:
    """The path's object type, checked for a write scope."""
    ot = object_type(request, param)
    require(request, ot.write_scopes)
    return ot


def flag(request: Request, name: str) -> bool:
    """A boolean query parameter (``archived=true``)."""
    return request.query_params.get(name, "false").lower() == "true"


def names(request: Request, name: str) -> list[str] | None:
    """A list query parameter, repeated or comma-joined; None if absent."""
    values = request.query_params.getlist(name)
    if not values:
        return None
    return [n for v in values for n in v.split(",") if n]


def stamps(started_ms: int, finished_ms: int) -> dict[str, str]:
    """The timing fields every batch response carries."""
    return {
        "requestedAt": iso(started_ms),
        "startedAt": iso(started_ms),
        "completedAt": iso(finished_ms),
    }
