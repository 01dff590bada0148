"""The demo ERP's contents: Swiss SME customers, their contacts and orders, from a seed.

Everything comes from one ``random.Random``, so a seed and a day give the same
data on every machine. Each company lies in one of the real places of
``places``: names, streets, legal forms and job titles follow its language,
phone numbers its area code. Phone numbers are Swiss numbers in international
form (``+41 44 123 45 67``), amounts are CHF rounded to five centimes, and no
change stamp lies in the future.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.demo.places import PLACES, Place

FIRST_NAMES = {
    "de": ("Anna", "Daniel", "Thomas", "Sandra", "Peter", "Nicole", "Martin", "Andrea", "Stefan",
           "Claudia", "Reto", "Barbara", "Lukas", "Monika", "Beat", "Corinne", "Urs", "Simone",
           "Jonas", "Laura", "Michael", "Petra", "Adrian", "Regula"),
    "fr": ("Jean", "Marie", "Nicolas", "Sophie", "Pierre", "Isabelle", "Luc", "Nathalie",
           "Olivier", "Céline", "Julien", "Camille", "François", "Chantal", "Alain", "Valérie"),
    "it": ("Marco", "Giulia", "Luca", "Francesca", "Alessandro", "Chiara", "Davide", "Elena",
           "Matteo", "Sara", "Paolo", "Silvia"),
}  # fmt: skip
LAST_NAMES = {
    "de": ("Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Schneider", "Steiner",
           "Fischer", "Gerber", "Brunner", "Baumann", "Frei", "Zimmermann", "Moser", "Widmer",
           "Wyss", "Graf", "Roth", "Suter", "Bachmann", "Kälin", "Bühler", "Zürcher"),
    "fr": ("Favre", "Rochat", "Bonvin", "Perrin", "Dubois", "Morel", "Pittet", "Rey", "Mercier",
           "Jaquet", "Girard", "Berset", "Chevalley", "Roulet", "Monnier", "Cuche"),
    "it": ("Rossi", "Bernasconi", "Crivelli", "Ferrari", "Galli", "Lombardi", "Bianchi",
           "Colombo", "Fontana", "Pedrazzini", "Cattaneo", "Gianini"),
}  # fmt: skip
STREETS = {
    "de": ("Bahnhofstrasse", "Hauptstrasse", "Dorfstrasse", "Industriestrasse", "Seestrasse",
           "Gewerbestrasse", "Kirchgasse", "Poststrasse", "Schulstrasse", "Werkstrasse"),
    "fr": ("Rue du Lac", "Avenue de la Gare", "Rue de la Poste", "Chemin des Vignes",
           "Rue du Marché", "Route Cantonale", "Rue Centrale", "Rue de l'Industrie"),
    "it": ("Via Cantonale", "Via San Gottardo", "Via della Posta", "Via Industria",
           "Via alla Stazione", "Via Ceresio", "Piazza Grande"),
}  # fmt: skip
LEGAL_FORMS = {"de": ("AG", "GmbH"), "fr": ("SA", "Sàrl"), "it": ("SA", "Sagl")}
# A company that grew converts to the larger legal form (what ``renamed`` does first).
CONVERSIONS = {"GmbH": "AG", "Sàrl": "SA", "Sagl": "SA"}
JOB_TITLES = {
    "de": ("Geschäftsführung", "Einkauf", "Verkaufsleitung", "Buchhaltung", "IT-Leitung",
           "Projektleitung", "Assistenz der Geschäftsleitung"),
    "fr": ("Direction", "Responsable achats", "Comptabilité", "Chef de projet",
           "Responsable informatique"),
    "it": ("Direzione", "Responsabile acquisti", "Contabilità", "Capo progetto"),
    "en": ("Managing Director", "Head of Procurement", "Finance Manager"),
}  # fmt: skip
# The ERP keeps a German industry label; company names use the trade in the local language.
INDUSTRIES: dict[str, dict[str, tuple[str, ...]]] = {
    "Bau": {"de": ("Bau", "Holzbau", "Haustechnik"), "fr": ("Construction", "Menuiserie"),
            "it": ("Costruzioni", "Falegnameria")},
    "Informatik": {"de": ("Informatik", "Software"), "fr": ("Informatique",),
                   "it": ("Informatica",)},
    "Maschinenbau": {"de": ("Maschinenbau", "Präzisionstechnik"), "fr": ("Mécanique",),
                     "it": ("Meccanica",)},
    "Lebensmittel": {"de": ("Feinkost", "Bäckerei"), "fr": ("Alimentation", "Boulangerie"),
                     "it": ("Alimentari", "Panetteria")},
    "Treuhand": {"de": ("Treuhand",), "fr": ("Fiduciaire",), "it": ("Fiduciaria",)},
    "Gesundheit": {"de": ("Medizintechnik", "Praxisbedarf"), "fr": ("Médical",),
                   "it": ("Medicale",)},
    "Gastronomie": {"de": ("Gastro",), "fr": ("Restauration",), "it": ("Ristorazione",)},
    "Transport": {"de": ("Transporte", "Logistik"), "fr": ("Transports",), "it": ("Trasporti",)},
    "Energie": {"de": ("Elektro", "Solartechnik"), "fr": ("Électricité",), "it": ("Elettricità",)},
}  # fmt: skip
ORDER_TITLES = ("Büromaterial", "Reinigungsmittel", "Ersatzteile", "Werkzeug", "Arbeitskleidung",
                "Verpackungsmaterial", "Rahmenvertrag", "Nachbestellung", "Lagerausstattung",
                "Kaffeemaschinen-Service")  # fmt: skip
ORDER_STATUSES = ("offerte", "bestellt", "geliefert", "fakturiert", "storniert")
MOBILE_PREFIXES = ("76", "77", "78", "79")
FIRST_CUSTOMER_NO = 10001
FIRST_ORDER_NO = 100001
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "&": "-", "'": "", " ": "-"})


@dataclass(frozen=True, slots=True)
class Company:
    """A customer company as the ERP keeps it."""

    customer_no: str
    name: str
    street: str
    zip: str
    city: str
    canton: str
    phone: str
    website: str
    industry: str
    updated_at: datetime
    country_code: str = "CH"

    @property
    def domain(self) -> str:
        """The company's internet domain (its website without the scheme and ``www.``)."""
        return self.website.removeprefix("https://www.")


@dataclass(frozen=True, slots=True)
class Contact:
    """A person at a customer company."""

    contact_no: str
    customer_no: str
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    language: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Order:
    """A customer order (a deal in HubSpot)."""

    order_no: str
    customer_no: str
    order_date: date
    title: str
    amount_chf: Decimal
    status: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ErpData:
    """Everything the demo ERP starts with."""

    companies: list[Company]
    contacts: list[Contact]
    orders: list[Order]


def slug(text: str) -> str:
    """ASCII for domains and e-mail addresses: ``Zürcher & Söhne`` → ``zuercher-soehne``."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_TRANSLITERATION))
    ascii_text = folded.encode("ascii", "ignore").decode()
    return re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "", ascii_text)).strip("-")


def phone_number(rng: random.Random, prefix: str) -> str:
    """A Swiss number in international form with a landline area code or mobile prefix."""
    return f"+41 {prefix} {rng.randint(200, 999)} {rng.randint(0, 99):02d} {rng.randint(0, 99):02d}"


def mobile_number(rng: random.Random) -> str:
    """A Swiss mobile number in international form."""
    return phone_number(rng, rng.choice(MOBILE_PREFIXES))


def renamed(name: str) -> str | None:
    """The company's next name: a converted legal form, else a holding; None when both done."""
    stem, _, form = name.rpartition(" ")
    if not stem:
        return None
    if form in CONVERSIONS:
        return f"{stem} {CONVERSIONS[form]}"
    if " Holding " not in f" {stem} ":
        return f"{stem} Holding {form}"
    return None


def moment(day: date, rng: random.Random) -> datetime:
    """A time during office hours on ``day`` (naive UTC, as the ERP stores it)."""
    return datetime.combine(day, time(rng.randint(6, 16), rng.randint(0, 59), rng.randint(0, 59)))


def generate(seed: int, companies: int, today: date) -> ErpData:
    """The ERP's data for ``seed``: ``companies`` customers with 2–4 contacts and ~3 orders each."""
    builder = _Builder(random.Random(seed), today)  # noqa: S311 - repeatable, no secrets
    for number in range(FIRST_CUSTOMER_NO, FIRST_CUSTOMER_NO + companies):
        builder.add_company(str(number))
    builder.number_orders()
    return ErpData(builder.companies, builder.contacts, builder.orders)


class _Builder:
    """Draws companies, contacts and orders, keeping names and domains unique."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today = rng, today
        self.companies: list[Company] = []
        self.contacts: list[Contact] = []
        self.orders: list[Order] = []
        self.names: set[str] = set()
        self.domains: set[str] = set()

    def add_company(self, customer_no: str) -> None:
        """One customer in a random place, with its contacts and orders."""
        rng = self.rng
        place = rng.choice(PLACES)
        industry = rng.choice(list(INDUSTRIES))
        name = self._unique_name(place, industry)
        company = Company(
            customer_no=customer_no, name=name,
            street=f"{rng.choice(STREETS[place.language])} {rng.randint(1, 120)}",
            zip=place.zip, city=place.city, canton=place.canton,
            phone=phone_number(rng, place.area_code), website=f"https://www.{self._domain(name)}",
            industry=industry, updated_at=self._recently(),
        )  # fmt: skip
        self.companies.append(company)
        emails: set[str] = set()
        for n in range(1, rng.randint(2, 4) + 1):
            self.contacts.append(contact(rng, company, place, n, emails, self._recently()))
        for _ in range(rng.randint(1, 5)):
            self._add_order(customer_no)

    def number_orders(self) -> None:
        """Order numbers follow the order dates, as an ERP hands them out."""
        dated = sorted(self.orders, key=lambda o: (o.order_date, o.customer_no))
        self.orders = [replace(o, order_no=str(FIRST_ORDER_NO + i)) for i, o in enumerate(dated)]

    def _add_order(self, customer_no: str) -> None:
        """An order of the last year (numbered later); its status follows its age."""
        rng = self.rng
        age = rng.randint(1, 364)  # placed yesterday at the latest
        day = self.today - timedelta(days=age)
        changed = moment(day + timedelta(days=min(age - 1, rng.randint(0, 20))), rng)
        self.orders.append(order(rng, customer_no, "", day, _status(rng, age), changed))

    def _unique_name(self, place: Place, industry: str) -> str:
        while True:
            name = company_name(self.rng, place, industry)
            if name not in self.names:
                self.names.add(name)
                return name

    def _domain(self, name: str) -> str:
        stem = slug(name.rpartition(" ")[0])
        domain, n = f"{stem}.ch", 1
        while domain in self.domains:
            n += 1
            domain = f"{stem}-{n}.ch"
        self.domains.add(domain)
        return domain

    def _recently(self) -> datetime:
        return moment(self.today - timedelta(days=self.rng.randint(1, 364)), self.rng)


def company_name(rng: random.Random, place: Place, industry: str) -> str:
    """A name in the place's language: ``Meier Holzbau AG``, ``Menuiserie Favre Sàrl`` …"""
    language = place.language
    trade = rng.choice(INDUSTRIES[industry][language])
    family = rng.choice(LAST_NAMES[language])
    form = rng.choice(LEGAL_FORMS[language])
    pattern = rng.randint(0, 3)
    if pattern == 0:
        return f"{trade} {place.town} {form}"
    if pattern == 1:
        partner = rng.choice([n for n in LAST_NAMES[language] if n != family])
        return f"{family} & {partner} {form}"
    return f"{family} {trade} {form}" if language == "de" else f"{trade} {family} {form}"


def contact(
    rng: random.Random, company: Company, place: Place, n: int, taken: set[str], at: datetime
) -> Contact:
    """Contact ``n`` of ``company``, with an e-mail address at its domain not in ``taken``."""
    language = "en" if rng.random() < 0.05 else place.language
    names = "de" if language == "en" else language
    first, last = rng.choice(FIRST_NAMES[names]), rng.choice(LAST_NAMES[names])
    local = f"{slug(first)}.{slug(last)}"
    email, suffix = f"{local}@{company.domain}", 1
    while email in taken:
        suffix += 1
        email = f"{local}{suffix}@{company.domain}"
    taken.add(email)
    phone = mobile_number(rng) if rng.random() < 0.5 else phone_number(rng, place.area_code)
    return Contact(
        contact_no=f"{company.customer_no}-{n:02d}", customer_no=company.customer_no,
        first_name=first, last_name=last, email=email, phone=phone,
        job_title=rng.choice(JOB_TITLES[language]), language=language, updated_at=at,
    )  # fmt: skip


def order(
    rng: random.Random, customer_no: str, order_no: str, day: date, status: str, at: datetime
) -> Order:
    """An order placed on ``day`` over an amount in CHF, rounded to five centimes."""
    amount = min(max(rng.lognormvariate(8.2, 0.9), 120.0), 150_000.0)
    amount_chf = (Decimal(round(amount * 20)) / 20).quantize(Decimal("0.01"))
    return Order(order_no, customer_no, day, rng.choice(ORDER_TITLES), amount_chf, status, at)


def _status(rng: random.Random, age: int) -> str:
    if age < 14:
        return rng.choice(("offerte", "bestellt", "bestellt"))
    if age < 60:
        return rng.choice(("bestellt", "geliefert", "fakturiert", "fakturiert"))
    return rng.choices(ORDER_STATUSES[2:], weights=(12, 80, 8))[0]
