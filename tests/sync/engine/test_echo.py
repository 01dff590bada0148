"""Echoes: hubsync's own write read back is no change; a real change after it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.sync.engine.echo import EchoGuard, Seen
from app.sync.engine.hashing import Side
from app.sync.engine.merge import Baseline, Pair, merge
from tests.sync.engine.builders import field, mapping, reverse

WRITTEN_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LATER = WRITTEN_AT + timedelta(seconds=5)
EARLIER = WRITTEN_AT - timedelta(seconds=5)


class TestClassify:
    guard = EchoGuard.after_write({"name": "Acme", "city": "Bern"}, WRITTEN_AT)

    def test_own_write_coming_back_is_an_echo(self) -> None:
        assert self.guard.classify({"city": "Bern", "name": "Acme"}, LATER) is Seen.echo

    def test_empty_fields_do_not_break_an_echo(self) -> None:
        assert self.guard.classify({"name": "Acme", "city": "Bern", "fax": None}) is Seen.echo

    def test_a_change_after_the_write_is_a_change(self) -> None:
        assert self.guard.classify({"name": "Acme AG", "city": "Bern"}, LATER) is Seen.changed

    def test_a_read_older_than_the_write_is_stale(self) -> None:
        assert self.guard.classify({"name": "Old", "city": "Bern"}, EARLIER) is Seen.stale

    def test_a_change_stamped_with_the_writes_time_is_a_change(self) -> None:
        assert self.guard.classify({"name": "Acme AG", "city": "Bern"}, WRITTEN_AT) is Seen.changed

    def test_without_times_only_the_hash_decides(self) -> None:
        guard = EchoGuard.after_write({"name": "Acme"})
        assert guard.classify({"name": "Acme"}, EARLIER) is Seen.echo
        assert guard.classify({"name": "Old"}, EARLIER) is Seen.changed

    def test_naive_times_are_utc(self) -> None:
        naive_earlier = EARLIER.replace(tzinfo=None)
        assert self.guard.classify({"name": "Old"}, naive_earlier) is Seen.stale


class TestFresh:
    guard = EchoGuard.after_write({"name": "Acme"}, WRITTEN_AT)

    def test_echo_and_stale_reads_are_none(self) -> None:
        assert self.guard.fresh({"name": "Acme"}, LATER) is None
        assert self.guard.fresh({"name": "Old"}, EARLIER) is None

    def test_a_change_is_handed_on(self) -> None:
        assert self.guard.fresh({"name": "Acme AG"}, LATER) == {"name": "Acme AG"}


class TestWithMerge:
    table = mapping(field("name"), field("city"))

    def write_to_hubspot(self) -> tuple[Baseline, EchoGuard]:
        """Sync a source change to HubSpot; the baseline and guard hubsync keeps after it."""
        synced = Baseline.agreed({"name": "Acme", "city": "Bern"})
        pair = Pair({"name": "Acme AG", "city": "Bern"}, None, synced)
        decision = merge(self.table, pair, reverse)
        assert decision.to_hubspot == {"name": "Acme AG"}
        guard = EchoGuard.after_write(decision.synced.hubspot, WRITTEN_AT)
        assert guard.hash == decision.synced.hash(Side.hubspot)
        return decision.synced, guard

    def test_own_write_read_back_produces_no_decision(self) -> None:
        synced, guard = self.write_to_hubspot()
        read_back = {"name": "Acme AG", "city": "Bern"}
        pair = Pair(None, guard.fresh(read_back, LATER), synced)
        assert not merge(self.table, pair, reverse).writes

    def test_a_lagging_read_does_not_undo_the_write(self) -> None:
        synced, guard = self.write_to_hubspot()
        lagging = {"name": "Acme", "city": "Bern"}
        pair = Pair(None, guard.fresh(lagging, EARLIER), synced)
        assert not merge(self.table, pair, reverse).writes

    def test_a_real_change_after_own_write_flows(self) -> None:
        synced, guard = self.write_to_hubspot()
        edited = {"name": "Acme AG", "city": "Zug"}
        pair = Pair(None, guard.fresh(edited, LATER), synced)
        decision = merge(self.table, pair, reverse)
        assert decision.to_source == {"src_city": "rev:Zug"}
        assert decision.to_hubspot == {}
