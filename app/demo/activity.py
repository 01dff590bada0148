"""Life in the demo's two systems: what the ERP's and the CRM's users change between runs.

Each ``step`` changes a few ERP rows as its users would — new phone numbers, a
company that converts its legal form, new orders, now and then a contact who
left or an order withdrawn (soft deletes) — and renames a company in the
sandbox portal as a CRM user would (through the portal, like the sandbox's own
pages, so hubsync sees a user's edit in HubSpot and brings it back to the ERP).
Every ``failure_every``-th step adds a contact whose e-mail address lacks its
top-level domain: HubSpot refuses it, so the error log shows a real failed
record while the rest of the run goes on. Now and then someone corrects such an
address, and the next run resolves the failure.

Every choice comes from one seeded ``random.Random``, so a test can call ``step``
and know what it did. ``run_activity`` calls it every few minutes.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from app.connectors.hubspot.sandbox.records import WriteInput
from app.connectors.hubspot.sandbox.state import SandboxState
from app.core.logging import get_logger
from app.demo.data import Company, contact, mobile_number, order, renamed
from app.demo.erp import CONTACTS, CUSTOMERS, ORDERS, Erp, key_column
from app.demo.places import PLACES
from app.models.base import utcnow

log = get_logger("hubsync.demo")
CRM_USER = "CRM_UI"  # the change source of an edit made in HubSpot's own pages
PHONE_CHANGES = 2
NEW_ORDERS = 2
DELETE_CHANCE = 0.3
CORRECTION_CHANCE = 0.15  # a mistyped address lives ~7 steps: a run or two sees it fail
_PLACES_BY_ZIP = {place.zip: place for place in PLACES}
Row = dict[str, Any]


@dataclass(slots=True)
class ActivityReport:
    """What one step changed, by key (customer, contact and order numbers; HubSpot ids)."""

    phones: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    invalid_contacts: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)
    hubspot_renamed: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """How many of each change: what the log says (never names or addresses)."""
        return {f.name: len(getattr(self, f.name)) for f in fields(self)}


class ActivityGenerator:
    """Changes the demo ERP and the sandbox portal a little on every ``step``."""

    def __init__(
        self, erp: Erp, portal: SandboxState, *, seed: int, failure_every: int = 3
    ) -> None:
        self.erp = erp
        self.portal = portal
        self.rng = random.Random(seed)  # noqa: S311 - repeatable demo changes, no secrets
        self.failure_every = failure_every
        self.steps = 0

    async def step(self) -> ActivityReport:
        """One round of changes: the ERP users' (in a worker thread), then the CRM user's."""
        self.steps += 1
        report = ActivityReport()
        now = utcnow().replace(tzinfo=None)  # the ERP stores naive UTC
        await asyncio.to_thread(self._erp_step, report, now)
        self._rename_in_hubspot(report)
        return report

    def close(self) -> None:
        """Release the ERP file."""
        self.erp.close()

    def _erp_step(self, report: ActivityReport, now: datetime) -> None:
        companies = self.erp.rows(CUSTOMERS)
        self._change_phones(report, now)
        self._rename_in_erp(companies, report, now)
        for _ in range(NEW_ORDERS):
            self._add_order(self.rng.choice(companies), report, now)
        if self.rng.random() < DELETE_CHANCE:
            self._delete_one(report, now)
        if self.rng.random() < CORRECTION_CHANCE:
            self._correct_one(report, now)
        if self.steps % self.failure_every == 0:
            self._add_mistyped_contact(self.rng.choice(companies), report, now)

    def _change_phones(self, report: ActivityReport, now: datetime) -> None:
        contacts = self.erp.rows(CONTACTS)
        for row in self.rng.sample(contacts, min(PHONE_CHANGES, len(contacts))):
            self.erp.change(CONTACTS, row["contact_no"], {"phone": mobile_number(self.rng)}, now)
            report.phones.append(row["contact_no"])

    def _rename_in_erp(self, companies: list[Row], report: ActivityReport, now: datetime) -> None:
        candidates = [row for row in companies if renamed(row["name"] or "")]
        if candidates:
            row = self.rng.choice(candidates)
            self.erp.change(CUSTOMERS, row["customer_no"], {"name": renamed(row["name"])}, now)
            report.renamed.append(row["customer_no"])

    def _add_order(self, company: Row, report: ActivityReport, now: datetime) -> None:
        order_no = str(int(self.erp.highest_key(ORDERS) or "100000") + 1)
        placed = order(self.rng, company["customer_no"], order_no, now.date(), "bestellt", now)
        self.erp.add(ORDERS, [asdict(placed)])
        report.orders.append(order_no)

    def _delete_one(self, report: ActivityReport, now: datetime) -> None:
        table = self.rng.choice((CONTACTS, ORDERS))  # a contact who left, an order withdrawn
        key = self.rng.choice(self.erp.rows(table))[key_column(table).name]
        self.erp.delete(table, key, now)
        report.deleted.append(key)

    def _add_mistyped_contact(self, company: Row, report: ActivityReport, now: datetime) -> None:
        known = self.erp.rows(CONTACTS, deleted=True, customer_no=company["customer_no"])
        number = max((int(row["contact_no"].rpartition("-")[2]) for row in known), default=0)
        person = contact(
            self.rng, Company(**{k: v for k, v in company.items() if k != "deleted_at"}),
            _PLACES_BY_ZIP[company["zip"]], number + 1, {row["email"] for row in known}, now,
        )  # fmt: skip
        typo = person.email.rpartition(".")[0]  # "…@muster-bau": the ".ch" forgotten
        self.erp.add(CONTACTS, [{**asdict(person), "email": typo}])
        report.invalid_contacts.append(person.contact_no)

    def _correct_one(self, report: ActivityReport, now: datetime) -> None:
        rows = self.erp.rows(CONTACTS)
        mistyped = [row for row in rows if "." not in (row["email"] or "").rpartition("@")[2]]
        if mistyped:
            row = mistyped[0]
            self.erp.change(CONTACTS, row["contact_no"], {"email": f"{row['email']}.ch"}, now)
            report.corrected.append(row["contact_no"])

    def _rename_in_hubspot(self, report: ActivityReport) -> None:
        portal = self.portal.portal
        companies = portal.catalog.find("companies")
        if companies is None:
            return
        records = [
            record
            for record in self.portal.store.page(companies.type_id, 0, 100_000, archived=False)
            if record.props.get("erp_customer_no") not in (None, *report.renamed)
            and renamed(record.props.get("name", ""))
        ]
        if records:
            record = self.rng.choice(records)
            edit = WriteInput({"name": renamed(record.props["name"])}, id=str(record.id))
            portal.write(companies, [edit], "update", source=CRM_USER)
            report.hubspot_renamed.append(str(record.id))


async def run_activity(generator: ActivityGenerator, every_seconds: float) -> None:
    """Call ``generator.step`` every ``every_seconds`` until cancelled; a failed step is logged."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            report = await generator.step()
        except Exception:  # the demo goes on; the next step tries again
            log.warning("demo activity step failed", exc_info=True)
        else:
            log.info("demo activity", **report.counts())
