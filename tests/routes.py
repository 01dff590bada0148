"""The app's route inventory, read through public interfaces.

API routes come from the OpenAPI schema; UI routes (hidden from the schema)
from the UI router, whose paths already carry the /ui prefix.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app.ui.routes import router as ui_router

PATH_PARAM = re.compile(r"{(\w+)}")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def api_operations(app: FastAPI) -> list[tuple[str, str]]:
    """(METHOD, path) of every documented operation."""
    return sorted(
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    )


def ui_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every UI route."""
    return sorted(
        (method, route.path)
        for route in ui_router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )
