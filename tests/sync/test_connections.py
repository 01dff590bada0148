"""Connection secrets: encrypted on write, rotatable to a new key without loss."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import Forbidden, NotFound
from app.core.secrets_box import SecretBox, SecretDecryptionError
from app.models.enums import ConnectionKind
from app.sync.connections import (
    create_connection,
    get_connection,
    open_connection_secrets,
    rotate_connection_secrets,
)
from tests.factories import World

OLD_KEY = "old-master-key-0123456789abcdef"
NEW_KEY = "new-master-key-fedcba9876543210"


async def test_rotation_re_encrypts_under_the_new_key(db: AsyncSession, world: World) -> None:
    system = Actor.system("test")
    old_box = SecretBox([OLD_KEY])
    connection = await create_connection(
        db,
        actor=system,
        box=old_box,
        tenant_id=world.a.tenant.id,
        name="erp-db",
        kind=ConnectionKind.source,
        connector="sql",
        config={},
        secrets={"password": "s3cret-value"},
    )
    await db.commit()
    rotated = await rotate_connection_secrets(db, actor=system, box=SecretBox([NEW_KEY, OLD_KEY]))
    await db.commit()
    assert rotated == 1
    await db.refresh(connection)
    assert open_connection_secrets(connection, SecretBox([NEW_KEY])) == {"password": "s3cret-value"}
    with pytest.raises(SecretDecryptionError):
        open_connection_secrets(connection, old_box)


async def test_tenant_admin_may_not_rotate(db: AsyncSession, world: World) -> None:
    admin = Actor(role=world.a.admin.role, tenant_id=world.a.tenant.id, user_id=world.a.admin.id)
    with pytest.raises(Forbidden):
        await rotate_connection_secrets(db, actor=admin, box=SecretBox([NEW_KEY]))


async def test_connection_of_another_tenant_is_not_found(db: AsyncSession, world: World) -> None:
    viewer_b = Actor(
        role=world.b.viewer.role, tenant_id=world.b.tenant.id, user_id=world.b.viewer.id
    )
    with pytest.raises(NotFound):
        await get_connection(db, actor=viewer_b, connection_id=world.a.source.id)
