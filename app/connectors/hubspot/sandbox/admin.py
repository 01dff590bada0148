"""The sandbox's own control API: faults, settings, counters and reset (not part of HubSpot)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from app.connectors.hubspot.sandbox.config import PROFILES
from app.connectors.hubspot.sandbox.context import body, sandbox
from app.connectors.hubspot.sandbox.errors import HubSpotError, bad_request, json_response
from app.connectors.hubspot.sandbox.gate import bearer

router = APIRouter(prefix="/_sandbox")


def _authorised(request: Request) -> None:
    """Admin calls need a bearer token the portal knows (any scope)."""
    if sandbox(request).tokens.authenticate(bearer(request.scope)) is None:
        raise HubSpotError(401, "INVALID_AUTHENTICATION", "A valid sandbox token is required")


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    """The current fault settings."""
    _authorised(request)
    return json_response(sandbox(request).faults.snapshot())


@router.put("/faults")
async def put_faults(request: Request) -> Response:
    """Change some fault settings (partial ``FaultConfig``); restarts the seeded sequence."""
    _authorised(request)
    faults = sandbox(request).faults
    faults.update(await body(request))
    return json_response(faults.snapshot())


def _settings(request: Request) -> dict[str, Any]:
    config = sandbox(request).config
    return {
        "search_lag_seconds": config.search_lag_seconds,
        "rate_limits": config.rate_limits,
        "profile": sandbox(request).limiter.profile.name,
    }


@router.get("/settings")
async def get_settings(request: Request) -> Response:
    """Search lag, rate limits on/off and the account tier in force."""
    _authorised(request)
    return json_response(_settings(request))


@router.put("/settings")
async def put_settings(request: Request) -> Response:
    """Change search lag, switch rate limits, or pick another account tier."""
    _authorised(request)
    state, payload = sandbox(request), await body(request)
    lag, limits, profile = (
        payload.get(k) for k in ("search_lag_seconds", "rate_limits", "profile")
    )
    if lag is not None and (isinstance(lag, bool) or not isinstance(lag, int | float) or lag < 0):
        raise bad_request("search_lag_seconds must be a number ≥ 0")
    if limits is not None and not isinstance(limits, bool):
        raise bad_request("rate_limits must be true or false")
    if profile is not None and profile not in PROFILES:
        raise bad_request(f"profile must be one of {sorted(PROFILES)}")
    if lag is not None:
        state.config.search_lag_seconds = float(lag)
    if limits is not None:
        state.config.rate_limits = limits
    if profile is not None:
        state.config.profile = profile
        state.limiter.profile = PROFILES[profile]
    return json_response(_settings(request))


@router.get("/stats")
async def stats(request: Request) -> Response:
    """Request counters (requests, 429s, injected errors, drops, failed batch inputs)."""
    _authorised(request)
    return json_response(sandbox(request).stats.as_dict())


@router.post("/reset")
async def reset(request: Request) -> Response:
    """Wipe every record and custom definition, and restart limits and counters."""
    _authorised(request)
    sandbox(request).reset()
    return Response(status_code=204)
