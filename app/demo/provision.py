"""The demo's ready interfaces: connections, interfaces, approved mapping versions, properties.

Two interfaces, because an association's ``to`` must name an object mapping of
the same table, and one portal should not get the same fields from two tables:

- ``erp-firmen-kontakte`` (every 10 minutes): customers ↔ companies both ways
  (matched on the unique ``erp_customer_no``; a name changed in HubSpot flows
  back), contacts → contacts (matched on e-mail) associated with their company;
- ``erp-auftraege-deals`` (every 15 minutes): orders → deals in the default
  pipeline associated with their company. Its companies mapping carries only
  the customer number: it finds (or creates) the company for the association
  and leaves names and phones to the first interface.

The tables are interface files packaged in ``mappings/`` and applied as
``hubsync interface apply`` applies them (``app.sync.apply``), with the running
demo's values for ``${DEMO_ERP_URL}``, ``${DEMO_HUBSPOT_URL}`` and
``${DEMO_HUBSPOT_TOKEN}``; applying again changes only the token (new on every
start) and the sandbox URL (its port). The second interface shares the first
one's HubSpot connection: one portal, one connection. The demo operator
approves each version.

Set-up comes in two halves, because creating HubSpot properties needs the
sandbox to answer over HTTP, which it does only once the server runs:
``provision_interfaces`` before serving, ``activate_interfaces`` once served.
Every start thus ends with both interfaces active.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.secrets_box import SecretBox
from app.core.tenancy import TenantScope
from app.demo.accounts import DEMO_TENANT
from app.demo.config import DemoConfig
from app.demo.sync_state import SyncStateRepository
from app.models import Interface
from app.models.enums import InterfaceState
from app.sync.apply import apply_interface_file
from app.sync.interface_control import activate_interface, pause_interface, resume_interface
from app.sync.interfaces import find_interface
from app.sync.mapping.hubspot_properties import PlannedProperty
from app.sync.properties import create_version_properties
from app.sync.versions import approve_version, runnable_version

DEMO_INTERFACES = ("erp-firmen-kontakte", "erp-auftraege-deals")  # in the order they apply


def interface_file(name: str) -> str:
    """The packaged interface file of demo interface ``name``."""
    return (resources.files("app.demo") / "mappings" / f"{name}.yaml").read_text(encoding="utf-8")


def demo_environ(config: DemoConfig) -> dict[str, str]:
    """The values the interface files' ``${DEMO_*}`` references stand for."""
    return {
        "DEMO_ERP_URL": config.erp_url,
        "DEMO_HUBSPOT_URL": config.sandbox_url,
        "DEMO_HUBSPOT_TOKEN": config.token,
    }


async def provision_interfaces(
    session: AsyncSession, *, actor: Actor, box: SecretBox, config: DemoConfig, fresh: bool
) -> list[Interface]:
    """Apply and approve both interfaces (idempotent); with ``fresh`` systems, start over.

    ``fresh`` says the ERP or the sandbox portal is new: hubsync's links and
    cursors of the demo interfaces are forgotten, and the interfaces wait paused
    until ``activate_interfaces`` has created the properties the new portal lacks.
    """
    interfaces = []
    for name in DEMO_INTERFACES:
        applied = await apply_interface_file(
            session, actor=actor, box=box, text=interface_file(name),
            environ=demo_environ(config), source_name=f"{name}.yaml",
        )  # fmt: skip
        await approve_version(session, actor=actor, version_id=applied.version.id)
        interfaces.append(applied.interface)
    if fresh:
        scope = TenantScope.only(interfaces[0].tenant_id)
        await SyncStateRepository.scoped(session, scope).forget([i.id for i in interfaces])
        for interface in interfaces:
            if interface.state is InterfaceState.active:
                await pause_interface(session, actor=actor, interface_id=interface.id)
    return interfaces


async def activate_interfaces(
    session: AsyncSession, *, actor: Actor, box: SecretBox
) -> list[PlannedProperty]:
    """Create the HubSpot properties the tables need, then put both interfaces on the schedule.

    A new (draft) or paused interface is due at once, so the scheduler starts it
    within seconds; an active one keeps its schedule. Returns the properties
    created (none when the portal has them from an earlier start).
    """
    created: list[PlannedProperty] = []
    for name in DEMO_INTERFACES:
        interface = await find_interface(session, actor=actor, name=name, tenant=DEMO_TENANT[0])
        version = await runnable_version(session, interface)
        created += await create_version_properties(
            session, actor=actor, box=box, version_id=version.id
        )
        start = resume_interface if interface.state is InterfaceState.paused else activate_interface
        await start(session, actor=actor, interface_id=interface.id)
    return created
