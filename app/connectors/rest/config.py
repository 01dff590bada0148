"""Settings of the rest connector: where the API is, how to sign in, and how each object reads.

Every nested model refuses unknown keys, so a typo names its field. The whole
``auth`` block is the secret part of the settings (stored encrypted, never
rendered): it holds the token, password, API key or client secret.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator

from app.connectors.base import ConnectorConfig, FieldType

AuthType = Literal["none", "bearer", "basic", "api_key", "oauth2_client_credentials"]
PaginationType = Literal["page", "offset", "cursor", "link_header", "none"]
SinceFormat = Literal["iso", "epoch_ms", "epoch_s"]

# Which auth fields each auth type needs; the others may stay unset.
_AUTH_NEEDS: dict[str, frozenset[AuthType]] = {
    "token": frozenset({"bearer"}),
    "username": frozenset({"basic"}),
    "password": frozenset({"basic"}),
    "value": frozenset({"api_key"}),
    "token_url": frozenset({"oauth2_client_credentials"}),
    "client_id": frozenset({"oauth2_client_credentials"}),
    "client_secret": frozenset({"oauth2_client_credentials"}),
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def check_url(value: str) -> str:
    """An absolute http(s) URL without credentials, query or fragment, without trailing slash."""
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        raise ValueError("not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http:// or https:// URL")
    if url.userinfo:
        raise ValueError("must not contain credentials; use the auth settings")
    if url.query or url.fragment:
        raise ValueError("must not contain a query or a fragment")
    return value.rstrip("/")


def check_path(value: str) -> str:
    """A path below the base URL: starts with ``/``, no scheme, host or query."""
    if not value.startswith("/") or value.startswith("//") or "?" in value or "#" in value:
        raise ValueError("must be a path starting with '/', without query or fragment")
    return value


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSettings(_Settings):
    """How requests are signed: nothing, a bearer token, basic, an API-key header or OAuth2."""

    type: AuthType = "none"
    token: SecretStr | None = Field(None, validate_default=True)
    username: str | None = Field(None, validate_default=True)
    password: SecretStr | None = Field(None, validate_default=True)
    header: str = "X-API-Key"
    value: SecretStr | None = Field(None, validate_default=True)
    token_url: str | None = Field(None, validate_default=True)
    client_id: str | None = Field(None, validate_default=True)
    client_secret: SecretStr | None = Field(None, validate_default=True)
    scope: str | None = None

    @field_validator(*_AUTH_NEEDS)
    @classmethod
    def _required_for_type(cls, value: object, info: ValidationInfo) -> object:
        needed_by = _AUTH_NEEDS[str(info.field_name)]
        if value in (None, "") and info.data.get("type") in needed_by:
            raise ValueError(f"required for auth type {info.data['type']!r}")
        return value

    @field_validator("token_url")
    @classmethod
    def _token_url(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)


class PaginationSettings(_Settings):
    """How to ask for the next page; the parameter names of the API."""

    type: PaginationType = "none"
    page_size: int = Field(100, ge=1, le=10_000)
    size_param: str | None = "per_page"  # None: the API has a fixed page size
    page_param: str = "page"
    first_page: int = 1
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"  # dotted path of the next cursor in the body


class UpdatedSinceSettings(_Settings):
    """The query parameter that asks for records changed at or after a time (inclusive)."""

    param: str
    format: SinceFormat = "iso"


class WriteSettings(_Settings):
    """How records are created and updated.

    ``upsert``: one ``method`` request to ``item_path`` creates or updates (a PUT
    upsert). Otherwise a GET of ``item_path`` decides: 404 → POST to
    ``create_path``; found and equal → unchanged; found and different → ``method``.
    """

    method: Literal["POST", "PUT", "PATCH"] = "PUT"
    item_path: str | None = None  # e.g. "/customers/{id}"; default: the object path + "/{key}"
    create_path: str | None = None  # default: the object path
    upsert: bool = False

    @field_validator("item_path")
    @classmethod
    def _item_path(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)

    @field_validator("create_path")
    @classmethod
    def _create_path(cls, value: str | None) -> str | None:
        return None if value is None else check_path(value)


class DeleteSettings(_Settings):
    """How records are deleted: ``method`` on ``item_path`` (a 404 means already gone)."""

    method: Literal["DELETE", "POST", "PUT", "PATCH"] = "DELETE"
    item_path: str | None = None  # default: the object path + "/{key}"

    @field_validator("item_path")
    @classmethod
    def _item_path(cls, value: str | None) -> str | None:
        return None if value is None else check_template(value)


def check_template(value: str) -> str:
    """An item path with exactly one ``{name}`` placeholder, which the record key fills."""
    names = _PLACEHOLDER.findall(value)
    if len(names) != 1 or not names[0].isidentifier():
        raise ValueError("must contain exactly one placeholder such as {id}")
    return check_path(value)


def fill_template(template: str, key: str) -> str:
    """``template`` with its placeholder replaced by the URL-quoted ``key``."""
    return _PLACEHOLDER.sub(lambda _match: quote(key, safe=""), template, count=1)


class ObjectSettings(_Settings):
    """One object of the API: its collection path, key, cursor and paging."""

    path: str
    key: str = "id"
    cursor: str | None = None  # a field whose value grows on every change
    records_path: str = ""  # dotted path of the record list in the body; "" = the body
    fields: dict[str, FieldType] | None = None  # declared types; None = inferred by discover
    pagination: PaginationSettings = PaginationSettings()
    updated_since: UpdatedSinceSettings | None = Field(None, validate_default=True)
    deleted_flag: str | None = None  # a field that is true on deleted records
    write: WriteSettings | None = None  # None: read-only
    delete: DeleteSettings | None = None  # None: deletes are refused

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_path(value).rstrip("/") or "/"

    @field_validator("updated_since")
    @classmethod
    def _needs_cursor(
        cls, value: UpdatedSinceSettings | None, info: ValidationInfo
    ) -> UpdatedSinceSettings | None:
        if value is not None and not info.data.get("cursor"):
            raise ValueError("needs a cursor field")
        return value

    def item_template(self, configured: str | None) -> str:
        """The configured item path, or the collection path followed by the key."""
        return configured or f"{self.path.rstrip('/')}/{{key}}"


class RestConfig(ConnectorConfig):
    """Settings of a JSON API: base URL, credentials, objects, timeouts, retries, rate."""

    base_url: str
    auth: AuthSettings = AuthSettings()
    objects: dict[str, ObjectSettings] = Field(min_length=1)
    health_path: str | None = None  # check() GETs this, or else the first object's path
    timeout_s: float = Field(30.0, gt=0, le=600)
    max_retries: int = Field(3, ge=0, le=10)
    rate_limit_per_second: float | None = Field(None, gt=0)
    max_response_bytes: int = Field(50_000_000, ge=1024)

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return check_url(value)

    @field_validator("health_path")
    @classmethod
    def _health_path(cls, value: str | None) -> str | None:
        return None if value is None else check_path(value)

    @classmethod
    def secret_fields(cls) -> frozenset[str]:
        """The ``auth`` block holds the credentials, so all of it is stored encrypted."""
        return frozenset({"auth"})
