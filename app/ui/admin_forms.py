"""Shared pieces of the operator and admin pages: form parsing and redirect after POST."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.responses import RedirectResponse, Response

from app.core.errors import Conflict, HubsyncError
from app.ui.i18n import mark

FormT = TypeVar("FormT", bound=BaseModel)
SECRET_FIELD_PREFIX = "secret__"  # noqa: S105 - a form field name, not a secret


class FormModel(BaseModel):
    """Base of the admin forms: strings stripped, the CSRF field and unknown fields ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, frozen=True)


@dataclass(frozen=True, slots=True)
class ParsedForm(Generic[FormT]):
    """A submitted form: the model if valid, else the bad field names; values to re-render."""

    model: FormT | None
    values: dict[str, str]
    errors: frozenset[str] = field(default_factory=frozenset)


FORM_INVALID = mark("Please correct the marked fields.")


@dataclass(frozen=True, slots=True)
class FormProblem:
    """Why a form came back: a catalog msgid, the service's own words, the HTTP status."""

    error: str | None = None
    detail: str | None = None
    status: int = 200

    @classmethod
    def none(cls) -> FormProblem:
        """No problem: the form is shown fresh."""
        return cls()

    @classmethod
    def invalid(cls) -> FormProblem:
        """Fields failed validation; they are marked in the form (422)."""
        return cls(FORM_INVALID, None, 422)

    @classmethod
    def of(cls, exc: HubsyncError, *, invalid: str, conflict: str | None = None) -> FormProblem:
        """A service refusal: ``conflict`` for an existing object, else ``invalid`` + detail."""
        if isinstance(exc, Conflict) and conflict:
            return cls(conflict, None, exc.status_code)
        return cls(invalid, exc.message, exc.status_code)

    def context(self) -> dict[str, Any]:
        """The template variables ``error`` (msgid) and ``error_detail``."""
        return {"error": self.error, "error_detail": self.detail}


async def read_form(request: Request, model: type[FormT]) -> ParsedForm[FormT]:
    """Validate the posted fields with ``model``; secret fields are never kept for re-rendering."""
    raw = await request.form()
    values = {k: v for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}
    shown = {k: v for k, v in values.items() if not _is_secret(k)}
    try:
        return ParsedForm(model.model_validate(values), shown)
    except ValidationError as exc:
        bad = frozenset(str(e["loc"][0]) for e in exc.errors() if e["loc"])
        return ParsedForm(None, shown, bad or frozenset({"form"}))


def _is_secret(name: str) -> bool:
    return name == "password" or name.startswith(SECRET_FIELD_PREFIX)


async def secret_inputs(request: Request) -> dict[str, str]:
    """The write-only credential fields of a posted form, by name; blank ones left out."""
    raw = await request.form()
    return {
        k.removeprefix(SECRET_FIELD_PREFIX): v
        for k, v in raw.items()
        if k.startswith(SECRET_FIELD_PREFIX) and isinstance(v, str) and v != ""
    }


def see_other(request: Request, url: str) -> Response:
    """Redirect after a POST: 303 for plain forms, 204 + ``HX-Location`` for htmx (UI.md 4.2)."""
    if request.headers.get("HX-Request") != "true":
        return RedirectResponse(url, status_code=303)
    return Response(status_code=204, headers={"HX-Location": url})
