"""Deletion plans: each event and policy gives the step on the other side, as data."""

from __future__ import annotations

from typing import Any

import pytest

from app.sync.engine.deletion import DeletionEvent, DeletionPlan, DeletionStep, plan_deletion
from app.sync.engine.hashing import Side
from app.sync.mapping.model import DeletionRules, Direction, ObjectMapping, PrivacyAction
from tests.sync.engine.builders import field, mapping


def with_policies(
    direction: Direction = Direction.both,
    privacy: PrivacyAction = PrivacyAction.ignore,
    **policies: Any,
) -> ObjectMapping:
    """A mapping of persons (key ``person_id``) with the given deletion and privacy policies."""
    return mapping(
        field("email", source="mail"),
        field("firstname", source="first"),
        field("erp_id", source="person_id"),
        field("lifecycle", source=None, default="customer"),
        field("copy", source="mail"),
        direction=direction,
        key="person_id",
        on_delete=DeletionRules(**policies),
        on_privacy_deletion=privacy,
    )


SOURCE, HUBSPOT, PRIVACY = (
    DeletionEvent.source_deleted,
    DeletionEvent.hubspot_archived,
    DeletionEvent.privacy_deletion,
)


@pytest.mark.parametrize(
    ("policies", "event", "plan"),
    [
        ({}, SOURCE, DeletionPlan(Side.hubspot, DeletionStep.ignore)),
        ({}, HUBSPOT, DeletionPlan(Side.source, DeletionStep.ignore)),
        ({"source_deleted": "archive"}, SOURCE, DeletionPlan(Side.hubspot, DeletionStep.archive)),
        ({"source_deleted": "delete"}, SOURCE, DeletionPlan(Side.hubspot, DeletionStep.delete)),
        ({"hubspot_deleted": "archive"}, HUBSPOT, DeletionPlan(Side.source, DeletionStep.archive)),
        ({"hubspot_deleted": "delete"}, HUBSPOT, DeletionPlan(Side.source, DeletionStep.delete)),
        (
            {"source_deleted": "flag", "flag_field": "erp_active", "flag_value": False},
            SOURCE,
            DeletionPlan(Side.hubspot, DeletionStep.flag, {"erp_active": "false"}),
        ),
        (
            {"hubspot_deleted": "flag", "flag_field": "active", "flag_value": False},
            HUBSPOT,
            DeletionPlan(Side.source, DeletionStep.flag, {"active": False}),
        ),
    ],
)
def test_deletion_follows_the_policy(
    policies: dict[str, Any], event: DeletionEvent, plan: DeletionPlan
) -> None:
    assert plan_deletion(with_policies(**policies), event) == plan


class TestDirection:
    def test_a_to_hubspot_mapping_never_deletes_in_the_source(self) -> None:
        table = with_policies(Direction.to_hubspot, hubspot_deleted="delete")
        plan = plan_deletion(table, HUBSPOT)
        assert plan.step is DeletionStep.ignore
        assert plan.reason == "companies flows to_hubspot only"

    def test_a_from_hubspot_mapping_never_archives_in_hubspot(self) -> None:
        table = with_policies(Direction.from_hubspot, source_deleted="archive")
        assert plan_deletion(table, SOURCE).step is DeletionStep.ignore

    def test_privacy_deletion_applies_whatever_the_direction(self) -> None:
        table = with_policies(Direction.to_hubspot, PrivacyAction.delete)
        assert plan_deletion(table, PRIVACY) == DeletionPlan(Side.source, DeletionStep.delete)


class TestPrivacy:
    def test_anonymize_blanks_every_mapped_source_field_but_the_key(self) -> None:
        plan = plan_deletion(with_policies(privacy=PrivacyAction.anonymize), PRIVACY)
        assert plan.side is Side.source
        assert plan.step is DeletionStep.anonymize
        assert plan.values == {"mail": None, "first": None}
        assert plan.fields == ("mail", "first")

    def test_ignore(self) -> None:
        assert plan_deletion(with_policies(), PRIVACY).step is DeletionStep.ignore
