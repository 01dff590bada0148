"""Which mapping tables use a HubSpot connection, and so which scopes it must be granted.

Each interface on the connection contributes its approved mapping version; an
interface still without one contributes its newest draft, so a portal can be
connected (and the draft checked against its properties) before sign-off.
Reconnecting after approving a table that maps more objects asks for the rest.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.tenancy import TenantScope
from app.models import Connection, Interface, MappingVersion
from app.sync.hubspot_oauth.scopes import required_scopes
from app.sync.mapping.model import MappingTable
from app.sync.repositories import InterfaceRepository, MappingVersionRepository
from app.sync.versions import NoApprovedVersion, runnable_version, version_table


async def interfaces_using(session: AsyncSession, connection: Connection) -> list[Interface]:
    """The interfaces whose HubSpot side is ``connection``, by name."""
    scope = TenantScope.only(connection.tenant_id)
    return [
        interface
        for interface in await InterfaceRepository.scoped(session, scope).list()
        if interface.hubspot_connection_id == connection.id
    ]


async def needed_scopes(session: AsyncSession, connection: Connection) -> tuple[str, ...]:
    """The scopes the mapping tables of the connection's interfaces need."""
    tables: list[MappingTable] = []
    for interface in await interfaces_using(session, connection):
        version = await _table_version(session, interface)
        if version is not None:
            tables.append(version_table(version))
    return required_scopes(tables)


async def _table_version(session: AsyncSession, interface: Interface) -> MappingVersion | None:
    try:
        return await runnable_version(session, interface)
    except NoApprovedVersion:
        scope = TenantScope.only(interface.tenant_id)
        return await MappingVersionRepository.scoped(session, scope).latest(interface.id)
