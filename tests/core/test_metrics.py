"""Metrics: what each method moves, the label sets, and no personal data in labels."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.samples import Sample

from app.core.metrics import Metrics
from app.models.enums import NotificationKind, RunStatus, RunTrigger
from app.sync.engine.counts import Outcome, RunCounts

PERSONAL = ("Müller GmbH", "jane.doe@example.com", "ERP-4711")


@pytest.fixture
def metrics() -> Metrics:
    """Metrics on a fresh registry, so no test sees another's numbers."""
    return Metrics(CollectorRegistry())


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """One sample's value; 0 for a series that does not exist yet."""
    return metrics.registry.get_sample_value(name, labels) or 0.0


def samples(metrics: Metrics) -> list[Sample]:
    """Every sample in the registry."""
    return [s for family in metrics.registry.collect() for s in family.samples]


def realistic_counts() -> dict[str, dict[str, int]]:
    """What ``SyncRun.counts`` holds after a run over companies and contacts."""
    counts = RunCounts()
    counts.add("companies", Outcome.created, 3)
    counts.add("companies", Outcome.unchanged, 40)
    counts.add("contacts", Outcome.created, 2)
    counts.add("contacts", Outcome.updated, 5)
    counts.add("contacts", Outcome.failed, 1)
    return counts.to_json()


def finish(metrics: Metrics, status: str = RunStatus.succeeded, trigger: str = "schedule") -> None:
    """Start and finish one run of 12.5 s with ``realistic_counts``."""
    metrics.run_started()
    metrics.run_finished(status, trigger, 12.5, realistic_counts())


class TestRunStarted:
    def test_counts_a_run_in_progress(self, metrics: Metrics) -> None:
        metrics.run_started()
        metrics.run_started()
        assert sample(metrics, "hubsync_runs_in_progress") == 2


class TestRunFinished:
    def test_counts_the_run_by_status_and_trigger(self, metrics: Metrics) -> None:
        finish(metrics, RunStatus.warning, RunTrigger.manual)
        finish(metrics, RunStatus.warning, RunTrigger.manual)
        assert sample(metrics, "hubsync_runs_total", status="warning", trigger="manual") == 2
        assert sample(metrics, "hubsync_runs_in_progress") == 0

    def test_times_the_run_by_status(self, metrics: Metrics) -> None:
        finish(metrics, "failed")
        name = "hubsync_run_duration_seconds"
        assert sample(metrics, f"{name}_count", status="failed") == 1
        assert sample(metrics, f"{name}_sum", status="failed") == 12.5
        assert sample(metrics, f"{name}_bucket", status="failed", le="10.0") == 0
        assert sample(metrics, f"{name}_bucket", status="failed", le="30.0") == 1
        assert sample(metrics, f"{name}_bucket", status="failed", le="3600.0") == 1

    def test_sums_records_over_objects_by_outcome(self, metrics: Metrics) -> None:
        finish(metrics)
        finish(metrics)
        records = {o: sample(metrics, "hubsync_records_total", action=o) for o in Outcome}
        assert records == {
            "created": 10, "updated": 10, "unchanged": 80, "deleted": 0, "skipped": 0, "failed": 2
        }  # fmt: skip

    def test_ignores_outcomes_it_does_not_know(self, metrics: Metrics) -> None:
        metrics.run_started()
        metrics.run_finished("succeeded", "manual", 1.0, {"contacts": {"bogus": 9, "created": 1}})
        records = [s for s in samples(metrics) if s.name == "hubsync_records_total"]
        assert {s.labels["action"] for s in records} == set(Outcome)

    def test_labels_outside_the_vocabulary_become_other(self, metrics: Metrics) -> None:
        finish(metrics, status=PERSONAL[0], trigger=PERSONAL[1])
        assert sample(metrics, "hubsync_runs_total", status="other", trigger="other") == 1


class TestHubspotCall:
    @pytest.mark.parametrize(
        ("status", "status_class"),
        [(200, "2xx"), (204, "2xx"), (404, "4xx"), (429, "4xx"), (502, "5xx"),
         (0, "transport_error")],
    )  # fmt: skip
    def test_counts_by_status_class(self, metrics: Metrics, status: int, status_class: str) -> None:
        metrics.hubspot_call(status)
        total = "hubsync_hubspot_calls_total"
        assert sample(metrics, total, status_class=status_class) == 1

    def test_counts_429_as_rate_limited(self, metrics: Metrics) -> None:
        for status in (429, 200, 429, 500):
            metrics.hubspot_call(status)
        assert sample(metrics, "hubsync_hubspot_rate_limited_total") == 2


class TestLeaseTakeover:
    def test_counts_takeovers(self, metrics: Metrics) -> None:
        metrics.lease_takeover()
        assert sample(metrics, "hubsync_lease_takeovers_total") == 1


class TestQueueDelay:
    def test_observes_the_delay(self, metrics: Metrics) -> None:
        metrics.queue_delay(0.3)
        metrics.queue_delay(90.0)
        name = "hubsync_run_queue_delay_seconds"
        assert sample(metrics, f"{name}_count") == 2
        assert sample(metrics, f"{name}_bucket", le="0.5") == 1
        assert sample(metrics, f"{name}_bucket", le="600.0") == 2

    def test_a_negative_delay_from_clock_skew_counts_as_zero(self, metrics: Metrics) -> None:
        metrics.queue_delay(-2.0)
        assert sample(metrics, "hubsync_run_queue_delay_seconds_sum") == 0


class TestNotificationSent:
    def test_counts_by_kind_and_result(self, metrics: Metrics) -> None:
        metrics.notification_sent(NotificationKind.email, ok=True)
        metrics.notification_sent("webhook", ok=False)
        total = "hubsync_notifications_total"
        assert sample(metrics, total, kind="email", result="sent") == 1
        assert sample(metrics, total, kind="webhook", result="failed") == 1

    def test_an_unknown_kind_becomes_other(self, metrics: Metrics) -> None:
        metrics.notification_sent(PERSONAL[1], ok=True)
        assert sample(metrics, "hubsync_notifications_total", kind="other", result="sent") == 1


class TestRender:
    def test_is_the_text_exposition_of_every_metric(self, metrics: Metrics) -> None:
        body, content_type = metrics.render()
        assert content_type.startswith("text/plain")
        text = body.decode()
        for name in (
            "hubsync_runs_total", "hubsync_run_duration_seconds", "hubsync_records_total",
            "hubsync_runs_in_progress", "hubsync_hubspot_calls_total",
            "hubsync_hubspot_rate_limited_total", "hubsync_lease_takeovers_total",
            "hubsync_run_queue_delay_seconds", "hubsync_notifications_total",
        ):  # fmt: skip
            assert f"# TYPE {name} " in text

    def test_carries_no_personal_data(self, metrics: Metrics) -> None:
        for value in PERSONAL:
            metrics.run_started()
            metrics.run_finished(value, value, 1.0, {value: {"created": 1}})
            metrics.notification_sent(value, ok=True)
        body, _ = metrics.render()
        assert not any(value.encode() in body for value in PERSONAL)
        labels = {v for s in samples(metrics) for k, v in s.labels.items() if k != "le"}
        assert labels <= {*Outcome, *RunStatus, *RunTrigger, "other", "sent"}
