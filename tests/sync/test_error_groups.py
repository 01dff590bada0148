"""Grouping failed tasks by cause: normalised messages, HubSpot categories, hints, payloads."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.models.enums import ErrorCategory
from app.sync.error_groups import (
    HINT_RULES,
    CauseCount,
    PayloadRow,
    cause_digest,
    field_pairs,
    group_of,
    hint_for,
    hubspot_category,
    interface_of,
    key_of,
    normalise,
    payload_json,
    payload_rows,
)

INTERFACE = uuid.UUID("00000000-0000-4000-8000-000000000001")
T0 = datetime(2025, 3, 7, 13, 5, tzinfo=UTC)


def legacy(*issues: tuple[str, str, str]) -> str:
    """HubSpot's 400 for invalid values, with the legacy issue list in the message."""
    listed = [
        {"isValid": False, "message": message, "error": code, "name": name}
        for name, code, message in issues
    ]
    return "VALIDATION_ERROR: Property values were not valid: " + json.dumps(listed)


class TestNormalise:
    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ("Property values were not valid: for 12345", "Property values were not valid: for 9"),
            ("Email address a@b.ch is invalid", "Email address not-an-email is invalid"),
            ("contact anna@example.com exists", "contact bob.smith+x@firma.example.ch exists"),
            (
                "Company already exists. Existing ID: 1234567",
                "Company already exists. Existing ID: 42",
            ),
            ("Object 111 does not exist", "Object 222 does not exist"),
            (
                "record 6f1c2d3e-1111-2222-3333-444455556666 failed",
                "record 0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff failed",
            ),
            (
                "HTTP 429: RATE_LIMITS: limit (correlationId 6f1c2d3e-1111-2222-3333-444455556666)",
                "HTTP 429: RATE_LIMITS: limit (correlationId 0a1b2c3d-aaaa-bbbb-cccc-ddddeeeeffff)",
            ),
            (
                "VALIDATION_ERROR: Gold was not one of the allowed options: [a, b]",
                "VALIDATION_ERROR: Silver Plus was not one of the allowed options: [a, b]",
            ),
            ("Amount 1'234.50 too large", "Amount 99 too large"),
            ("  spaced\n  out ", "spaced out"),
            (
                legacy(("industry", "INVALID_OPTION", "Gold was not one of the allowed options")),
                legacy(("industry", "INVALID_OPTION", "Tin was not one of the allowed options")),
            ),
        ],
    )
    def test_record_specific_values_are_masked(self, first: str, second: str) -> None:
        assert normalise(first) == normalise(second)

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            ('Property "name" does not exist', 'Property "city" does not exist'),
            (legacy(("industry", "INVALID_OPTION", "x")), legacy(("email", "INVALID_EMAIL", "x"))),
            ("timeout reading customers", "refused reading customers"),
        ],
    )
    def test_different_causes_stay_apart(self, first: str, second: str) -> None:
        assert normalise(first) != normalise(second)

    def test_the_legacy_list_becomes_property_names_and_codes(self) -> None:
        message = legacy(
            ("industry", "INVALID_OPTION", "Gold was not one of the allowed options"),
            ("email", "INVALID_EMAIL", "Email address x is invalid"),
        )
        assert normalise(message) == (
            "VALIDATION_ERROR: Property values were not valid: "
            "email (INVALID_EMAIL), industry (INVALID_OPTION)"
        )

    def test_a_broken_legacy_list_is_masked_like_any_text(self) -> None:
        assert normalise("Property values were not valid: [{oops 12") == (
            "Property values were not valid: [{oops <n>"
        )

    def test_masks_and_words_survive(self) -> None:
        assert (
            normalise("K-1 failed for ana@x.ch at 12:30") == "K-<n> failed for <email> at <n>:<n>"
        )
        assert normalise("address_line2 is empty") == "address_line2 is empty"
        assert normalise(None) == ""

    def test_long_messages_are_capped(self) -> None:
        assert len(normalise("x" * 5000)) == 1000


class TestHubSpotCategory:
    @pytest.mark.parametrize(
        ("message", "category"),
        [
            ("VALIDATION_ERROR: Property values were not valid", "VALIDATION_ERROR"),
            ("HTTP 403: MISSING_SCOPES: This app hasn't been granted", "MISSING_SCOPES"),
            ("CONFLICT: Contact already exists. Existing ID: 1", "CONFLICT"),
            ("HTTP 429: RATE_LIMITS: You have reached your secondly limit.", "RATE_LIMITS"),
            ("erp.example.com is unreachable: connection refused", None),
            ("Note: something", None),
            (None, None),
        ],
    )
    def test_read_from_the_start_of_the_message(
        self, message: str | None, category: str | None
    ) -> None:
        assert hubspot_category(message) == category


class TestHints:
    @pytest.mark.parametrize(
        ("message", "status", "code"),
        [
            (
                "HTTP 403: MISSING_SCOPES: This app hasn't been granted all required scopes",
                403,
                "missing_scope",
            ),
            (
                legacy(("industry", "INVALID_OPTION", "Gold was not one of the allowed options")),
                400,
                "invalid_option",
            ),
            ("VALIDATION_ERROR: Email address x@ is invalid", 400, "invalid_email"),
            ("CONFLICT: Company already exists. Existing ID: 12", 409, "duplicate_value"),
            ("some conflict", 409, "duplicate_value"),
            ('VALIDATION_ERROR: Property "tier" does not exist', 400, "property_missing"),
            (
                '"hs_object_id" is a read only property; its value cannot be set.',
                400,
                "read_only",
            ),
            ("2025-13-01 was not a valid date.", 400, "invalid_date"),
            ("abc was not a valid number.", 400, "invalid_number"),
            (
                "HTTP 429: RATE_LIMITS: You have reached your ten_secondly_rolling limit.",
                429,
                "rate_limit",
            ),
            ("anything", 429, "rate_limit"),
            (
                "HTTP 401: INVALID_AUTHENTICATION: Authentication credentials not found",
                401,
                "revoked_token",
            ),
            ("the OAuth refresh was refused: token revoked", None, "revoked_token"),
            ("erp.example.com:5432 refused the credentials: password", None, "revoked_token"),
            (
                "erp.example.com:5432 is unreachable: connection refused",
                None,
                "source_unreachable",
            ),
            ("the folder did not answer within 30s", None, "source_unreachable"),
            ("OBJECT_NOT_FOUND: Object 123 does not exist", 404, "not_found"),
            ("gone", 404, "not_found"),
            (
                "HTTP 500: INTERNAL_ERROR: Service unavailable (injected fault)",
                500,
                "hubspot_down",
            ),
        ],
    )
    def test_known_causes_get_a_hint(self, message: str, status: int | None, code: str) -> None:
        hint = hint_for(message, status)
        assert hint is not None
        assert hint.code == code

    def test_unknown_causes_get_none(self) -> None:
        assert hint_for("Injected record failure (sandbox fault)", 400) is None
        assert hint_for(None, None) is None

    def test_every_hint_has_both_texts_and_a_unique_code(self) -> None:
        codes = [r.hint.code for r in HINT_RULES]
        assert len(codes) == len(set(codes))
        for rule in HINT_RULES:
            assert rule.hint.cause.endswith(".")
            assert rule.hint.action.endswith(".")


def counted(n: int = 3, **extra: object) -> CauseCount:
    values: dict[str, object] = {
        "interface_id": INTERFACE,
        "object_name": "companies",
        "category": ErrorCategory.data,
        "http_status": 400,
        "digest": cause_digest("Email address a@ is invalid"),
        "count": n,
        "first_at": T0,
        "last_at": T0 + timedelta(minutes=1),
    }
    values.update(extra)
    return CauseCount(**values)  # type: ignore[arg-type]


class TestCauseDigest:
    def test_equal_causes_share_a_short_digest(self) -> None:
        first = cause_digest("Property values were not valid: for 12345")
        assert first == cause_digest("Property values were not valid: for 67890")
        assert len(first) == 32
        assert all(c in "0123456789abcdef" for c in first)

    def test_different_causes_and_no_message_differ(self) -> None:
        digests = {cause_digest(m) for m in ("timeout reading customers", "refused", None)}
        assert len(digests) == 3


class TestGroupOf:
    def test_worded_by_the_newest_message_with_its_hint(self) -> None:
        group = group_of(counted(), "Email address b@c is invalid", ["K-2", "K-1", None, "K-2"])
        assert group.count == 3
        assert group.message == "Email address b@c is invalid"
        assert group.key.cause == normalise("Email address b@c is invalid")
        assert group.keys == ["K-1", "K-2"]
        assert group.hint is not None
        assert group.hint.code == "invalid_email"

    def test_sample_keys_are_capped(self) -> None:
        group = group_of(counted(), "boom", [f"K-{n}" for n in range(10)])
        assert len(group.keys) == 5

    def test_its_id_is_the_id_of_a_failure_with_that_message(self) -> None:
        group = group_of(counted(), "Email address b@c is invalid", [])
        message = "Email address other@x is invalid"
        assert group.id == key_of(INTERFACE, "companies", ErrorCategory.data, 400, message).id


class TestGroupKey:
    @pytest.mark.parametrize(
        "other",
        [
            {"object_name": "contacts"},
            {"category": ErrorCategory.transient},
            {"http_status": 409},
            {"interface_id": uuid.UUID("00000000-0000-4000-8000-000000000002")},
            {"message": "boom!"},
        ],
    )
    def test_groups_split_by_where_and_how(self, other: dict[str, object]) -> None:
        values: dict[str, object] = {
            "interface_id": INTERFACE,
            "object_name": "companies",
            "category": ErrorCategory.data,
            "http_status": 400,
            "message": "boom",
        }
        first = key_of(**values)  # type: ignore[arg-type]
        assert key_of(**{**values, **other}).id != first.id  # type: ignore[arg-type]

    def test_the_group_id_is_stable_url_safe_and_names_its_interface(self) -> None:
        key = key_of(INTERFACE, "companies", ErrorCategory.data, 400, "for 1")
        again = key_of(INTERFACE, "companies", ErrorCategory.data, 400, "for 2")
        assert key.id == again.id
        assert len(key.id) == 64
        assert all(c in "0123456789abcdef" for c in key.id)
        assert interface_of(key.id) == INTERFACE
        no_status = key_of(INTERFACE, "companies", None, None, "for 1")
        assert no_status.id != key.id

    @pytest.mark.parametrize("group_id", ["", "abc", "z" * 64, "0" * 63])
    def test_other_ids_name_no_interface(self, group_id: str) -> None:
        assert interface_of(group_id) is None


class TestPayload:
    MAPPING = {  # noqa: RUF012 - read only
        "objects": [
            {
                "name": "companies",
                "fields": [
                    {"source": "customer_no", "hubspot": "erp_customer_no"},
                    {"source": "name", "hubspot": "name"},
                    {"hubspot": "lifecyclestage", "default": "customer"},
                ],
            }
        ]
    }

    def test_field_pairs_of_one_object(self) -> None:
        assert field_pairs(self.MAPPING, "companies") == {
            "erp_customer_no": "customer_no",
            "name": "name",
        }
        assert field_pairs(self.MAPPING, "contacts") == {}
        assert field_pairs(None, "companies") == {}

    def test_sent_values_beside_their_source_values(self) -> None:
        payload = {
            "record": {"customer_no": "K-1", "name": "ACME", "city": "Bern"},
            "properties": {"erp_customer_no": "K-1", "name": "ACME AG", "lifecyclestage": "x"},
        }
        rows = payload_rows(payload, field_pairs(self.MAPPING, "companies"))
        assert rows == [
            PayloadRow("customer_no", "K-1", "erp_customer_no", "K-1"),
            PayloadRow("name", "ACME", "name", "ACME AG"),
            PayloadRow(None, None, "lifecyclestage", "x"),
            PayloadRow("city", "Bern", None, None),
        ]

    def test_other_shapes_and_values(self) -> None:
        assert payload_rows({"values": {"name": None}}, {}) == [PayloadRow(None, None, "name", "–")]
        assert payload_rows({"source": {"n": [1, 2]}}, {}) == [
            PayloadRow("n", "[1, 2]", None, None)
        ]
        assert payload_rows({"name": "ACME"}, {}) == [PayloadRow(None, None, "name", "ACME")]
        assert payload_rows(None, {}) == []
        long = payload_rows({"properties": {"notes": "x" * 600}}, {})[0].sent_value
        assert long is not None
        assert len(long) == 501

    def test_raw_json_is_pretty_and_sorted(self) -> None:
        assert payload_json({"b": 1, "a": "ä"}) == '{\n  "a": "ä",\n  "b": 1\n}'
