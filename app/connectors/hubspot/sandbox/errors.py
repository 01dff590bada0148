"""HubSpot-shaped errors: the ``Error`` body of single calls, ``StandardError`` of batches."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

JSON_TYPE = "application/json;charset=utf-8"


def json_response(
    body: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response serialised once with the stdlib (no FastAPI encoder on the hot path)."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status, headers=dict(headers or {}), media_type=JSON_TYPE)


def correlation_id() -> str:
    """A fresh correlation id, as HubSpot puts on every error."""
    return str(uuid.uuid4())


class HubSpotError(Exception):
    """A failure answered the way HubSpot answers it (status, category, message, details)."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        context: dict[str, list[str]] | None = None,
        links: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.message = message
        self.errors = errors or []
        self.context = context or {}
        self.links = links or {}

    def body(self) -> dict[str, Any]:
        """The ``Error`` body of a single call."""
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id(),
            "category": self.category,
        }
        for key, value in (("errors", self.errors), ("context", self.context)):
            if value:
                body[key] = value
        if self.links:
            body["links"] = self.links
        return body

    def standard(self, context: dict[str, list[str]] | None = None) -> dict[str, Any]:
        """The ``StandardError`` entry of a batch response."""
        return {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": {**self.context, **(context or {})},
            "errors": self.errors,
            "links": self.links,
            "id": correlation_id(),
        }

    def response(self) -> Response:
        """This error as an HTTP response."""
        return json_response(self.body(), self.status)


def detail(message: str, code: str, name: str | None = None) -> dict[str, Any]:
    """One ``ErrorDetail`` naming the offending field."""
    entry: dict[str, Any] = {"message": message, "code": code}
    if name is not None:
        entry["in"] = name
        entry["context"] = {"propertyName": [name]}
    return entry


def bad_request(message: str, code: str = "INVALID_INPUT", name: str | None = None) -> HubSpotError:
    """A 400 VALIDATION_ERROR with one detail."""
    return HubSpotError(400, "VALIDATION_ERROR", message, errors=[detail(message, code, name)])


def property_errors(issues: list[dict[str, Any]]) -> HubSpotError:
    """HubSpot's 400 for invalid property values, message embedding the legacy issue list."""
    legacy = [
        {
            "isValid": False,
            "message": issue["message"],
            "error": issue["code"],
            "name": issue["in"],
            "localizedErrorMessage": issue["message"],
        }
        for issue in issues
    ]
    message = "Property values were not valid: " + json.dumps(legacy, separators=(",", ":"))
    return HubSpotError(400, "VALIDATION_ERROR", message, errors=issues)


def not_found(message: str = "resource not found") -> HubSpotError:
    """HubSpot's 404 for a missing or archived record."""
    return HubSpotError(404, "OBJECT_NOT_FOUND", message)


def conflict(message: str) -> HubSpotError:
    """HubSpot's 409 (duplicate unique value, existing property)."""
    return HubSpotError(409, "CONFLICT", message)
