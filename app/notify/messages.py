"""The words of a notification: subject and plain-text body, in German (the UI's language).

A message tells which interface of which customer changed from what to what
and why, with the last run's counts per object, its detailed error and a link
to the run. It never quotes a record: no payloads, no personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.models import Interface, SyncRun
from app.models.enums import Health, HealthChange

SUBJECT_MAX_CHARS = 300  # NotificationDelivery.subject
ERROR_MAX_CHARS = 1000
HEALTH_LABELS: Mapping[Health, str] = {
    Health.ok: "OK",
    Health.warning: "Warnung",
    Health.error: "Fehler",
    Health.paused: "Pausiert",
    Health.never_run: "Noch nie gelaufen",
}
CHANGE_HEADLINES: Mapping[HealthChange, str] = {
    HealthChange.failed: "fehlgeschlagen",
    HealthChange.warning: "Warnung",
    HealthChange.recovered: "läuft wieder fehlerfrei",
}
COUNT_LABELS: Mapping[str, str] = {  # the outcomes of app.sync.engine.counts
    "created": "erstellt",
    "updated": "aktualisiert",
    "unchanged": "unverändert",
    "deleted": "gelöscht",
    "skipped": "übersprungen",
    "failed": "fehlgeschlagen",
}


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered subject and plain-text body."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class Notice:
    """One message ready for a transport: the words plus the structured fields webhooks get."""

    subject: str
    body: str
    change: str  # a HealthChange value, or "test"
    interface_id: uuid.UUID | None = None
    interface: str | None = None
    health: Health | None = None
    reason: str | None = None
    run_url: str | None = None


def run_url(public_url: str, run_id: uuid.UUID) -> str:
    """The link to one run in the web UI."""
    return f"{public_url.rstrip('/')}/ui/runs/{run_id}"


def change_message(
    *,
    interface: Interface,
    tenant_name: str,
    run: SyncRun,
    change: HealthChange,
    health_from: Health,
    public_url: str,
) -> Message:
    """The message about ``interface`` whose health (already updated) changed after ``run``."""
    subject = f"[hubsync] {interface.name} ({tenant_name}): {CHANGE_HEADLINES[change]}"
    lines = [
        f"Schnittstelle: {interface.name}",
        f"Kunde: {tenant_name}",
        f"Zustand: {HEALTH_LABELS[health_from]} → {HEALTH_LABELS[interface.health]}",
        f"Grund: {interface.health_reason or '–'}",
        "",
        "Letzter Lauf:",
        *count_lines(run.counts),
    ]
    if run.error_summary:
        lines += ["", "Fehlermeldung:", run.error_summary[:ERROR_MAX_CHARS]]
    lines += ["", f"Details: {run_url(public_url, run.id)}"]
    return Message(subject=one_line(subject)[:SUBJECT_MAX_CHARS], body="\n".join(lines))


def trial_notice(*, tenant_name: str, interface: Interface | None, public_url: str) -> Notice:
    """A test message for a target, so its owner sees that the address works."""
    scope = f"die Schnittstelle {interface.name}" if interface else "alle Schnittstellen"
    body = (
        f"Diese Testnachricht bestätigt, dass hubsync Sie über Änderungen am Zustand "
        f"für {scope} von {tenant_name} benachrichtigen kann.\n\n"
        f"hubsync: {public_url}/ui/"
    )
    return Notice(
        subject=one_line(f"[hubsync] Testnachricht ({tenant_name})")[:SUBJECT_MAX_CHARS],
        body=body,
        change="test",
        interface_id=interface.id if interface else None,
        interface=interface.name if interface else None,
    )


def count_lines(counts: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One line per object with its non-zero counts, e.g. ``  companies: 3 erstellt``."""
    if not counts:
        return ["  keine Datensätze verarbeitet"]
    return [f"  {name}: {_figures(per_object)}" for name, per_object in counts.items()]


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (line breaks too) made one space: header-safe."""
    return " ".join(text.split())


def _figures(per_object: Mapping[str, Any]) -> str:
    figures = [
        f"{n} {COUNT_LABELS.get(outcome, outcome)}"
        for outcome, n in per_object.items()
        if isinstance(n, int) and n
    ]
    return ", ".join(figures) or "nichts zu tun"
