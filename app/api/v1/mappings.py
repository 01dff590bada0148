"""API routes for mapping versions: write (YAML or XLSX), read, approve, export, and
create the custom HubSpot properties a version needs."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from app.api.deps import ApiActor, SecretBoxDep, SessionDep, StateDep
from app.api.v1.schemas import MappingVersionDetailOut, MappingVersionOut
from app.core.errors import (
    Conflict,
    Forbidden,
    HubsyncError,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from app.sync import versions
from app.sync.mapping.loader import MAX_FILE_BYTES as MAX_YAML_BYTES
from app.sync.mapping.xlsx_import import MAX_FILE_BYTES as MAX_XLSX_BYTES
from app.sync.properties import HubSpotFailed, create_version_properties

router = APIRouter(tags=["mapping versions"], responses={**Unauthenticated.schema()})
_WRITE_ERRORS = {**Forbidden.schema(), **NotFound.schema(), **InvalidInput.schema()}


class PayloadTooLarge(HubsyncError):
    """The uploaded document is larger than accepted."""

    status_code = 413


def _raw_body(media_type: str, description: str) -> dict[str, Any]:
    schema = {"type": "string", "format": "binary"}
    return {"requestBody": {"required": True, "description": description,
                            "content": {media_type: {"schema": schema}}}}  # fmt: skip


async def _read_capped(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the document is larger than {limit // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _created(response: Response, outcome: versions.VersionOutcome) -> MappingVersionOut:
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    return MappingVersionOut.model_validate(outcome.version)


@router.get(
    "/interfaces/{interface_id}/mapping-versions",
    response_model=list[MappingVersionOut],
    responses={**NotFound.schema()},
)
async def list_versions(
    interface_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> list[MappingVersionOut]:
    """The interface's mapping versions, newest first."""
    rows = await versions.list_versions(session, actor=actor, interface_id=interface_id)
    return [MappingVersionOut.model_validate(v) for v in rows]


@router.post(
    "/interfaces/{interface_id}/mapping-versions",
    response_model=MappingVersionOut,
    status_code=status.HTTP_201_CREATED,
    responses={**_WRITE_ERRORS, 200: {"description": "Same content as the newest version."}},
    openapi_extra=_raw_body("application/yaml", "The mapping table as YAML (operators)."),
)
async def create_version(
    interface_id: uuid.UUID, request: Request, response: Response, actor: ApiActor,
    session: SessionDep,
) -> MappingVersionOut:  # fmt: skip
    """Store a mapping table as the next, unapproved version (201), or 200 if unchanged."""
    body = await _read_capped(request, MAX_YAML_BYTES)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the mapping table must be UTF-8 text") from None
    outcome = await versions.create_version(
        session, actor=actor, interface_id=interface_id, yaml_text=text
    )
    return _created(response, outcome)


@router.post(
    "/interfaces/{interface_id}/mapping-versions/import",
    response_model=MappingVersionOut,
    status_code=status.HTTP_201_CREATED,
    responses={**_WRITE_ERRORS, 413: {"description": PayloadTooLarge.__doc__}},
    openapi_extra=_raw_body(versions.MEDIA_TYPES["xlsx"], "A sign-off XLSX, at most 5 MiB."),
)
async def import_version(
    interface_id: uuid.UUID, request: Request, response: Response, actor: ApiActor,
    session: SessionDep,
) -> MappingVersionOut:  # fmt: skip
    """Read a sign-off XLSX back as a draft version (201), or 200 if unchanged."""
    data = await _read_capped(request, MAX_XLSX_BYTES)
    outcome = await versions.import_xlsx_version(
        session, actor=actor, interface_id=interface_id, data=data
    )
    return _created(response, outcome)


@router.get(
    "/mapping-versions/{version_id}",
    response_model=MappingVersionDetailOut,
    responses={**NotFound.schema()},
)
async def get_version(
    version_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> MappingVersionDetailOut:
    """One mapping version with its YAML text."""
    version = await versions.get_version(session, actor=actor, version_id=version_id)
    return MappingVersionDetailOut.model_validate(version)


@router.post(
    "/mapping-versions/{version_id}/approve",
    response_model=MappingVersionOut,
    responses={**Forbidden.schema(), **NotFound.schema(), **Conflict.schema()},
)
async def approve_version(
    version_id: uuid.UUID, actor: ApiActor, session: SessionDep
) -> MappingVersionOut:
    """Approve a version and make it the one the interface runs (admins, operators)."""
    version = await versions.approve_version(session, actor=actor, version_id=version_id)
    return MappingVersionOut.model_validate(version)


@router.get(
    "/mapping-versions/{version_id}/export",
    response_class=Response,
    responses={
        **NotFound.schema(),
        200: {"content": {t: {} for t in versions.MEDIA_TYPES.values()}},
    },
)
async def export_version(
    version_id: uuid.UUID,
    actor: ApiActor,
    session: SessionDep,
    format: versions.ExportFormat = "xlsx",
) -> Response:
    """The version's sign-off document as a download (XLSX, CSV or Markdown)."""
    document = await versions.export_version(
        session, actor=actor, version_id=version_id, format=format
    )
    disposition = f'attachment; filename="{document.filename}"'
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": disposition},
    )


class PlannedPropertyOut(BaseModel):
    """A custom HubSpot property created (or, on a dry run, to be created) for a version."""

    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    options: list[str]
    has_unique_value: bool


@router.post(
    "/mapping-versions/{version_id}/hubspot-properties",
    response_model=list[PlannedPropertyOut],
    responses={**_WRITE_ERRORS, **HubSpotFailed.schema()},
)
async def create_hubspot_properties(
    version_id: uuid.UUID,
    actor: ApiActor,
    session: SessionDep,
    box: SecretBoxDep,
    state: StateDep,
    dry_run: bool = False,
) -> list[PlannedPropertyOut]:
    """Create the custom HubSpot properties the version needs and the portal lacks (operators)."""
    planned = await create_version_properties(
        session, actor=actor, box=box, version_id=version_id, dry_run=dry_run,
        oauth_app=state.executor.oauth_app,
    )  # fmt: skip
    return [PlannedPropertyOut.model_validate(p, from_attributes=True) for p in planned]
