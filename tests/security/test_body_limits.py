"""Oversized request bodies are refused with 413 before they are read in full."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from app.web import WebState
from tests.factories import World, bearer


async def test_declared_oversized_body_is_refused(
    client: httpx.AsyncClient, world: World, web: WebState
) -> None:
    body = b"{" + b" " * web.settings.max_body_bytes + b"}"
    response = await client.post(
        "/api/v1/tenants",
        headers={**bearer(world.operator_token), "Content-Type": "application/json"},
        content=body,
    )
    assert response.status_code == 413
    assert "too large" in response.text


async def test_streamed_oversized_body_is_refused(
    client: httpx.AsyncClient, world: World, web: WebState
) -> None:
    chunk = b" " * 65536
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(web.settings.max_body_bytes // len(chunk) + 4):
            sent += len(chunk)
            yield chunk

    response = await client.post(
        "/api/v1/tenants",
        headers={**bearer(world.operator_token), "Content-Type": "application/json"},
        content=stream(),
    )
    assert response.status_code == 413


async def test_normal_body_passes(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        "/api/v1/tenants",
        headers=bearer(world.operator_token),
        json={"slug": "gamma", "name": "Gamma AG"},
    )
    assert response.status_code == 201


async def test_xlsx_import_may_exceed_the_json_cap(
    client: httpx.AsyncClient, world: World, web: WebState
) -> None:
    body = b"PK\x03\x04" + b"\0" * (web.settings.max_body_bytes + 1024)
    response = await client.post(
        f"/api/v1/interfaces/{world.a.interface.id}/mapping-versions/import",
        headers={
            **bearer(world.operator_token),
            "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        },
        content=body,
    )
    assert response.status_code == 422  # read and refused as a broken workbook, not 413
