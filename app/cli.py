"""The ``hubsync`` command: the operator's tool and the scripting contract."""

from __future__ import annotations

import asyncio
import sys
import uuid
import warnings
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.connectors.errors import ConnectorError
from app.connectors.hubspot.errors import HubSpotError
from app.core import migrations
from app.core.db import create_engine, create_session_factory, session_scope
from app.core.errors import HubsyncError
from app.core.settings import Settings, SettingsError, load_settings
from app.models import Interface, SyncRun
from app.models.enums import Role

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from app.connectors.hubspot.sandbox.config import SandboxConfig
    from app.demo import DemoConfig, DemoLogin

T = TypeVar("T")
app = typer.Typer(
    help="hubsync: integration hub between business systems and HubSpot.", no_args_is_help=True
)
tenant_app = typer.Typer(help="Manage tenants.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
secrets_app = typer.Typer(help="Manage the keys that encrypt stored secrets.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(secrets_app, name="secrets")
CLI_ACTOR = Actor.system("cli")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=1)


def _settings() -> Settings:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            settings = load_settings()
        except SettingsError as exc:
            raise _fail(str(exc)) from None
    for warning in caught:
        typer.echo(f"warning: {warning.message}", err=True)
    return settings


async def _require_current_schema(settings: Settings) -> None:
    try:
        current = await migrations.current_revision(settings.database_url)
    except Exception as exc:  # noqa: BLE001 - any connection failure ends the command
        raise _fail(
            f"the database at HUBSYNC_DATABASE_URL is unreachable ({type(exc).__name__})"
        ) from None
    if current != migrations.head_revision():
        raise _fail(
            f"the database schema is at {current or 'nothing'}, this version needs "
            f"{migrations.head_revision()}: run `hubsync migrate` first"
        )


def _run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        await _require_current_schema(settings)
        engine = create_engine(settings.database_url)
        try:
            async with session_scope(create_session_factory(engine)) as session:
                return await work(session)
        except HubsyncError as exc:
            raise _fail(exc.message) from None
        finally:
            await engine.dispose()

    return asyncio.run(main())


@app.command()
def migrate() -> None:
    """Apply database migrations up to this version's schema."""
    settings = _settings()
    _upgrade(settings)
    typer.echo(f"database schema at {migrations.head_revision()}")


def _upgrade(settings: Settings) -> None:
    try:
        migrations.upgrade(settings.database_url)
    except (OSError, SQLAlchemyError) as exc:
        raise _fail(
            f"migrating the database at HUBSYNC_DATABASE_URL failed ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:200]})"
        ) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API, the UI and the webhook receiver."""
    settings = _settings()
    asyncio.run(_require_current_schema(settings))
    _serve(settings, host, port)


def _serve(settings: Settings, host: str, port: int) -> None:
    from app.main import create_app

    _serve_app(create_app(settings), host, port)


def _serve_app(asgi_app: ASGIApp, host: str, port: int) -> None:
    import uvicorn

    uvicorn.run(
        asgi_app, host=host, port=port, server_header=False, log_config=None, proxy_headers=False
    )


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    activity_minutes: Annotated[
        float, typer.Option(min=0.1, help="Minutes between the demo users' changes.")
    ] = 2.5,
) -> None:
    """Set up the embedded demo (ERP, sandbox portal, logins, interfaces) and serve it."""
    from app.core.secrets_box import SecretBox
    from app.demo import DemoConfig, prepare_systems, seed_demo
    from app.demo.server import create_demo_app

    settings = _demo_settings(_settings())
    if settings.is_production():
        raise _fail("the demo never runs with HUBSYNC_ENV=production")
    _upgrade(settings)
    config = DemoConfig(
        var_dir=settings.var_dir, host=host, port=port, activity_seconds=activity_minutes * 60
    )
    fresh = prepare_systems(config)
    box = SecretBox(settings.secret_keys)
    logins = _run_in_session(
        settings, lambda session: seed_demo(session, box=box, config=config, fresh=fresh)
    )
    _print_demo(config, logins)
    _serve_app(create_demo_app(settings, config), host, port)


def _demo_settings(settings: Settings) -> Settings:
    """The demo keeps its database with its other files in HUBSYNC_VAR_DIR, unless
    HUBSYNC_DATABASE_URL names one: a demo in a new folder then starts afresh, with
    its own secret key, instead of meeting secrets and links of another demo."""
    if "database_url" in settings.model_fields_set:
        return settings
    database = settings.var_dir / "hubsync.db"
    return settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{database}"})


def _print_demo(config: DemoConfig, logins: list[DemoLogin]) -> None:
    from app.demo.provision import DEMO_INTERFACES

    typer.echo(f"\nhubsync demo at {config.base_url}/ui/ (passwords and token new on every start)")
    for login in logins:
        typer.echo(f"  {login.role:<9} {login.email:<36} {login.password}")
    typer.echo(f"\nHubSpot sandbox portal at {config.sandbox_url} (API and /ui/ pages)")
    typer.echo(
        f"  private-app token (any user name with it as password for the pages): {config.token}"
    )
    typer.echo(f"demo ERP (SQLite): {config.erp_path}")
    typer.echo(
        f"interfaces {' and '.join(DEMO_INTERFACES)} run as soon as the server is up; "
        f"the demo's users change both systems every {config.activity_seconds / 60:g} minutes\n"
    )


@tenant_app.command("add")
def tenant_add(
    slug: Annotated[str, typer.Argument(help="Short URL-safe name, e.g. acme.")],
    name: Annotated[str, typer.Option(help="Display name.")],
) -> None:
    """Create a tenant."""
    from app.sync.tenants import create_tenant

    async def work(session: AsyncSession) -> str:
        tenant = await create_tenant(session, actor=CLI_ACTOR, slug=slug, name=name)
        return str(tenant.id)

    typer.echo(f"tenant {slug} created ({_run_in_session(_settings(), work)})")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="The user's email address (their login).")],
    role: Annotated[Role, typer.Option(help="operator, admin or viewer.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (admins, viewers).")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a user; the password comes from a prompt or stdin, never from the command line."""
    from app.auth.users import create_user
    from app.sync.tenants import get_tenant_by_slug

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> str:
        tenant_id = None
        if tenant is not None:
            tenant_id = (await get_tenant_by_slug(session, actor=CLI_ACTOR, slug=tenant)).id
        user = await create_user(
            session, actor=CLI_ACTOR, email=email, password=password, role=role, tenant_id=tenant_id
        )
        return user.email

    typer.echo(f"user {_run_in_session(_settings(), work)} created as {role.value}")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt all stored secrets under the newest key of HUBSYNC_SECRET_KEY.

    Put the new key first in HUBSYNC_SECRET_KEY (keeping the old one after it),
    run this, then drop the old key.
    """
    from app.core.secrets_box import SecretBox
    from app.sync.connections import rotate_connection_secrets

    settings = _settings()
    box = SecretBox(settings.secret_keys)

    async def work(session: AsyncSession) -> int:
        return await rotate_connection_secrets(session, actor=CLI_ACTOR, box=box)

    typer.echo(f"re-encrypted the secrets of {_run_in_session(settings, work)} connection(s)")


@app.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    db: Annotated[
        str, typer.Option(help="SQLite file that keeps the portal's data (default: memory).")
    ] = ":memory:",
    profile: Annotated[
        str,
        typer.Option(help="Account tier for rate limits: free|starter|professional|enterprise."),
    ] = "professional",
    token: Annotated[
        list[str] | None, typer.Option(help="Private-app token to accept (repeatable).")
    ] = None,
    portal_id: Annotated[int, typer.Option(help="The emulated portal's hub id.")] = 62515,
    no_rate_limits: Annotated[
        bool, typer.Option("--no-rate-limits", help="Answer without any rate limit.")
    ] = False,
    faults: Annotated[
        str | None,
        typer.Option(help="Faults from the start, as JSON, e.g. '{\"error_rate\": 0.05}'."),
    ] = None,
    search_lag: Annotated[
        float, typer.Option(help="Seconds before a written record shows up in search.")
    ] = 0.0,
) -> None:
    """Run the emulated HubSpot portal on its own (clients only change their base URL)."""
    import uvicorn

    from app.connectors.hubspot.sandbox.app import create_sandbox
    from app.connectors.hubspot.sandbox.config import PROFILES, SandboxConfig

    if profile not in PROFILES:
        raise _fail(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
    config = SandboxConfig(
        portal_id=portal_id,
        db_path=db,
        profile=profile,
        rate_limits=not no_rate_limits,
        private_tokens=token or ["sandbox-token"],
        public_base_url=f"http://{host}:{port}",
        search_lag_seconds=search_lag,
    )
    _apply_faults(config, faults)
    typer.echo(f"HubSpot sandbox portal {portal_id} ({profile}) at http://{host}:{port}")
    typer.echo(f"  private-app tokens: {', '.join(config.private_tokens)}")
    uvicorn.run(create_sandbox(config), host=host, port=port, server_header=False, log_config=None)


def _apply_faults(config: SandboxConfig, faults: str | None) -> None:
    """Set start-up faults the way PUT /_sandbox/faults does, refusing what it refuses."""
    import json

    from app.connectors.hubspot.sandbox.errors import HubSpotError
    from app.connectors.hubspot.sandbox.faults import Faults

    if not faults:
        return
    try:
        changes = json.loads(faults)
        if not isinstance(changes, dict):
            raise TypeError("a JSON object is needed")
        Faults(config.faults).update(changes)
    except (ValueError, TypeError, HubSpotError) as exc:
        raise _fail(f"--faults: {getattr(exc, 'message', exc)}") from None


connectors_app = typer.Typer(help="Connectors to third-party systems.", no_args_is_help=True)
app.add_typer(connectors_app, name="connectors")


@connectors_app.command("list")
def connectors_list() -> None:
    """Show the installed connectors, where they come from and their settings."""
    from app.connectors.registry import installed_connectors

    try:
        installed = installed_connectors()
    except (ImportError, TypeError) as exc:
        raise _fail(f"a connector could not be loaded: {exc}") from None
    for entry in installed.values():
        summary = (entry.connector.__doc__ or "").strip().splitlines()[0:1]
        typer.echo(f"{entry.name:<10} {entry.package} {entry.version}  {''.join(summary)}")
        secret = entry.connector.Config.secret_fields()
        fields = [
            f"{name}*" if name in secret else name for name in entry.connector.Config.model_fields
        ]
        typer.echo(f"{'':<10} settings: {', '.join(fields)}  (* stored encrypted)")


mapping_app = typer.Typer(help="Mapping tables: check and export.", no_args_is_help=True)
app.add_typer(mapping_app, name="mapping")
MAX_MAPPING_FILE_BYTES = 512 * 1024


def _read_mapping_file(path: Path) -> str:
    if not path.is_file():
        raise _fail(f"{path}: no such file")
    if path.stat().st_size > MAX_MAPPING_FILE_BYTES:
        raise _fail(f"{path}: larger than {MAX_MAPPING_FILE_BYTES // 1024} KiB")
    return path.read_text(encoding="utf-8")


@mapping_app.command("validate")
def mapping_validate(
    file: Annotated[Path, typer.Argument(help="A mapping table or an interface file (YAML).")],
    offline: Annotated[
        bool, typer.Option("--offline", help="Check the file only, not both systems' schemas.")
    ] = False,
) -> None:
    """Check a mapping table; an interface file also against both systems' real schemas."""
    import os

    from app.sync.mapping.validate import MappingError, validate_file

    text = _read_mapping_file(file)
    try:
        report = asyncio.run(
            validate_file(text, source_name=file.name, environ=os.environ, remote=not offline)
        )
    except MappingError as exc:
        raise _fail(str(exc)) from None
    except (ConnectorError, HubSpotError) as exc:
        raise _fail(f"could not read the systems' schemas: {exc}") from None
    for note in report.notes:
        typer.echo(f"note: {note}")
    if report.problems:
        raise _fail(str(MappingError(report.problems, source_name=file.name)))
    objects = ", ".join(o.name for o in report.table.in_dependency_order())
    typer.echo(f"{file.name}: valid ({objects})")


@mapping_app.command("export")
def mapping_export(
    file: Annotated[Path, typer.Argument(help="A mapping table or an interface file (YAML).")],
    format: Annotated[str, typer.Option(help="xlsx, csv or md.")] = "xlsx",
    out: Annotated[Path | None, typer.Option(help="Where to write (default: beside).")] = None,
    version: Annotated[int, typer.Option(help="Version number for the document.")] = 1,
) -> None:
    """Write the sign-off document of a mapping table (XLSX, CSV or Markdown)."""
    import getpass

    from app.models.base import utcnow
    from app.sync.mapping.export import (
        DocumentInfo,
        document_filename,
        export_csv,
        export_markdown,
        export_xlsx,
    )
    from app.sync.mapping.loader import load_mapping
    from app.sync.mapping.problems import MappingError

    if format not in ("xlsx", "csv", "md"):
        raise _fail(f"--format must be xlsx, csv or md, not {format!r}")
    try:
        table = load_mapping(_read_mapping_file(file), source_name=file.name)
    except MappingError as exc:
        raise _fail(str(exc)) from None
    info = DocumentInfo(interface=file.stem, version=version, created_by=getpass.getuser(),
                        created_at=utcnow())  # fmt: skip
    content = {
        "xlsx": lambda: export_xlsx(table, info),
        "csv": lambda: export_csv(table),
        "md": lambda: export_markdown(table, info).encode(),
    }[format]()
    target = out or file.with_name(document_filename(info, format))
    target.write_bytes(content)
    typer.echo(f"wrote {target} ({len(content):,} bytes)")


interface_app = typer.Typer(help="Interfaces: apply files, list.", no_args_is_help=True)
app.add_typer(interface_app, name="interface")


@interface_app.command("apply")
def interface_apply(
    file: Annotated[Path, typer.Argument(help="An interface file (YAML); ${VAR} from the env.")],
) -> None:
    """Create or update a tenant's interface, its connections and its mapping from a file."""
    import os

    from app.core.secrets_box import SecretBox
    from app.sync.apply import apply_interface_file

    settings = _settings()
    box = SecretBox(settings.secret_keys)
    text = _read_mapping_file(file)

    async def work(session: AsyncSession) -> list[str]:
        result = await apply_interface_file(
            session, actor=CLI_ACTOR, box=box, text=text, environ=os.environ, source_name=file.name
        )
        lines = [f"{c.kind} {c.name}: {c.outcome.value}" for c in result.changes]
        if result.version.approved_at is None:
            lines.append(
                f"mapping version {result.version.number} awaits approval: "
                f"hubsync mapping approve {result.interface.name} {result.version.number}"
            )
        return lines

    for line in _run_in_session(settings, work):
        typer.echo(line)


@interface_app.command("list")
def interface_list() -> None:
    """Show every interface: tenant, name, state, interval, last and next run, active version."""
    from app.sync.versions import summarize_interfaces

    def when(moment: object) -> str:
        return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"

    async def work(session: AsyncSession) -> list[str]:
        return [
            f"{s.tenant:<16} {s.name:<24} {s.state:<8} {s.interval_minutes:>3} min  "
            f"last {when(s.last_run_at):<16}  next {when(s.next_run_at):<16}  "
            f"version {s.active_version or '-'}"
            for s in await summarize_interfaces(session, actor=CLI_ACTOR)
        ]

    lines = _run_in_session(_settings(), work)
    for line in lines or ["no interfaces"]:
        typer.echo(line)


TenantOption = Annotated[str | None, typer.Option(help="Tenant slug, if the name is ambiguous.")]
InterfaceName = Annotated[str, typer.Argument(help="The interface's name.")]


def _change_interface(
    name: str, tenant: str | None, change: Callable[[AsyncSession, uuid.UUID], Awaitable[Interface]]
) -> None:
    """Find the interface, apply ``change`` and print where its schedule stands."""
    from app.sync.interfaces import find_interface

    async def work(session: AsyncSession) -> str:
        found = await find_interface(session, actor=CLI_ACTOR, name=name, tenant=tenant)
        changed = await change(session, found.id)
        planned = f"{changed.next_run_at:%Y-%m-%d %H:%M} UTC" if changed.next_run_at else "-"
        return (
            f"{changed.name}: {changed.state.value}, every {changed.interval_minutes} min, "
            f"next run {planned}"
        )

    typer.echo(_run_in_session(_settings(), work))


@interface_app.command("activate")
def interface_activate(interface: InterfaceName, tenant: TenantOption = None) -> None:
    """Put an interface with an approved mapping version on its schedule; it runs at once."""
    from app.sync.interface_control import activate_interface

    _change_interface(interface, tenant, lambda s, i: activate_interface(
        s, actor=CLI_ACTOR, interface_id=i))  # fmt: skip


@interface_app.command("pause")
def interface_pause(interface: InterfaceName, tenant: TenantOption = None) -> None:
    """Take an interface off its schedule until it is resumed."""
    from app.sync.interface_control import pause_interface

    _change_interface(interface, tenant, lambda s, i: pause_interface(
        s, actor=CLI_ACTOR, interface_id=i))  # fmt: skip


@interface_app.command("resume")
def interface_resume(interface: InterfaceName, tenant: TenantOption = None) -> None:
    """Put a paused interface back on its schedule; it runs at once."""
    from app.sync.interface_control import resume_interface

    _change_interface(interface, tenant, lambda s, i: resume_interface(
        s, actor=CLI_ACTOR, interface_id=i))  # fmt: skip


@interface_app.command("interval")
def interface_interval(
    interface: InterfaceName,
    minutes: Annotated[int, typer.Argument(help="Minutes between runs, 10 to 45.")],
    tenant: TenantOption = None,
) -> None:
    """Change how often an interface runs (10–45 minutes); it is rescheduled at once."""
    from app.sync.interface_control import set_interval

    _change_interface(interface, tenant, lambda s, i: set_interval(
        s, actor=CLI_ACTOR, interface_id=i, minutes=minutes))  # fmt: skip


@mapping_app.command("approve")
def mapping_approve(
    interface: Annotated[str, typer.Argument(help="The interface's name.")],
    version: Annotated[int, typer.Argument(help="The version number to approve.")],
    tenant: Annotated[
        str | None, typer.Option(help="Tenant slug, if the name is ambiguous.")
    ] = None,
) -> None:
    """Approve a mapping version as the CLI operator; the interface then runs it."""
    from app.sync.versions import approve_version, approver_label, find_version

    async def work(session: AsyncSession) -> str:
        found = await find_version(
            session, actor=CLI_ACTOR, interface=interface, number=version, tenant=tenant
        )
        approved = await approve_version(session, actor=CLI_ACTOR, version_id=found.id)
        who = await approver_label(session, approved)
        moment = f"{approved.approved_at:%Y-%m-%d %H:%M:%S} UTC"
        return f"{interface} version {version} approved by {who} at {moment}"

    typer.echo(_run_in_session(_settings(), work))


@app.command("run")
def run_command(
    interface: Annotated[str, typer.Argument(help="The interface's name.")],
    tenant: Annotated[
        str | None, typer.Option(help="Tenant slug, if the name is ambiguous.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
) -> None:
    """Run one sync now in the foreground; print the counts; exit 1 if the run failed."""
    from datetime import timedelta

    from app.core.secrets_box import SecretBox
    from app.models.enums import RunStatus, RunTrigger
    from app.sync.hubspot_oauth.config import OAuthConfig
    from app.sync.interfaces import find_interface
    from app.sync.running import run_now
    from app.sync.scheduling.executor import RunExecutor, process_holder
    from app.sync.scheduling.leases import Leases

    settings = _settings()

    async def main() -> SyncRun:
        await _require_current_schema(settings)
        engine = create_engine(settings.database_url)
        sessions = create_session_factory(engine)
        try:
            async with session_scope(sessions) as session:
                found = await find_interface(
                    session, actor=CLI_ACTOR, name=interface, tenant=tenant
                )
            box = SecretBox(settings.secret_keys)
            oauth_app = OAuthConfig.from_settings(settings)
            if dry_run:
                return await run_now(sessions, actor=CLI_ACTOR, box=box, interface_id=found.id,
                                     dry_run=True, public_url=settings.public_url,
                                     oauth_app=oauth_app)  # fmt: skip
            ttl = timedelta(seconds=settings.lease_ttl_seconds)
            executor = RunExecutor(sessions, box, Leases(sessions, process_holder("cli"), ttl),
                                   public_url=settings.public_url, oauth_app=oauth_app)  # fmt: skip
            return await executor.run(found.id, trigger=RunTrigger.manual, actor=CLI_ACTOR)
        except HubsyncError as exc:
            raise _fail(exc.message) from None
        finally:
            await engine.dispose()

    run = asyncio.run(main())
    label = "dry run" if dry_run else "run"
    typer.echo(f"{interface}: {label} {run.status.value}")
    for name, counts in run.counts.items():
        figures = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
        typer.echo(f"  {name}: {figures or 'nothing to do'}")
    if run.status == RunStatus.failed:
        raise _fail(run.error_summary or "the run failed")


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete what is past its retention: run items, webhook events, runs, audit entries."""
    from app.models.base import utcnow
    from app.sync.retention import RetentionPolicy, purge_expired

    settings = _settings()
    try:
        policy = RetentionPolicy.from_settings(settings)
    except ValueError as exc:
        raise _fail(str(exc)) from exc

    async def work(session: AsyncSession) -> str:
        result = await purge_expired(
            session, actor=CLI_ACTOR, now=utcnow(), policy=policy, dry_run=dry_run
        )
        verb = "would delete" if dry_run else "deleted"
        return f"{verb} {result.summary()}"

    typer.echo(_run_in_session(settings, work))


@mapping_app.command("create-properties")
def mapping_create_properties(
    file: Annotated[Path, typer.Argument(help="An interface file (YAML); ${VAR} from the env.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be created; create nothing.")
    ] = False,
) -> None:
    """Create the custom HubSpot properties the file's table needs and the portal lacks."""
    import os

    from app.sync.mapping.hubspot_properties import create_from_interface_file
    from app.sync.mapping.problems import MappingError

    text = _read_mapping_file(file)
    try:
        planned = asyncio.run(
            create_from_interface_file(
                text, source_name=file.name, environ=os.environ, dry_run=dry_run
            )
        )
    except MappingError as exc:
        raise _fail(str(exc)) from None
    except HubSpotError as exc:
        raise _fail(f"HubSpot: {exc}") from None
    verb = "would create" if dry_run else "created"
    for prop in planned:
        typer.echo(f"{verb} {prop.describe()}")
    if not planned:
        typer.echo(f"{file.name}: nothing to create")
