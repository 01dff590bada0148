"""Mapping versions: numbering, immutability, approval, the runnable version, export, import."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.core.errors import Forbidden, NotFound
from app.models import AuditEntry, MappingVersion, User
from app.sync.mapping.loader import load_mapping
from app.sync.versions import (
    InvalidMapping,
    NoApprovedVersion,
    approve_version,
    create_version,
    export_version,
    find_version,
    get_version,
    import_xlsx_version,
    list_versions,
    runnable_version,
    version_table,
)
from tests.factories import MAPPING_YAML, World

OPERATOR = Actor.system("cli")
CHANGED = MAPPING_YAML + "      - {source: city, hubspot: city}\n"


def actor_of(user: User) -> Actor:
    return Actor(role=user.role, tenant_id=user.tenant_id, user_id=user.id, label=f"user:{user.id}")


async def new_version(db: AsyncSession, world: World, text: str) -> MappingVersion:
    outcome = await create_version(
        db, actor=OPERATOR, interface_id=world.a.interface.id, yaml_text=text
    )
    assert outcome.created
    return outcome.version


async def test_versions_are_numbered_per_interface(db: AsyncSession, world: World) -> None:
    second = await new_version(db, world, CHANGED)
    third = await new_version(db, world, MAPPING_YAML.replace("name}", "name, default: x}"))
    assert (second.number, third.number) == (2, 3)
    other = await create_version(
        db, actor=OPERATOR, interface_id=world.b.interface.id, yaml_text=CHANGED
    )
    assert other.version.number == 2
    listed = await list_versions(db, actor=OPERATOR, interface_id=world.a.interface.id)
    assert [v.number for v in listed] == [3, 2, 1]
    assert second.yaml_text == CHANGED
    assert version_table(second) == load_mapping(CHANGED)
    assert second.approved_at is None


async def test_identical_content_adds_no_version(db: AsyncSession, world: World) -> None:
    commented = "# only a comment differs\n" + MAPPING_YAML.replace("name}", "name }")
    outcome = await create_version(
        db, actor=OPERATOR, interface_id=world.a.interface.id, yaml_text=commented
    )
    assert not outcome.created
    assert outcome.version.id == world.a.version.id
    assert outcome.version.yaml_text == MAPPING_YAML


async def test_an_interface_file_stores_only_its_mapping(db: AsyncSession, world: World) -> None:
    body = "".join(
        f"  {line}\n"
        for line in CHANGED.replace("    fields:", "    # kept\n    fields:").splitlines()
    )
    text = (
        "tenant: tenant-a\nname: x\nsource:\n  connector: sql\n"
        "  config: {url: 'postgresql://u:secret-pw@h/db'}\n"
        "hubspot: {connection: hubspot}\nmapping:\n" + body
    )
    version = await new_version(db, world, text)
    assert "secret-pw" not in version.yaml_text
    assert "tenant" not in version.yaml_text
    assert version.yaml_text.startswith("objects:\n")
    assert "    # kept\n" in version.yaml_text
    assert load_mapping(version.yaml_text) == load_mapping(CHANGED)


async def test_invalid_yaml_is_refused_with_lines(db: AsyncSession, world: World) -> None:
    with pytest.raises(InvalidMapping) as caught:
        await new_version(db, world, MAPPING_YAML.replace("match:", "matsch:"))
    assert caught.value.problems[0].line == 4


async def test_no_update_path_exists(db: AsyncSession, world: World) -> None:
    import app.sync.versions as module

    public = {name for name in dir(module) if not name.startswith("_")}
    assert not {n for n in public if n.startswith(("update", "edit", "set_", "delete"))}


async def test_only_operators_write_versions(db: AsyncSession, world: World) -> None:
    with pytest.raises(Forbidden):
        await create_version(
            db, actor=actor_of(world.a.admin), interface_id=world.a.interface.id, yaml_text=CHANGED
        )
    with pytest.raises(NotFound):
        await create_version(
            db, actor=actor_of(world.b.admin), interface_id=world.a.interface.id, yaml_text=CHANGED
        )


async def test_admin_approves_and_the_approval_is_audited(db: AsyncSession, world: World) -> None:
    draft = await new_version(db, world, CHANGED)
    approved = await approve_version(db, actor=actor_of(world.a.admin), version_id=draft.id)
    assert approved.approved_by_id == world.a.admin.id
    assert approved.approved_at is not None
    assert world.a.interface.active_mapping_version_id == draft.id
    entry = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "mapping.approve"))
    ).scalar_one()
    assert entry.actor_id == world.a.admin.id
    assert entry.target_id == str(draft.id)
    assert entry.details["number"] == 2


async def test_viewers_cannot_approve_and_other_tenants_see_nothing(
    db: AsyncSession, world: World
) -> None:
    draft = await new_version(db, world, CHANGED)
    with pytest.raises(Forbidden):
        await approve_version(db, actor=actor_of(world.a.viewer), version_id=draft.id)
    for user in (world.b.admin, world.b.viewer):
        with pytest.raises(NotFound):
            await approve_version(db, actor=actor_of(user), version_id=draft.id)
        with pytest.raises(NotFound):
            await get_version(db, actor=actor_of(user), version_id=draft.id)
    assert draft.approved_at is None


async def test_runnable_version_refuses_unapproved(db: AsyncSession, world: World) -> None:
    interface = world.a.interface
    assert (await runnable_version(db, interface)).id == world.a.version.id
    draft = await new_version(db, world, CHANGED)
    assert (await runnable_version(db, interface)).id == world.a.version.id
    interface.active_mapping_version_id = draft.id  # as if someone bypassed approval
    with pytest.raises(NoApprovedVersion, match="no approved mapping version"):
        await runnable_version(db, interface)
    interface.active_mapping_version_id = None
    with pytest.raises(NoApprovedVersion):
        await runnable_version(db, interface)
    await approve_version(db, actor=OPERATOR, version_id=draft.id)
    assert (await runnable_version(db, interface)).id == draft.id


async def test_approving_an_older_version_rolls_back(db: AsyncSession, world: World) -> None:
    draft = await new_version(db, world, CHANGED)
    await approve_version(db, actor=OPERATOR, version_id=draft.id)
    await approve_version(db, actor=OPERATOR, version_id=world.a.version.id)
    assert (await runnable_version(db, world.a.interface)).number == 1


async def test_find_version_by_interface_name(db: AsyncSession, world: World) -> None:
    found = await find_version(db, actor=OPERATOR, interface="tenant-a-companies", number=1)
    assert found.id == world.a.version.id
    with pytest.raises(NotFound):
        await find_version(db, actor=OPERATOR, interface="tenant-a-companies", number=9)
    with pytest.raises(NotFound):
        await find_version(
            db, actor=actor_of(world.b.admin), interface="tenant-a-companies", number=1
        )


@pytest.mark.parametrize(
    ("format", "media_type", "magic"),
    [
        ("xlsx", "spreadsheetml", b"PK"),
        ("csv", "text/csv", b"\xef\xbb\xbf"),
        ("md", "markdown", b"#"),
    ],
)
async def test_export_formats(
    db: AsyncSession, world: World, format: str, media_type: str, magic: bytes
) -> None:
    document = await export_version(
        db,
        actor=actor_of(world.a.viewer),
        version_id=world.a.version.id,
        format=format,  # type: ignore[arg-type]
    )
    assert document.filename == f"mapping-tenant-a-companies-v1.{format}"
    assert media_type in document.media_type
    assert document.content.startswith(magic)
    audit = (
        await db.execute(select(AuditEntry).where(AuditEntry.action == "mapping.export"))
    ).scalar_one()
    assert audit.details["format"] == format


async def test_export_names_the_approver(db: AsyncSession, world: World) -> None:
    document = await export_version(db, actor=OPERATOR, version_id=world.a.version.id, format="md")
    assert "admin@tenant-a.example.com" in document.content.decode()


async def test_xlsx_import_makes_a_draft_with_the_same_table(
    db: AsyncSession, world: World
) -> None:
    draft = await new_version(db, world, CHANGED)
    exported = await export_version(db, actor=OPERATOR, version_id=draft.id, format="xlsx")
    await approve_version(db, actor=OPERATOR, version_id=world.a.version.id)
    back = await import_xlsx_version(
        db, actor=OPERATOR, interface_id=world.a.interface.id, data=exported.content
    )
    assert not back.created  # the same table as the newest version
    workbook = openpyxl.load_workbook(io.BytesIO(exported.content))
    workbook["Felder"].delete_rows(workbook["Felder"].max_row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    imported = await import_xlsx_version(
        db, actor=OPERATOR, interface_id=world.a.interface.id, data=buffer.getvalue()
    )
    assert imported.created
    assert imported.version.number == 3
    assert imported.version.approved_at is None
    assert version_table(imported.version) == load_mapping(MAPPING_YAML)
    assert load_mapping(imported.version.yaml_text) == load_mapping(MAPPING_YAML)
    with pytest.raises(Forbidden):
        await import_xlsx_version(
            db, actor=actor_of(world.a.admin), interface_id=world.a.interface.id,
            data=exported.content,
        )  # fmt: skip
