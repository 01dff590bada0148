"""POST /api/v1/mapping-versions/{id}/hubspot-properties: operators create what the portal lacks."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry
from app.web import WebState
from tests.factories import World, bearer
from tests.test_cli_properties import bare_sandbox_url, company_properties
from tests.test_cli_run import TOKEN

__all__ = ["bare_sandbox_url"]  # fixtures used by name
EXPECTED = {
    "object_type": "companies",
    "name": "erp_customer_no",
    "label": "Erp customer no",
    "type": "string",
    "field_type": "text",
    "options": [],
    "has_unique_value": True,
}


async def point_at_sandbox(db: AsyncSession, web: WebState, world: World, url: str) -> str:
    """Tenant A's HubSpot connection aimed at the sandbox; returns the properties route."""
    portal = world.a.hubspot
    portal.config = {"base_url": url}
    portal.secrets_encrypted = web.secret_box.encrypt(str(portal.id), {"access_token": TOKEN})
    await db.commit()
    return f"/api/v1/mapping-versions/{world.a.version.id}/hubspot-properties"


async def test_operators_create_the_missing_properties(
    client: httpx.AsyncClient, db: AsyncSession, web: WebState, world: World, bare_sandbox_url: str
) -> None:
    url = await point_at_sandbox(db, web, world, bare_sandbox_url)
    headers = bearer(world.operator_token)
    dry = await client.post(f"{url}?dry_run=true", headers=headers)
    assert (dry.status_code, dry.json()) == (200, [EXPECTED])
    assert "erp_customer_no" not in await company_properties(bare_sandbox_url)

    created = await client.post(f"{url}?dry_run=false", headers=headers)
    assert (created.status_code, created.json()) == (200, [EXPECTED])
    assert (await company_properties(bare_sandbox_url))["erp_customer_no"]["hasUniqueValue"]
    audit = (await db.execute(select(AuditEntry).where(
        AuditEntry.action == "hubspot.properties.create"))).scalars().all()  # fmt: skip
    assert [a.target_id for a in audit] == [str(world.a.version.id)]

    again = await client.post(url, headers=headers)
    assert (again.status_code, again.json()) == (200, [])


async def test_admins_may_not_and_other_tenants_see_nothing(
    client: httpx.AsyncClient, db: AsyncSession, web: WebState, world: World, bare_sandbox_url: str
) -> None:
    url = await point_at_sandbox(db, web, world, bare_sandbox_url)
    own_admin = await client.post(url, headers=bearer(world.a.admin_token))
    assert own_admin.status_code == 403
    other_tenant = await client.post(url, headers=bearer(world.b.admin_token))
    assert other_tenant.status_code == 404
    assert "erp_customer_no" not in await company_properties(bare_sandbox_url)
