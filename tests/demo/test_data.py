"""The demo ERP's generated data: realistic, consistent and the same for the same seed."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal

import phonenumbers
import pytest

from app.demo.data import LEGAL_FORMS, ErpData, generate, renamed
from app.demo.places import PLACES

TODAY = date(2026, 1, 15)


@pytest.fixture(scope="module")
def data() -> ErpData:
    """The demo's full-size data for a fixed day."""
    return generate(8001, 200, TODAY)


def swiss_phone(number: str) -> bool:
    parsed = phonenumbers.parse(number, None)
    return phonenumbers.is_valid_number(parsed) and parsed.country_code == 41


class TestGenerate:
    def test_sizes_are_those_of_a_small_wholesaler(self, data: ErpData) -> None:
        assert len(data.companies) == 200
        per_company = Counter(c.customer_no for c in data.contacts)
        assert set(per_company) == {c.customer_no for c in data.companies}
        assert min(per_company.values()) >= 2
        assert max(per_company.values()) <= 4
        assert 2.5 <= len(data.orders) / len(data.companies) <= 3.5

    def test_addresses_are_real_places(self, data: ErpData) -> None:
        places = {(p.zip, p.city, p.canton) for p in PLACES}
        assert all((c.zip, c.city, c.canton) in places for c in data.companies)
        assert len({c.canton for c in data.companies}) >= 20
        assert all(c.street.split()[-1].isdigit() for c in data.companies)

    def test_names_carry_the_legal_form_of_their_language(self, data: ErpData) -> None:
        languages = {p.zip: p.language for p in PLACES}
        for company in data.companies:
            assert company.name.rpartition(" ")[2] in LEGAL_FORMS[languages[company.zip]]
        assert len({c.name for c in data.companies}) == 200
        assert {"AG", "GmbH", "SA", "Sàrl"} <= {c.name.rpartition(" ")[2] for c in data.companies}

    def test_phones_are_valid_swiss_numbers_with_the_places_area_code(self, data: ErpData) -> None:
        areas = {p.zip: p.area_code for p in PLACES}
        assert all(swiss_phone(c.phone) for c in data.companies)
        assert all(c.phone.startswith(f"+41 {areas[c.zip]} ") for c in data.companies)
        assert all(swiss_phone(p.phone) for p in data.contacts)

    def test_emails_are_unique_and_at_the_companys_domain(self, data: ErpData) -> None:
        domains = {c.customer_no: c.domain for c in data.companies}
        emails = [p.email for p in data.contacts]
        assert len(set(emails)) == len(emails)
        assert all(p.email.endswith(f"@{domains[p.customer_no]}") for p in data.contacts)
        assert all(p.email.isascii() and p.email.count("@") == 1 for p in data.contacts)
        assert len(set(domains.values())) == 200
        assert all(c.website == f"https://www.{c.domain}" for c in data.companies)

    def test_contacts_speak_the_places_language(self, data: ErpData) -> None:
        languages = {p.zip: p.language for p in PLACES}
        home = {c.customer_no: languages[c.zip] for c in data.companies}
        assert all(p.language in (home[p.customer_no], "en") for p in data.contacts)
        assert {"de", "fr", "it", "en"} == {p.language for p in data.contacts}

    def test_orders_are_of_the_last_year_in_chf_to_five_centimes(self, data: ErpData) -> None:
        for order in data.orders:
            assert TODAY - timedelta(days=365) <= order.order_date < TODAY
            assert order.amount_chf.as_tuple().exponent == -2
            assert order.amount_chf > 0
            assert order.amount_chf % Decimal("0.05") == 0
        numbers = [int(o.order_no) for o in data.orders]
        assert numbers == sorted(set(numbers))
        assert [o.order_date for o in data.orders] == sorted(o.order_date for o in data.orders)

    def test_no_change_lies_in_the_future(self, data: ErpData) -> None:
        midnight = datetime.combine(TODAY, datetime.min.time())
        stamps = [r.updated_at for rows in (data.companies, data.contacts, data.orders)
                  for r in rows]  # fmt: skip
        assert max(stamps) < midnight

    def test_the_same_seed_gives_the_same_data(self, data: ErpData) -> None:
        assert generate(8001, 200, TODAY) == data
        assert generate(8002, 200, TODAY).companies != data.companies


class TestRenamed:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("Meier Holzbau GmbH", "Meier Holzbau AG"),
            ("Menuiserie Favre Sàrl", "Menuiserie Favre SA"),
            ("Fiduciaria Rossi Sagl", "Fiduciaria Rossi SA"),
            ("Meier Holzbau AG", "Meier Holzbau Holding AG"),
            ("Meier Holzbau Holding AG", None),
            ("", None),
        ],
    )
    def test_converts_the_legal_form_then_becomes_a_holding(
        self, name: str, expected: str | None
    ) -> None:
        assert renamed(name) == expected
