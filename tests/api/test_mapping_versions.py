"""The mapping-version API: write YAML, import XLSX, read, approve, export."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry
from tests.factories import MAPPING_YAML, World, bearer

CHANGED = MAPPING_YAML + "      - {source: city, hubspot: city}\n"
YAML = {"Content-Type": "application/yaml"}


def versions_url(world: World) -> str:
    return f"/api/v1/interfaces/{world.a.interface.id}/mapping-versions"


async def post_yaml(client: httpx.AsyncClient, world: World, text: str) -> httpx.Response:
    return await client.post(
        versions_url(world), content=text.encode(), headers={**bearer(world.operator_token), **YAML}
    )


async def test_post_yaml_creates_the_next_version(client: httpx.AsyncClient, world: World) -> None:
    created = await post_yaml(client, world, CHANGED)
    assert created.status_code == 201, created.text
    assert created.json()["number"] == 2
    assert created.json()["approved_at"] is None
    same = await post_yaml(client, world, CHANGED)
    assert same.status_code == 200
    assert same.json()["id"] == created.json()["id"]
    listed = await client.get(versions_url(world), headers=bearer(world.a.viewer_token))
    assert [v["number"] for v in listed.json()] == [2, 1]
    detail = await client.get(
        f"/api/v1/mapping-versions/{created.json()['id']}", headers=bearer(world.a.viewer_token)
    )
    assert detail.json()["yaml_text"] == CHANGED


async def test_invalid_yaml_is_422_with_the_line(client: httpx.AsyncClient, world: World) -> None:
    response = await post_yaml(client, world, MAPPING_YAML.replace("match:", "matsch:"))
    assert response.status_code == 422
    assert "mapping.yaml:4" in response.json()["detail"]


async def test_admins_cannot_write_versions(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        versions_url(world),
        content=CHANGED.encode(),
        headers={**bearer(world.a.admin_token), **YAML},
    )
    assert response.status_code == 403


async def test_approval_by_role(client: httpx.AsyncClient, world: World, db: AsyncSession) -> None:
    version_id = (await post_yaml(client, world, CHANGED)).json()["id"]
    url = f"/api/v1/mapping-versions/{version_id}/approve"
    assert (await client.post(url, headers=bearer(world.a.viewer_token))).status_code == 403
    assert (await client.post(url, headers=bearer(world.b.admin_token))).status_code == 404
    approved = await client.post(url, headers=bearer(world.a.admin_token))
    assert approved.status_code == 200
    assert approved.json()["approved_by_id"] == str(world.a.admin.id)
    interface = await client.get(
        f"/api/v1/interfaces/{world.a.interface.id}", headers=bearer(world.a.viewer_token)
    )
    assert interface.json()["active_mapping_version_id"] == version_id
    entry = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "mapping.approve"))
    ).scalar_one()
    assert entry.actor_id == world.a.admin.id


async def test_export_headers(client: httpx.AsyncClient, world: World) -> None:
    for format, media_type in (
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("csv", "text/csv; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
    ):
        response = await client.get(
            f"/api/v1/mapping-versions/{world.a.version.id}/export",
            params={"format": format},
            headers=bearer(world.a.viewer_token),
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == media_type
        assert response.headers["content-disposition"] == (
            f'attachment; filename="mapping-tenant-a-companies-v1.{format}"'
        )
    bad = await client.get(
        f"/api/v1/mapping-versions/{world.a.version.id}/export",
        params={"format": "pdf"},
        headers=bearer(world.a.viewer_token),
    )
    assert bad.status_code == 422


async def test_xlsx_upload_becomes_a_draft(client: httpx.AsyncClient, world: World) -> None:
    version_id = (await post_yaml(client, world, CHANGED)).json()["id"]
    exported = await client.get(
        f"/api/v1/mapping-versions/{version_id}/export", headers=bearer(world.operator_token)
    )
    await post_yaml(client, world, MAPPING_YAML)  # version 3, so the upload differs again
    response = await client.post(
        f"{versions_url(world)}/import",
        content=exported.content,
        headers={**bearer(world.operator_token), "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["number"] == 4
    assert response.json()["approved_at"] is None
    detail = await client.get(
        f"/api/v1/mapping-versions/{response.json()['id']}", headers=bearer(world.operator_token)
    )
    assert "city" in detail.json()["yaml_text"]


async def test_broken_xlsx_is_422(client: httpx.AsyncClient, world: World) -> None:
    response = await client.post(
        f"{versions_url(world)}/import",
        content=b"PK\x03\x04 not really a workbook",
        headers=bearer(world.operator_token),
    )
    assert response.status_code == 422
