"""Everything ``hubsync demo`` sets up before it serves: the demo ERP, accounts, interfaces."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.secrets_box import SecretBox
from app.demo.accounts import DemoLogin, demo_operator, seed_accounts
from app.demo.config import DemoConfig
from app.demo.erp import build_erp
from app.demo.provision import provision_interfaces


def prepare_systems(config: DemoConfig, *, today: date | None = None) -> bool:
    """Build the demo ERP unless it exists; whether the ERP or the sandbox portal is new.

    Call it before ``create_demo_app``, which creates the portal's file. A new
    system means hubsync's links and cursors of the old one are stale.
    """
    new_portal = not config.sandbox_path.exists()
    new_erp = build_erp(
        config.erp_path, seed=config.seed, companies=config.companies, today=today or date.today()
    )
    return new_portal or new_erp


async def seed_demo(
    session: AsyncSession, *, box: SecretBox, config: DemoConfig, fresh: bool
) -> list[DemoLogin]:
    """Create (or refresh) the demo tenant, users, connections and interfaces; the new logins.

    Seeding again creates nothing twice: users get new passwords, the HubSpot
    connection the new sandbox token and URL, and ``fresh`` systems (see
    ``prepare_systems``) make hubsync forget what it synced with the old ones.
    """
    logins = await seed_accounts(session)
    actor = await demo_operator(session)
    await provision_interfaces(session, actor=actor, box=box, config=config, fresh=fresh)
    return logins
