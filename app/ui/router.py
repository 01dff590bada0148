"""The one router of the UI under ``/ui``: every page module adds its routes to it.

Unsafe methods run the CSRF check (router dependency). Page modules register
by being imported (``app.ui.routes``), so the router stays flat: one list of
routes the security tests can walk.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.ui.csrf import require_csrf

router = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(require_csrf)])
