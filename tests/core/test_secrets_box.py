"""Secrets at rest: versioned, bound to their row, rotatable, tamper-evident."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from app.core.secrets_box import VERSION_PREFIX, SecretBox, SecretDecryptionError

KEY_A = "key-a-0123456789abcdef-0123456789"
KEY_B = "key-b-fedcba9876543210-9876543210"
CANARY = "canary-token-7f3c1e9a"


@pytest.fixture
def owner() -> str:
    return str(uuid.uuid4())


@pytest.mark.parametrize(
    "data",
    [CANARY, {"access_token": CANARY, "expires_in": 1800}, ["a", 1, None], 42, None],
    ids=["str", "dict", "list", "int", "none"],
)
def test_round_trip(owner: str, data: Any) -> None:
    box = SecretBox([KEY_A])
    assert box.decrypt(owner, box.encrypt(owner, data)) == data


def test_ciphertext_is_versioned_and_hides_the_plaintext(owner: str) -> None:
    token = SecretBox([KEY_A]).encrypt(owner, {"password": CANARY})
    assert token.startswith("v1:")
    assert CANARY not in token
    assert owner not in token
    body = base64.urlsafe_b64decode(token[len(VERSION_PREFIX) :])
    assert CANARY.encode() not in body


def test_each_encryption_is_fresh(owner: str) -> None:
    box = SecretBox([KEY_A])
    assert box.encrypt(owner, CANARY) != box.encrypt(owner, CANARY)


def test_ciphertext_of_one_owner_does_not_open_for_another(owner: str) -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt(owner, CANARY)
    with pytest.raises(SecretDecryptionError):
        box.decrypt(str(uuid.uuid4()), token)
    assert box.decrypt(owner, token) == CANARY


def test_rotation_moves_a_value_to_the_new_key(owner: str) -> None:
    token = SecretBox([KEY_A]).encrypt(owner, CANARY)
    rotated = SecretBox([KEY_B, KEY_A]).rotate(token)
    assert rotated.startswith(VERSION_PREFIX)
    assert rotated != token
    assert SecretBox([KEY_B]).decrypt(owner, rotated) == CANARY
    with pytest.raises(SecretDecryptionError):
        SecretBox([KEY_A]).decrypt(owner, rotated)


def test_both_keys_decrypt_during_rotation(owner: str) -> None:
    old = SecretBox([KEY_A]).encrypt(owner, CANARY)
    both = SecretBox([KEY_B, KEY_A])
    assert both.decrypt(owner, old) == CANARY
    new = both.encrypt(owner, CANARY)
    assert SecretBox([KEY_B]).decrypt(owner, new) == CANARY
    with pytest.raises(SecretDecryptionError):
        SecretBox([KEY_A]).decrypt(owner, new)


def test_wrong_key_fails(owner: str) -> None:
    token = SecretBox([KEY_A]).encrypt(owner, CANARY)
    with pytest.raises(SecretDecryptionError):
        SecretBox([KEY_B]).decrypt(owner, token)
    with pytest.raises(SecretDecryptionError):
        SecretBox([KEY_B]).rotate(token)


def _flip_byte(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token[len(VERSION_PREFIX) :]))
    raw[index] ^= 0x01
    return VERSION_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("index", [0, 20, 40, -1], ids=["version", "iv", "body", "mac"])
def test_tampered_ciphertext_fails(owner: str, index: int) -> None:
    box = SecretBox([KEY_A])
    tampered = _flip_byte(box.encrypt(owner, CANARY), index)
    with pytest.raises(SecretDecryptionError):
        box.decrypt(owner, tampered)


def test_truncated_ciphertext_fails(owner: str) -> None:
    box = SecretBox([KEY_A])
    token = box.encrypt(owner, CANARY)
    with pytest.raises(SecretDecryptionError):
        box.decrypt(owner, token[:-8])


@pytest.mark.parametrize("prefix", ["v2:", "", "V1:", "v1"])
def test_unknown_prefix_fails(owner: str, prefix: str) -> None:
    box = SecretBox([KEY_A])
    body = box.encrypt(owner, CANARY)[len(VERSION_PREFIX) :]
    with pytest.raises(SecretDecryptionError):
        box.decrypt(owner, prefix + body)
    with pytest.raises(SecretDecryptionError):
        box.rotate(prefix + body)


def test_a_box_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one key"):
        SecretBox([])
