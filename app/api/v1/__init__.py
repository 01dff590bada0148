"""The JSON API, version 1: bearer-token auth on every route."""

from fastapi import APIRouter

from app.api.v1 import (
    accounts,
    connections,
    deletions,
    interfaces,
    mappings,
    notifications,
    oauth,
    run_items,
    runs,
    suppressions,
)

router = APIRouter(prefix="/api/v1")
for module in (
    accounts,
    connections,
    deletions,
    interfaces,
    mappings,
    notifications,
    oauth,
    run_items,
    runs,
    suppressions,
):
    router.include_router(module.router)
