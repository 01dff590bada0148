"""Property-based tests: every reverse undoes its forward on valid input; no surprise failures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import phonenumbers
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.sync.mapping.transforms import Transform, TransformValueError, compile_transform

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)
ZURICH = ZoneInfo("Europe/Zurich")


def compiled(spec: object) -> Transform:
    return compile_transform(spec)  # type: ignore[arg-type]


def round_trips(spec: object, value: object) -> bool:
    transform = compiled(spec)
    return transform.reversible and transform.reverse(transform.forward(value)) == value


# Dates and datetimes, with the days of the DST changes in Zurich weighted in.
DST_DAYS = [
    day
    for year in range(2000, 2040)
    for day in (dt.date(year, 3, 31), dt.date(year, 10, 31))
    for day in [day - dt.timedelta(days=(day.weekday() + 1) % 7)]  # last Sunday of the month
]
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31))
whole_seconds = st.times().map(lambda t: t.replace(microsecond=0))
local_datetimes = st.one_of(
    st.datetimes(min_value=dt.datetime(1950, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
    ),
    st.builds(dt.datetime.combine, st.sampled_from(DST_DAYS), whole_seconds),
)


@PROPERTY
@given(dates)
def test_date_round_trip(day: dt.date) -> None:
    assert round_trips("date", day)
    assert round_trips({"date": "%d.%m.%Y"}, day.strftime("%d.%m.%Y"))
    assert int(str(compiled("date").forward(day))) % 86_400_000 == 0  # midnight UTC


@PROPERTY
@given(local_datetimes)
def test_naive_datetime_round_trip_across_dst(moment: dt.datetime) -> None:
    transform = compiled("datetime")
    try:
        sent = transform.forward(moment)
    except TransformValueError:  # skipped by the spring change: refused, never shifted
        gap = moment.replace(tzinfo=ZURICH).astimezone(dt.UTC).astimezone(ZURICH)
        assert gap.replace(tzinfo=None) != moment
        return
    assert transform.reverse(sent) == moment
    text = moment.strftime("%d.%m.%Y %H:%M:%S")
    assert round_trips({"datetime": "%d.%m.%Y %H:%M:%S"}, text)


@PROPERTY
@given(local_datetimes, st.sampled_from([dt.UTC, ZURICH, ZoneInfo("America/New_York")]))
def test_aware_datetimes_come_back_as_zurich_local_time(
    moment: dt.datetime, zone: ZoneInfo
) -> None:
    aware = moment.replace(tzinfo=zone)
    back = compiled("datetime").reverse(compiled("datetime").forward(aware))
    assert back == aware.astimezone(dt.UTC).astimezone(ZURICH).replace(tzinfo=None)


# Numbers in the source's notation.
amounts = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False
)
notations = st.sampled_from([(".", "'"), (".", ","), (",", "."), (",", " "), (".", "’")])


@PROPERTY
@given(amounts, notations)
def test_number_round_trip_in_the_source_notation(
    amount: Decimal, notation: tuple[str, str]
) -> None:
    decimal, thousands = notation
    spec = {"number": {"decimal": decimal, "thousands": thousands, "group": True,
                       "places": 2, "text": True}}  # fmt: skip
    text = format(amount, ",.2f").replace(",", "_").replace(".", decimal).replace("_", thousands)
    assert round_trips(spec, text)
    assert Decimal(str(compiled(spec).forward(text))) == amount


@PROPERTY
@given(amounts, st.integers(min_value=-(10**15), max_value=10**15))
def test_number_and_integer_round_trip_as_values(amount: Decimal, whole: int) -> None:
    assert round_trips("number", amount)
    assert round_trips("integer", whole)


@PROPERTY
@given(st.booleans(), st.sampled_from([("ja", "nein"), ("yes", "no"), ("x", "0"), ("1", "0")]))
def test_boolean_round_trip(truth: bool, words: tuple[str, str]) -> None:
    assert round_trips("boolean", truth)
    spec = {"boolean": {"true_value": words[0], "false_value": words[1]}}
    assert round_trips(spec, words[0] if truth else words[1])


# Value maps, split and join.
words = st.text(alphabet=st.characters(blacklist_characters=",;"), min_size=1, max_size=12).map(
    str.strip
).filter(bool)  # fmt: skip
one_to_one_maps = st.lists(st.tuples(words, words), min_size=1, max_size=8,
                           unique_by=(lambda kv: kv[0], lambda kv: kv[1])).map(dict)  # fmt: skip


@PROPERTY
@given(one_to_one_maps, st.data())
def test_one_to_one_map_round_trip(table: dict[str, str], data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(sorted(table)))
    assert round_trips({"map": table}, key)


@PROPERTY
@given(st.lists(words, min_size=1, max_size=6), st.sampled_from([",", ";", " | "]))
def test_split_and_join_round_trip(items: list[str], separator: str) -> None:
    assume(all(separator.strip() not in item for item in items))
    assert round_trips({"join": separator}, items)
    assert round_trips({"split": separator}, separator.join(items))


@PROPERTY
@given(one_to_one_maps, st.data())
def test_a_multi_select_chain_round_trip(table: dict[str, str], data: st.DataObject) -> None:
    keys = data.draw(st.lists(st.sampled_from(sorted(table)), min_size=1, unique=True))
    spec = [{"split": ","}, {"map": table}, {"join": ";"}]
    assert round_trips(spec, ",".join(keys))
    assert compiled(spec).forward(",".join(keys)) == ";".join(table[k] for k in keys)


# Phone numbers: the library's own valid examples, varied in their last digits.
PHONE_FORMATS = {
    "international": phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    "national": phonenumbers.PhoneNumberFormat.NATIONAL,
    "e164": phonenumbers.PhoneNumberFormat.E164,
}
EXAMPLES = [
    number
    for region in ("CH", "DE", "AT")
    for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    if (number := phonenumbers.example_number_for_type(region, kind)) is not None
]


@st.composite
def phone_numbers(draw: st.DrawFn) -> phonenumbers.PhoneNumber:
    example = draw(st.sampled_from(EXAMPLES))
    tail = draw(st.integers(min_value=0, max_value=999))
    national = (example.national_number or 0) // 1000 * 1000 + tail
    number = phonenumbers.PhoneNumber(country_code=example.country_code, national_number=national)
    assume(phonenumbers.is_valid_number(number))
    return number


@PROPERTY
@given(phone_numbers(), st.sampled_from(["international", "national", "e164"]))
def test_phone_round_trip_in_the_configured_format(
    number: phonenumbers.PhoneNumber, fmt: str
) -> None:
    if fmt == "national" and phonenumbers.region_code_for_number(number) != "CH":
        fmt = "international"  # national only for numbers of the default region
    text = phonenumbers.format_number(number, PHONE_FORMATS[fmt])
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    transform = compiled({"phone": {"format": fmt}})
    assert transform.forward(text) == e164
    assert round_trips({"phone": {"format": fmt}}, text)


# Normalisers and the never-failing transforms.
NORMALISERS = ["trim", "lower", "upper", "title", {"truncate": 5}, ["trim", "lower"]]


@PROPERTY
@given(st.text(), st.sampled_from(NORMALISERS))
def test_normalisers_are_stable_and_take_hubspot_values_as_they_are(
    text: str, spec: object
) -> None:
    transform = compiled(spec)
    normal = transform.forward(text)
    assert transform.forward(transform.reverse(normal)) == normal
    assert transform.reverse(normal) == normal
    if normal == text:
        assert round_trips(spec, text)


@PROPERTY
@given(st.text(), st.sampled_from(["trim", "lower", "upper", "title", "domain"]))
def test_text_transforms_never_fail_on_any_text(text: str, name: str) -> None:
    assert isinstance(compiled(name).forward(text), str)


@PROPERTY
@given(st.from_regex(r"\A(https?://)?(www\.)?[a-z0-9-]{1,20}(\.[a-z]{2,6}){1,2}(/[^ ]*)?\Z"))
def test_domain_of_a_url_has_no_scheme_path_or_www(url: str) -> None:
    domain = str(compiled("domain").forward(url))
    assert domain
    assert "/" not in domain
    assert not domain.startswith("www.")
    assert domain in url
