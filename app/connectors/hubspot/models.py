"""HubSpot response shapes the client returns, parsed with pydantic."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from app.connectors.hubspot.errors import MalformedResponse, excerpt

M = TypeVar("M", bound=BaseModel)


class HubSpotModel(BaseModel):
    """Base: camelCase on the wire, snake_case in Python, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


class CrmObject(HubSpotModel):
    """A CRM record (``SimplePublicObject``); upsert results also carry ``new``."""

    id: str
    properties: dict[str, str | None] = Field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    archived: bool = False
    archived_at: datetime | None = None
    new: bool | None = None
    object_write_trace_id: str | None = None


def parse(model: type[M], data: object) -> M:
    """``data`` as ``model``, or ``MalformedResponse`` quoting the offending body."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError:
        raise MalformedResponse(
            f"unexpected {model.__name__} shape: {excerpt(str(data))!r}"
        ) from None


def parse_list(model: type[M], items: object) -> list[M]:
    """Each element of a JSON array as ``model``."""
    if not isinstance(items, list):
        raise MalformedResponse(f"expected a list of {model.__name__}: {excerpt(str(items))!r}")
    return [parse(model, item) for item in items]


def results(body: object) -> list[Any]:
    """The ``results`` array of a response body (empty when absent)."""
    if body is None:
        return []
    if not isinstance(body, Mapping):
        raise MalformedResponse(f"expected a JSON object: {excerpt(str(body))!r}")
    found = body.get("results", [])
    return found if isinstance(found, list) else []
