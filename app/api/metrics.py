"""``GET /metrics`` for Prometheus: open, or behind the bearer token in HUBSYNC_METRICS_TOKEN."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.api.deps import SettingsDep
from app.core.errors import Unauthenticated
from app.core.metrics import METRICS

router = APIRouter()


def require_metrics_token(request: Request, settings: SettingsDep) -> None:
    """Let a scrape through if no token is set or it brings the token (constant-time check)."""
    expected = settings.metrics_token
    if expected is None:
        return
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    presented = value.strip().encode() if scheme.lower() == "bearer" else b""
    if not presented or not secrets.compare_digest(presented, expected.get_secret_value().encode()):
        raise Unauthenticated("the metrics token is missing or wrong")


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(require_metrics_token)])
async def metrics() -> Response:
    """hubsync's metrics in the Prometheus text format."""
    body, content_type = METRICS.render()
    return Response(body, media_type=content_type)
