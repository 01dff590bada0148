"""hubsync's Prometheus metrics: one registry, typed methods the app calls, text exposition.

Every label value comes from a closed vocabulary (run status and trigger, record outcome,
notification kind, HTTP status class); anything else is counted as ``other``. So no tenant
name, record key or personal datum can reach a label, and the number of series stays fixed.
Each process has its own metrics; Prometheus scrapes every ``hubsync serve`` process.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

from app.connectors.hubspot.transport import NO_RESPONSE
from app.models.enums import NotificationKind, RunStatus, RunTrigger
from app.sync.engine.counts import Outcome

OTHER = "other"
RUN_DURATION_BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
QUEUE_DELAY_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

_STATUSES: frozenset[str] = frozenset(RunStatus)
_TRIGGERS: frozenset[str] = frozenset(RunTrigger)
_KINDS: frozenset[str] = frozenset(NotificationKind)


def _label(value: str, vocabulary: frozenset[str]) -> str:
    return str(value) if value in vocabulary else OTHER


def _status_class(status: int) -> str:
    if status == NO_RESPONSE:
        return "transport_error"
    return f"{status // 100}xx" if 100 <= status <= 599 else OTHER


class Metrics:
    """The metrics of one hubsync process, on a registry of their own (tests make fresh ones)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        reg = self.registry
        self._runs = Counter(
            "hubsync_runs", "Finished sync runs.", ["status", "trigger"], registry=reg
        )
        self._run_duration = Histogram(
            "hubsync_run_duration_seconds", "Wall time of finished sync runs.", ["status"],
            buckets=RUN_DURATION_BUCKETS, registry=reg,
        )  # fmt: skip
        self._records = Counter(
            "hubsync_records", "Records handled by finished runs, by outcome.", ["action"],
            registry=reg,
        )  # fmt: skip
        for outcome in Outcome:  # every outcome shows up from the start, at 0
            self._records.labels(str(outcome))
        self._in_progress = Gauge(
            "hubsync_runs_in_progress", "Sync runs this process is running now.", registry=reg
        )
        self._hubspot_calls = Counter(
            "hubsync_hubspot_calls", "HTTP responses from HubSpot (each attempt), by class.",
            ["status_class"], registry=reg,
        )  # fmt: skip
        self._rate_limited = Counter(
            "hubsync_hubspot_rate_limited", "429 answers from HubSpot.", registry=reg
        )
        self._lease_takeovers = Counter(
            "hubsync_lease_takeovers", "Expired run leases this process took over.", registry=reg
        )
        self._queue_delay = Histogram(
            "hubsync_run_queue_delay_seconds", "From a run's planned time to its start.",
            buckets=QUEUE_DELAY_BUCKETS, registry=reg,
        )  # fmt: skip
        self._notifications = Counter(
            "hubsync_notifications", "Notification delivery attempts.", ["kind", "result"],
            registry=reg,
        )  # fmt: skip

    def run_started(self) -> None:
        """A run began in this process; pair it with one ``run_finished``."""
        self._in_progress.inc()

    def run_finished(
        self,
        status: str,
        trigger: str,
        duration_s: float,
        counts: Mapping[str, Mapping[str, int]],
    ) -> None:
        """A run ended: count it, time it and add its records (``RunCounts.to_json()`` shape).

        ``counts`` is ``{object: {outcome: n}}``; object names are summed away and
        unknown outcomes ignored, so only the six outcomes become ``action`` labels.
        """
        self._in_progress.dec()
        status_label = _label(status, _STATUSES)
        self._runs.labels(status_label, _label(trigger, _TRIGGERS)).inc()
        self._run_duration.labels(status_label).observe(duration_s)
        for outcome in Outcome:
            total = sum(per_object.get(outcome, 0) for per_object in counts.values())
            self._records.labels(str(outcome)).inc(total)

    def run_reaped(self, trigger: str) -> None:
        """A run whose process died was marked ``aborted`` here (its gauge died with it)."""
        self._runs.labels(str(RunStatus.aborted), _label(trigger, _TRIGGERS)).inc()

    def hubspot_call(self, status: int) -> None:
        """HubSpot answered one attempt with ``status`` (0: no response); fits ``on_response``."""
        self._hubspot_calls.labels(_status_class(status)).inc()
        if status == 429:
            self._rate_limited.inc()

    def lease_takeover(self) -> None:
        """This process took over a run lease whose holder stopped renewing it."""
        self._lease_takeovers.inc()

    def queue_delay(self, seconds: float) -> None:
        """A run started ``seconds`` after it was due: how far the scheduler lags."""
        self._queue_delay.observe(max(0.0, seconds))  # planned times come from other clocks

    def notification_sent(self, kind: str, ok: bool) -> None:
        """One delivery attempt of a ``kind`` notification ended, ``sent`` or ``failed``."""
        self._notifications.labels(_label(kind, _KINDS), "sent" if ok else "failed").inc()

    def render(self) -> tuple[bytes, str]:
        """The Prometheus text exposition of every metric, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


METRICS = Metrics()
