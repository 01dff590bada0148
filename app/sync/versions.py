"""Mapping versions: immutable, numbered states of an interface's table, and their approval.

Every change is a new row numbered 1, 2, … per interface; there is no update
path, and content identical to the newest version adds nothing. Operators
write versions (YAML, or an XLSX sign-off document imported as a draft); an
admin of the tenant or an operator approves one. Approval is the switch: the
approved version becomes the interface's ``active_mapping_version`` whatever
its state, so the most recently approved version is the one that runs
(approving an older one rolls back) and a draft or paused interface runs it
once started. The engine asks ``runnable_version`` and never runs a draft.
"""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor, Permission
from app.auth.repository import UserRepository
from app.core.audit import record_audit
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.tenancy import TenantScope
from app.models import Interface, MappingVersion
from app.models.base import utcnow
from app.sync.interfaces import find_interface, get_interface
from app.sync.mapping.export import (
    DocumentInfo,
    document_filename,
    export_csv,
    export_markdown,
    export_xlsx,
)
from app.sync.mapping.loader import load_mapping
from app.sync.mapping.model import MappingTable
from app.sync.mapping.problems import MappingError, MappingProblem
from app.sync.mapping.xlsx_import import import_xlsx
from app.sync.repositories import (
    AuditRepository,
    ConnectionRepository,
    InterfaceRepository,
    MappingVersionRepository,
)
from app.sync.tenants import list_tenants

ExportFormat = Literal["xlsx", "csv", "md"]
MEDIA_TYPES: dict[str, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
APPROVE_ACTION = "mapping.approve"


class InvalidMapping(InvalidInput):
    """A mapping table that cannot be stored; ``problems`` name object, field and line."""

    def __init__(self, error: MappingError) -> None:
        self.problems: list[MappingProblem] = error.problems
        super().__init__(error.describe())


class NoApprovedVersion(Conflict):
    """The interface has no approved mapping version, so it cannot run."""


@dataclass(frozen=True, slots=True)
class VersionOutcome:
    """The interface's newest version after a write, and whether the write added it."""

    version: MappingVersion
    created: bool


class Document(NamedTuple):
    """An exported sign-off document: server-built file name, media type, content."""

    filename: str
    media_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class InterfaceSummary:
    """One line of ``hubsync interface list``."""

    tenant: str
    name: str
    state: str
    interval_minutes: int
    last_run_at: datetime | None
    next_run_at: datetime | None
    active_version: int | None


def _versions(session: AsyncSession, tenant_id: uuid.UUID) -> MappingVersionRepository:
    return MappingVersionRepository.scoped(session, TenantScope.only(tenant_id))


def parse_mapping(text: str, *, source_name: str = "mapping.yaml") -> MappingTable:
    """A mapping table from YAML (bare or an interface file's ``mapping:``), or InvalidMapping."""
    try:
        return load_mapping(text, source_name=source_name)
    except MappingError as exc:
        raise InvalidMapping(exc) from None


def dump_mapping(table: MappingTable) -> str:
    """A table as canonical YAML (for tables that come without text, e.g. from an XLSX)."""
    data = table.model_dump(mode="json", exclude_defaults=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def mapping_section(text: str, table: MappingTable) -> str:
    """The text to store for ``table``: a bare table as written, an interface file's ``mapping:``.

    The section keeps the author's comments; if it does not read back as the
    same table, the canonical dump is stored instead. Never the whole interface
    file, whose connection settings may hold secrets. Call after ``parse_mapping``
    (which refused anchors, aliases and oversized input).
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    section = next(
        (v for k, v in getattr(root, "value", ()) if getattr(k, "value", None) == "mapping"), None
    )
    if section is None:
        return text
    start, end = section.start_mark, section.end_mark
    candidate = textwrap.dedent(" " * start.column + text[start.index : end.index]).rstrip() + "\n"
    try:
        same = load_mapping(candidate) == table
    except MappingError:
        same = False
    return candidate if same else dump_mapping(table)


async def create_version(
    session: AsyncSession,
    *,
    actor: Actor,
    interface_id: uuid.UUID,
    yaml_text: str | None = None,
    table: MappingTable | None = None,
    author: uuid.UUID | None = None,
) -> VersionOutcome:
    """Store ``yaml_text`` or ``table`` as the interface's next version (operators; unapproved)."""
    if (yaml_text is None) == (table is None):
        raise TypeError("give exactly one of yaml_text and table")
    interface = await get_interface(session, actor=actor, interface_id=interface_id)
    actor.require(Permission.manage_connections)
    if yaml_text is not None:
        table = parse_mapping(yaml_text)
        text = mapping_section(yaml_text, table)
    else:
        assert table is not None  # noqa: S101 - narrowed by the check above
        text = dump_mapping(table)
    return await _add_version(session, actor, interface, text, table, author or actor.user_id)


async def _add_version(
    session: AsyncSession,
    actor: Actor,
    interface: Interface,
    text: str,
    table: MappingTable,
    author: uuid.UUID | None,
) -> VersionOutcome:
    repo = _versions(session, interface.tenant_id)
    latest = await repo.latest(interface.id)
    parsed = table.model_dump(mode="json")
    if latest is not None and latest.parsed == parsed:
        return VersionOutcome(latest, created=False)
    version = MappingVersion(
        tenant_id=interface.tenant_id,
        interface_id=interface.id,
        number=latest.number + 1 if latest else 1,
        yaml_text=text,
        parsed=parsed,
        author_id=author,
    )
    await repo.create(version, flush=True)
    await _audit(session, actor, "mapping.create", interface, version)
    return VersionOutcome(version, created=True)


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    interface: Interface,
    version: MappingVersion,
    **details: object,
) -> None:
    await record_audit(
        session,
        action=action,
        actor_label=actor.label,
        actor_id=actor.user_id,
        tenant_id=version.tenant_id,
        target_type="mapping_version",
        target_id=version.id,
        details={"interface": interface.name, "number": version.number, **details},
    )


async def import_xlsx_version(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID, data: bytes
) -> VersionOutcome:
    """A sign-off XLSX read back (SECURITY.md §10) and stored as a draft version (operators)."""
    await get_interface(session, actor=actor, interface_id=interface_id)
    actor.require(Permission.manage_connections)
    table = import_xlsx(data)
    return await create_version(session, actor=actor, interface_id=interface_id, table=table)


async def get_version(
    session: AsyncSession, *, actor: Actor, version_id: uuid.UUID
) -> MappingVersion:
    """One version in the actor's scope (``NotFound`` for another tenant's)."""
    version = await MappingVersionRepository.scoped(session, actor.scope).get_by_id(version_id)
    if version is None:
        raise NotFound("mapping version not found")
    return version


async def list_versions(
    session: AsyncSession, *, actor: Actor, interface_id: uuid.UUID
) -> Sequence[MappingVersion]:
    """The versions of one interface, newest first."""
    interface = await get_interface(session, actor=actor, interface_id=interface_id)
    return await _versions(session, interface.tenant_id).list_for_interface(interface.id)


async def find_version(
    session: AsyncSession, *, actor: Actor, interface: str, number: int, tenant: str | None = None
) -> MappingVersion:
    """Version ``number`` of the interface called ``interface`` (``tenant`` slug if ambiguous)."""
    found = await find_interface(session, actor=actor, name=interface, tenant=tenant)
    version = await _versions(session, found.tenant_id).get_by_number(found.id, number)
    if version is None:
        raise NotFound(f"interface {interface!r} has no mapping version {number}")
    return version


async def approve_version(
    session: AsyncSession, *, actor: Actor, version_id: uuid.UUID
) -> MappingVersion:
    """Approve a version (admins of its tenant, operators) and make it the one that runs."""
    version = await get_version(session, actor=actor, version_id=version_id)
    actor.require(Permission.approve_mappings)
    interface = await _interface_of(session, version)
    first = version.approved_at is None
    if not first and interface.active_mapping_version_id == version.id:
        return version
    if first:
        version.approved_by_id = actor.user_id
        version.approved_at = utcnow()
    interface.active_mapping_version_id = version.id
    await session.flush()
    await _audit(session, actor, APPROVE_ACTION, interface, version, reactivated=not first)
    return version


async def _interface_of(session: AsyncSession, version: MappingVersion) -> Interface:
    scope = TenantScope.only(version.tenant_id)
    interface = await InterfaceRepository.scoped(session, scope).get_by_id(version.interface_id)
    if interface is None:
        raise NotFound("interface not found")
    return interface


async def runnable_version(session: AsyncSession, interface: Interface) -> MappingVersion:
    """The approved version ``interface`` runs; ``NoApprovedVersion`` if there is none."""
    version = None
    if interface.active_mapping_version_id is not None:
        repo = _versions(session, interface.tenant_id)
        version = await repo.get_by_id(interface.active_mapping_version_id)
    if version is None or version.approved_at is None or version.interface_id != interface.id:
        raise NoApprovedVersion(
            f"interface {interface.name!r} has no approved mapping version; approve one first "
            f"(hubsync mapping approve {interface.name} NUMBER)"
        )
    return version


def version_table(version: MappingVersion) -> MappingTable:
    """The mapping table a stored version holds."""
    return MappingTable.model_validate(version.parsed)


async def approver_label(session: AsyncSession, version: MappingVersion) -> str | None:
    """Who approved ``version``: the user's email, else the audit log's actor (e.g. ``cli``)."""
    if version.approved_at is None:
        return None
    return await _person(session, version.approved_by_id) or await _audit_actor(session, version)


async def _person(session: AsyncSession, user_id: uuid.UUID | None) -> str | None:
    user = await UserRepository(session).get_by_id(user_id) if user_id else None
    return user.email if user else None


async def _audit_actor(session: AsyncSession, version: MappingVersion) -> str:
    entry = await AuditRepository(session).latest_for(APPROVE_ACTION, version.id)
    return entry.actor_label if entry else "unbekannt"


async def export_version(
    session: AsyncSession, *, actor: Actor, version_id: uuid.UUID, format: ExportFormat
) -> Document:
    """A version as its sign-off document (XLSX, CSV or Markdown); the export is audited."""
    version = await get_version(session, actor=actor, version_id=version_id)
    if format not in MEDIA_TYPES:
        raise InvalidInput(f"format must be one of {', '.join(MEDIA_TYPES)}, not {format!r}")
    interface = await _interface_of(session, version)
    info = await _document_info(session, interface, version)
    table = version_table(version)
    content = {
        "xlsx": lambda: export_xlsx(table, info),
        "csv": lambda: export_csv(table),
        "md": lambda: export_markdown(table, info).encode(),
    }[format]()
    await _audit(session, actor, "mapping.export", interface, version, format=format)
    return Document(document_filename(info, format), MEDIA_TYPES[format], content)


async def _document_info(
    session: AsyncSession, interface: Interface, version: MappingVersion
) -> DocumentInfo:
    scope = TenantScope.only(interface.tenant_id)
    source = await ConnectionRepository.scoped(session, scope).get_by_id(
        interface.source_connection_id
    )
    return DocumentInfo(
        interface=interface.name,
        version=version.number,
        created_by=await _person(session, version.author_id) or "hubsync",
        created_at=version.created_at,
        approved_by=await approver_label(session, version),
        approved_at=version.approved_at,
        source_system=source.name if source else "Quelle",
    )


async def summarize_interfaces(session: AsyncSession, *, actor: Actor) -> list[InterfaceSummary]:
    """The interfaces the actor may see, with tenant slug and active version number."""
    slugs = {t.id: t.slug for t in await list_tenants(session, actor=actor)}
    summaries = []
    for interface in await InterfaceRepository.scoped(session, actor.scope).list():
        active = None
        if interface.active_mapping_version_id is not None:
            repo = _versions(session, interface.tenant_id)
            version = await repo.get_by_id(interface.active_mapping_version_id)
            active = version.number if version else None
        summaries.append(
            InterfaceSummary(
                tenant=slugs.get(interface.tenant_id, "?"),
                name=interface.name,
                state=interface.state.value,
                interval_minutes=interface.interval_minutes,
                last_run_at=interface.last_run_at,
                next_run_at=interface.next_run_at,
                active_version=active,
            )
        )
    return sorted(summaries, key=lambda s: (s.tenant, s.name))
