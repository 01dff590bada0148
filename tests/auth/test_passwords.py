"""Password hashing (argon2id, RFC 9106 low-memory profile) and password rules."""

from __future__ import annotations

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.passwords import (
    check_password_rules,
    hash_password,
    needs_rehash,
    verify_password,
)
from app.core.errors import InvalidInput
from app.models import User
from tests.factories import PASSWORD, World
from tests.ui_session import post_login


async def test_hash_is_argon2id_with_strong_parameters() -> None:
    phc = await hash_password("a long enough password")
    assert phc.startswith("$argon2id$")
    params = dict(p.split("=") for p in phc.split("$")[3].split(","))
    assert int(params["m"]) >= 65536
    assert int(params["t"]) >= 3
    assert "a long enough password" not in phc


async def test_verify_accepts_the_password_only() -> None:
    phc = await hash_password("a long enough password")
    assert await verify_password(phc, "a long enough password")
    assert not await verify_password(phc, "a long enough passworD")
    assert not await verify_password(None, "a long enough password")
    assert not await verify_password("not-a-hash", "a long enough password")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short7!", "at least 8"),
        ("x" * 1025, "1024 bytes"),
        ("hubsync2026", "too close"),
        ("Passwort1", "too close"),
    ],
)
def test_weak_passwords_are_refused(password: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        check_password_rules(password)


def test_context_words_are_refused() -> None:
    with pytest.raises(InvalidInput):
        check_password_rules("muster2026", context=("muster",))
    check_password_rules("a" * 64)


def test_old_weak_hash_needs_rehash() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)


async def test_sign_in_upgrades_an_old_hash(
    client: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    user = await db.get(User, world.a.admin.id)
    assert user is not None
    user.password_hash = weak
    await db.commit()
    assert (await post_login(client, world.a.admin.email)).status_code == 303
    await db.refresh(user)
    assert user.password_hash != weak
    assert not needs_rehash(user.password_hash)
