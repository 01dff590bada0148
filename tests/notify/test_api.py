"""The notification-target API: create, list, delete, test; roles, tenants and validation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import AuditEntry
from tests.factories import World, bearer
from tests.notify.receivers import WebhookReceiver

URL = "/api/v1/notification-targets"
MAIL = {"kind": "email", "address": "ops@tenant-a.example.com"}


async def create(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    return await client.post(URL, headers=bearer(token), json={**MAIL, **body})


async def listed_ids(client: httpx.AsyncClient, token: str) -> set[str]:
    response = await client.get(URL, headers=bearer(token))
    assert response.status_code == 200
    return {t["id"] for t in response.json()}


async def test_admin_creates_lists_and_deletes_a_target(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    created = await create(client, world.a.admin_token, changes=["failed", "failed", "recovered"])
    assert created.status_code == 201, created.text
    target = created.json()
    assert (target["tenant_id"], target["interface_id"]) == (str(world.a.tenant.id), None)
    assert target["changes"] == ["failed", "recovered"]
    b_target = (await create(client, world.b.admin_token)).json()
    assert await listed_ids(client, world.a.viewer_token) == {target["id"]}
    assert await listed_ids(client, world.operator_token) == {target["id"], b_target["id"]}
    deleted = await client.delete(f"{URL}/{target['id']}", headers=bearer(world.a.admin_token))
    assert deleted.status_code == 204
    assert await listed_ids(client, world.a.admin_token) == set()
    actions = (await db.execute(select(AuditEntry.action, AuditEntry.details))).all()
    assert (
        "notification_target.delete",
        {"kind": "email", "interface_id": None, "changes": ["failed", "recovered"]},
    ) in actions
    assert [a for a, _ in actions].count("notification_target.create") == 2  # fmt: skip
    assert "ops@tenant-a.example.com" not in str(actions)


async def test_viewers_read_but_do_not_write(client: httpx.AsyncClient, world: World) -> None:
    target = (await create(client, world.a.admin_token)).json()
    assert (await create(client, world.a.viewer_token)).status_code == 403
    for method, path in (("DELETE", target["id"]), ("POST", f"{target['id']}/test")):
        response = await client.request(
            method, f"{URL}/{path}", headers=bearer(world.a.viewer_token)
        )
        assert response.status_code == 403


async def test_other_tenants_targets_and_interfaces_are_not_found(
    client: httpx.AsyncClient, world: World
) -> None:
    target = (await create(client, world.a.admin_token)).json()
    for method, path in (("DELETE", target["id"]), ("POST", f"{target['id']}/test")):
        response = await client.request(
            method, f"{URL}/{path}", headers=bearer(world.b.admin_token)
        )
        assert response.status_code == 404
    foreign = await create(client, world.b.admin_token, interface_id=str(world.a.interface.id))
    assert foreign.status_code == 404
    mixed = await create(client, world.operator_token, tenant_id=str(world.b.tenant.id),
                         interface_id=str(world.a.interface.id))  # fmt: skip
    assert mixed.status_code == 404
    ignored = await create(client, world.b.admin_token, tenant_id=str(world.a.tenant.id))
    assert ignored.json()["tenant_id"] == str(world.b.tenant.id)  # admins add to their own


async def test_operators_name_the_tenant_or_the_interface(
    client: httpx.AsyncClient, world: World
) -> None:
    assert (await create(client, world.operator_token)).status_code == 422
    by_interface = await create(
        client, world.operator_token, interface_id=str(world.b.interface.id)
    )
    assert by_interface.json()["tenant_id"] == str(world.b.tenant.id)
    by_tenant = await create(client, world.operator_token, tenant_id=str(world.a.tenant.id),
                             address="it@tenant-a.example.com")  # fmt: skip
    assert by_tenant.status_code == 201
    again = await create(client, world.operator_token, tenant_id=str(world.a.tenant.id),
                         address="it@tenant-a.example.com")  # fmt: skip
    assert again.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "email", "address": "not-an-address"},
        {"kind": "email", "address": "ops@tenant-a"},
        {"kind": "webhook", "address": "http://hooks.example.com/services/x"},
        {"kind": "webhook", "address": "ftp://hooks.example.com/x"},
        {"kind": "webhook", "address": "hooks.example.com/x"},
        {"kind": "sms", "address": "+41 44 000 00 00"},
        {"kind": "email", "address": "ops@tenant-a.example.com", "changes": ["exploded"]},
        {"kind": "email", "address": "ops@tenant-a.example.com", "active": False},
    ],
)
async def test_invalid_targets_are_refused(
    client: httpx.AsyncClient, world: World, body: dict[str, Any]
) -> None:
    response = await client.post(URL, headers=bearer(world.a.admin_token), json=body)
    assert response.status_code == 422, response.text


async def test_webhook_urls_are_shown_without_their_secret(
    client: httpx.AsyncClient, world: World
) -> None:
    address = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
    created = await create(client, world.a.admin_token, kind="webhook", address=address)
    assert created.json()["address"] == "https://hooks.slack.com/…"
    assert "XXXXXXXX" not in (await client.get(URL, headers=bearer(world.a.admin_token))).text


async def test_test_message_reaches_a_webhook(
    client: httpx.AsyncClient, world: World, webhook: WebhookReceiver
) -> None:
    target = (await create(client, world.a.admin_token, kind="webhook", address=webhook.url,
                           interface_id=str(world.a.interface.id))).json()  # fmt: skip
    response = await client.post(f"{URL}/{target['id']}/test", headers=bearer(world.a.admin_token))
    assert response.json() == {"ok": True, "error": None}
    [posted] = webhook.bodies
    assert posted["text"].startswith("[hubsync] Testnachricht (Tenant TENANT-A)")
    assert posted["hubsync"]["change"] == "test"
    assert posted["hubsync"]["interface"] == "tenant-a-companies"


async def test_test_message_reports_why_it_failed(
    client: httpx.AsyncClient, world: World, webhook: WebhookReceiver
) -> None:
    webhook.failures = 1
    hook = (await create(client, world.a.admin_token, kind="webhook", address=webhook.url)).json()
    mail = (await create(client, world.a.admin_token)).json()
    failed = await client.post(f"{URL}/{hook['id']}/test", headers=bearer(world.a.admin_token))
    assert failed.json() == {"ok": False, "error": "HTTP 500: receiver is down"}
    unsent = await client.post(f"{URL}/{mail['id']}/test", headers=bearer(world.a.admin_token))
    assert unsent.json() == {
        "ok": False,
        "error": "SMTP ist nicht konfiguriert (HUBSYNC_SMTP_HOST)",
    }
