"""Transforms by example: each named transform, bad specs, dates at midnight UTC, DST edges."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.sync.mapping.transforms import (
    TRANSFORM_NAMES,
    OutputType,
    TransformError,
    TransformValueError,
    compile_transform,
    to_hubspot_string,
)
from app.sync.mapping.transforms.base import Identity

ZURICH = ZoneInfo("Europe/Zurich")


def forward(spec: object, value: object) -> object:
    return compile_transform(spec).forward(value)  # type: ignore[arg-type]


def reverse(spec: object, value: object) -> object:
    return compile_transform(spec).reverse(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ("trim", "  Muster AG \n", "Muster AG"),
        ("lower", "Muster AG", "muster ag"),
        ("upper", "Muster AG", "MUSTER AG"),
        ("title", "hans muster", "Hans Muster"),
        ({"truncate": 5}, "Muster AG", "Muste"),
        ({"replace": {"old": "GmbH", "new": "AG"}}, "Muster GmbH", "Muster AG"),
        ({"replace": {"old": ".*"}}, "a.*b", "ab"),  # literal, not a regex
        ({"constant": "customer"}, "anything", "customer"),
        ({"split": ","}, "a, b,,c", ["a", "b", "c"]),
        ({"join": ";"}, ["a", "b"], "a;b"),
        ("trim", ["  a", "b "], ["a", "b"]),  # lists element by element
        ("number", "1'234.50", "1234.5"),
        ("number", "1’234", "1234"),
        ({"number": {"decimal": ","}}, "1.234,50", "1234.5"),
        ({"number": {"decimal": ",", "thousands": " "}}, "-1 234,05", "-1234.05"),
        ("number", Decimal("12.300"), "12.3"),
        ("number", 0.1, "0.1"),
        ("number", 7, "7"),
        ("integer", "1'234", "1234"),
        ("integer", "12.00", "12"),
        ("boolean", "Ja", "true"),
        ("boolean", "nein", "false"),
        ("boolean", "x", "true"),
        ("boolean", 0, "false"),
        ("boolean", True, "true"),
        ({"boolean": {"true_words": ["aktiv"], "false_words": ["inaktiv"]}}, "Aktiv", "true"),
        ("domain", "https://www.muster.ch/kontakt", "muster.ch"),
        ("domain", "WWW.Muster.CH", "muster.ch"),
        ("domain", "http://shop.muster.de:8080/x?y=1", "shop.muster.de"),
        ("domain", "info@muster.at", "muster.at"),
        ("domain", "mailto:info@muster.at", "muster.at"),
        ("domain", "keine Website", ""),
        ("domain", "www.ch", "www.ch"),
        ("phone", "044 668 18 00", "+41446681800"),
        ("phone", "+49 30 1234567", "+49301234567"),
        ({"phone": "DE"}, "030 1234567", "+49301234567"),
    ],
)
def test_forward_by_example(spec: object, value: object, expected: object) -> None:
    assert forward(spec, value) == expected


@pytest.mark.parametrize(
    ("spec", "value", "expected"),
    [
        ({"number": {"text": True, "places": 2}}, "1234.5", "1234.50"),
        (
            {"number": {"decimal": ",", "thousands": ".", "group": True, "text": True}},
            "1234567.5",
            "1.234.567,5",
        ),
        ("number", "1234.5", Decimal("1234.5")),
        ("integer", "1234", 1234),
        ("boolean", "true", True),
        ({"boolean": {"true_value": "ja", "false_value": "nein"}}, "false", "nein"),
        ({"phone": {"format": "national"}}, "+41446681800", "044 668 18 00"),
        ({"phone": {"format": "national"}}, "+49301234567", "+49 30 1234567"),  # foreign
        ({"phone": {"format": "e164"}}, "+41 44 668 18 00", "+41446681800"),
        ({"map": {"CH": "Switzerland", "DE": "Germany"}}, "Germany", "DE"),
        ({"split": ","}, ["a", "b"], "a,b"),
        ({"join": ";"}, "a;b", ["a", "b"]),
        ("trim", "as HubSpot has it", "as HubSpot has it"),
    ],
)
def test_reverse_by_example(spec: object, value: object, expected: object) -> None:
    assert reverse(spec, value) == expected


def test_a_date_is_epoch_milliseconds_at_midnight_utc() -> None:
    assert forward("date", dt.date(2025, 3, 7)) == "1741305600000"
    assert forward("date", "2025-03-07") == "1741305600000"
    assert forward({"date": "%d.%m.%Y"}, "07.03.2025") == "1741305600000"
    # An aware datetime gives its date in the configured zone (22:30 UTC is 00:30 in Zurich).
    assert forward("date", dt.datetime(2025, 7, 1, 23, 30, tzinfo=ZURICH)) == "1751328000000"
    assert forward("date", dt.datetime(2025, 7, 1, 22, 30, tzinfo=dt.UTC)) == "1751414400000"
    assert forward(
        {"date": {"timezone": "UTC"}}, dt.datetime(2025, 7, 1, 22, 30, tzinfo=dt.UTC)
    ) == ("1751328000000")
    assert reverse({"date": "%d.%m.%Y"}, "1741305600000") == "07.03.2025"
    assert reverse("date", "2025-03-07") == dt.date(2025, 3, 7)


def test_a_naive_datetime_is_local_time_in_the_configured_zone() -> None:
    winter = forward("datetime", "2025-01-15T12:00:00")
    summer = forward("datetime", dt.datetime(2025, 7, 15, 12, 0))
    assert winter == str(int(dt.datetime(2025, 1, 15, 11, tzinfo=dt.UTC).timestamp() * 1000))
    assert summer == str(int(dt.datetime(2025, 7, 15, 10, tzinfo=dt.UTC).timestamp() * 1000))
    new_york = forward({"datetime": {"timezone": "America/New_York"}}, "2025-01-15T12:00:00")
    assert new_york == str(int(dt.datetime(2025, 1, 15, 17, tzinfo=dt.UTC).timestamp() * 1000))
    assert forward("datetime", "2025-01-15T12:00:00+00:00") == "1736942400000"
    spec = {"datetime": {"format": "%d.%m.%Y %H:%M"}}
    assert reverse(spec, forward(spec, "30.03.2025 03:30")) == "30.03.2025 03:30"


def test_a_local_time_skipped_by_dst_is_refused() -> None:
    with pytest.raises(TransformValueError, match="does not exist in Europe/Zurich"):
        forward("datetime", dt.datetime(2025, 3, 30, 2, 30))


def test_a_repeated_local_time_is_its_first_occurrence() -> None:
    first = dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)  # 02:30 CEST
    assert forward("datetime", dt.datetime(2025, 10, 26, 2, 30)) == str(
        int(first.timestamp() * 1000)
    )
    second = str(int(first.timestamp() * 1000) + 3_600_000)  # 02:30 CET
    assert reverse("datetime", second) == dt.datetime(2025, 10, 26, 2, 30)


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ("number", "12abc"),
        ("number", "1.2.3"),
        ("number", "1,5"),  # German notation, but the configured decimal is "."
        ("number", "12'34.5"),
        ({"number": {"decimal": ","}}, "1.5"),
        ("number", True),
        ("number", float("nan")),
        ("integer", "12.5"),
        ("boolean", "vielleicht"),
        ("date", "07.03.2025"),  # ISO expected without a format
        ({"date": "%d.%m.%Y"}, "2025-03-07"),
        ("date", 20250307),
        ("phone", "12"),
        ({"map": {"CH": "Switzerland"}}, "DE"),
    ],
)
def test_values_a_transform_cannot_convert_fail_the_record(spec: object, value: object) -> None:
    with pytest.raises(TransformValueError):
        forward(spec, value)


def test_hubspot_values_with_no_source_value_fail_the_record() -> None:
    with pytest.raises(TransformValueError):
        reverse({"map": {"CH": "Switzerland"}, "default": "Other"}, "Other")
    with pytest.raises(TransformValueError):
        reverse("number", "abc")
    with pytest.raises(TransformValueError):
        reverse("datetime", "yesterday")


@pytest.mark.parametrize(
    "spec", ["trim", "number", "integer", "boolean", "date", "datetime", "phone", "domain",
             {"map": {"a": "A"}}, {"split": ","}, {"join": ";"}, {"truncate": 3}],
)  # fmt: skip
@pytest.mark.parametrize("empty", [None, ""])
def test_empty_values_stay_empty(spec: object, empty: object) -> None:
    transform = compile_transform(spec)  # type: ignore[arg-type]
    assert transform.forward(empty) is empty
    if transform.reversible:
        assert transform.reverse(empty) is empty


@pytest.mark.parametrize("spec", ["number", "integer", "boolean", "date", "datetime", "phone"])
def test_parsers_read_blank_text_as_empty(spec: str) -> None:
    assert forward(spec, "   ") == ""


def test_default_replaces_only_empty_values() -> None:
    assert forward([{"default": "nein"}, "boolean"], None) == "false"
    assert forward({"default": "Other"}, "") == "Other"
    assert forward({"default": "Other"}, "CH") == "CH"
    assert forward({"map": {"CH": "Switzerland"}, "default": "Other"}, None) is None


def test_map_options() -> None:
    spec = {"map": {"CH": "Switzerland"}, "ignore_case": True}
    assert forward(spec, "ch") == "Switzerland"
    assert forward({"map": {"CH": "Switzerland"}, "keep_unmapped": True}, "DE") == "DE"
    assert forward({"map": {1: "one", 2: "two"}}, "1") == "one"
    assert forward({"map": {True: "yes", False: "no"}}, True) == "yes"
    assert forward({"map": {True: "yes", False: "no"}}, "false") == "no"
    assert reverse({"map": {1: "one"}}, "one") == 1


def test_reversibility() -> None:
    def reversible(spec: object) -> bool:
        return compile_transform(spec).reversible  # type: ignore[arg-type]

    assert reversible({"map": {"CH": "Switzerland", "DE": "Germany"}})
    assert not reversible({"map": {"CH": "DACH", "DE": "DACH"}})
    assert not reversible({"map": {"CH": "Switzerland"}, "default": "Switzerland"})
    assert not reversible("domain")
    assert not reversible({"constant": "x"})
    assert not reversible({"replace": {"old": "a"}})
    assert reversible(["trim", "number"])
    assert not reversible(["trim", "domain"])
    with pytest.raises(TransformError, match="domain"):
        reverse(["trim", "domain"], "muster.ch")
    with pytest.raises(TransformError, match="constant"):
        reverse({"constant": "x"}, "x")


def test_a_chain_reverses_in_reverse_order() -> None:
    spec = [{"split": ","}, {"map": {"a": "Alpha", "b": "Beta"}}, {"join": ";"}]
    assert forward(spec, "a, b") == "Alpha;Beta"
    assert reverse(spec, "Alpha;Beta") == "a,b"
    numbers = [{"replace": {"old": "CHF "}}, "number"]
    assert forward(numbers, "CHF 1'000.00") == "1000"


def test_output_types_and_values_for_the_validator() -> None:
    def described(spec: object) -> tuple[OutputType | None, frozenset[str] | None]:
        transform = compile_transform(spec)  # type: ignore[arg-type]
        return transform.output_type, transform.output_values

    assert described("trim") == (None, None)
    assert described(None) == (None, None)
    assert described("number") == (OutputType.number, None)
    assert described(["trim", "date"]) == (OutputType.date, None)
    assert described("boolean") == (OutputType.boolean, frozenset({"true", "false"}))
    assert described({"map": {"CH": "Switzerland"}, "default": "Other"}) == (
        OutputType.enumeration,
        frozenset({"Switzerland", "Other"}),
    )
    assert described([{"split": ","}, {"map": {"a": "A", "b": "B"}}, "lower", {"join": ";"}]) == (
        OutputType.enumeration,
        frozenset({"a", "b"}),
    )
    assert described([{"map": {"a": "A"}}, {"default": "Z"}])[1] == frozenset({"A", "Z"})
    assert described({"map": {"a": "A"}, "keep_unmapped": True}) == (OutputType.enumeration, None)
    assert described({"constant": "customer"}) == (OutputType.enumeration, frozenset({"customer"}))


def test_no_transform_is_the_identity() -> None:
    assert isinstance(compile_transform(None), Identity)
    assert isinstance(compile_transform([]), Identity)
    assert compile_transform(None).reverse(" x ") == " x "


@pytest.mark.parametrize(
    ("spec", "transform", "argument"),
    [
        ("eval", "eval", None),
        ("__import__", "__import__", None),
        ({"map": {"a": "A"}, "defualt": "x"}, "map", "defualt"),
        ({"date": {"fmt": "%d"}}, "date", "fmt"),
        ({"date": "%Q"}, "date", "format"),
        ({"datetime": {"timezone": "Mars/Olympus"}}, "datetime", "timezone"),
        ({"datetime": {"timezone": "../../etc/passwd"}}, "datetime", "timezone"),
        ({"truncate": "ten"}, "truncate", "length"),
        ({"truncate": 0}, "truncate", "length"),
        ({"truncate": True}, "truncate", "length"),
        ({"replace": {"new": "x"}}, "replace", "old"),
        ({"replace": "x"}, "replace", None),
        ({"map": {}}, "map", "values"),
        ({"map": {"a": ["A"]}}, "map", "values"),
        ({"map": {"a": "A", "A": "B"}, "ignore_case": True}, "map", "values"),
        ({"map": "CH"}, "map", "values"),
        ({"number": {"decimal": ";"}}, "number", "decimal"),
        ({"number": {"decimal": ",", "thousands": ","}}, "number", "thousands"),
        ({"number": {"group": True}}, "number", "group"),
        ({"boolean": {"true_words": ["ja"], "false_words": ["JA"]}}, "boolean", "false_words"),
        ({"boolean": {"true_words": []}}, "boolean", "true_words"),
        ({"phone": "XX"}, "phone", "region"),
        ({"phone": {"format": "fancy"}}, "phone", "format"),
        ({"trim": {"both": True}}, "trim", "both"),
        ({"split": ""}, "split", "separator"),
        ({"constant": None}, "constant", "value"),
        ({"date": "%d", "format": "%m"}, "date", "format"),
    ],
)
def test_bad_specs_name_the_transform_and_argument(
    spec: object, transform: str, argument: str | None
) -> None:
    with pytest.raises(TransformError) as caught:
        compile_transform(spec)  # type: ignore[arg-type]
    assert caught.value.transform == transform
    assert caught.value.argument == argument


@pytest.mark.parametrize("spec", [[["trim"]], [42], {}, {1: "x"}])
def test_malformed_specs_are_refused(spec: object) -> None:
    with pytest.raises(TransformError):
        compile_transform(spec)  # type: ignore[arg-type]


def test_every_name_compiles_with_its_simplest_arguments() -> None:
    simplest: dict[str, object] = {
        "truncate": {"truncate": 1},
        "replace": {"replace": {"old": "a"}},
        "default": {"default": "x"},
        "constant": {"constant": "x"},
        "map": {"map": {"a": "b"}},
    }
    for name in TRANSFORM_NAMES:
        assert compile_transform(simplest.get(name, name)).name == name  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "output_type", "expected"),
    [
        (None, None, ""),
        ("text", None, "text"),
        (True, None, "true"),
        (False, OutputType.boolean, "false"),
        (42, None, "42"),
        (Decimal("1234.500"), None, "1234.5"),
        (Decimal("1E+3"), None, "1000"),
        (0.1, None, "0.1"),
        (dt.date(2025, 3, 7), None, "1741305600000"),
        (dt.date(2025, 3, 7), OutputType.datetime, "1741302000000"),  # Zurich midnight
        (dt.datetime(2025, 3, 7, 12, tzinfo=dt.UTC), None, "1741348800000"),
        (dt.datetime(2025, 3, 7, 23, 30, tzinfo=dt.UTC), OutputType.date, "1741392000000"),
        (["a", "", "b"], None, "a;b"),
    ],
)
def test_to_hubspot_string(value: object, output_type: OutputType | None, expected: str) -> None:
    assert to_hubspot_string(value, output_type) == expected


def test_to_hubspot_string_refuses_what_hubspot_cannot_store() -> None:
    with pytest.raises(TransformValueError):
        to_hubspot_string(Decimal("NaN"))
