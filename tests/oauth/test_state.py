"""The OAuth ``state``: unguessable, names its connection, kept as a hash, bound to its starter."""

from __future__ import annotations

import uuid

from app.connectors.hubspot.auth import Pkce
from app.sync.hubspot_oauth.stored import (
    PENDING_TTL_S,
    PendingAuthorization,
    new_state,
    sha256,
    state_connection,
)

USER = uuid.uuid4()
TENANT = uuid.uuid4()


def pending(state: str, session_key: str | None = "cookie-1") -> PendingAuthorization:
    return PendingAuthorization.start(
        state=state, pkce=Pkce.new(), user_id=USER, tenant_id=TENANT,
        session_key=session_key, now=1000.0,
    )  # fmt: skip


class TestState:
    def test_names_its_connection_and_is_random(self) -> None:
        connection_id = uuid.uuid4()
        first, second = new_state(connection_id), new_state(connection_id)
        assert first != second
        assert state_connection(first) == connection_id
        assert len(first.partition(".")[2]) >= 43  # 256 bits, base64url

    def test_foreign_states_name_no_connection(self) -> None:
        for state in ("", "abc", "not-a-uuid.xyz", f"{uuid.uuid4()}.", ".abc"):
            assert state_connection(state) is None


class TestPendingAuthorization:
    def test_keeps_only_hashes_of_state_and_session(self) -> None:
        state = new_state(uuid.uuid4())
        record = pending(state).to_json()
        assert state not in str(record)
        assert "cookie-1" not in str(record)
        assert record["state_sha256"] == sha256(state)
        assert record["expires_at"] == 1000.0 + PENDING_TTL_S == 1600.0

    def test_round_trips_through_storage(self) -> None:
        record = pending(new_state(uuid.uuid4()))
        assert PendingAuthorization.from_json(record.to_json()) == record

    def test_matches_its_own_state_only(self) -> None:
        state = new_state(uuid.uuid4())
        record = pending(state)
        assert record.is_for(state)
        assert not record.is_for(new_state(uuid.uuid4()))
        assert not record.is_for(state + "x")

    def test_is_bound_to_user_and_session(self) -> None:
        record = pending(new_state(uuid.uuid4()))
        assert record.started_by(USER, "cookie-1")
        assert not record.started_by(USER, "cookie-2")  # same user, other session
        assert not record.started_by(USER, None)
        assert not record.started_by(uuid.uuid4(), "cookie-1")
        assert not record.started_by(None, "cookie-1")

    def test_started_through_the_api_is_bound_to_the_user(self) -> None:
        record = pending(new_state(uuid.uuid4()), session_key=None)
        assert record.started_by(USER, "any-session")
        assert not record.started_by(uuid.uuid4(), "any-session")

    def test_pkce_challenge_matches_the_stored_verifier(self) -> None:
        original = Pkce.new()
        record = PendingAuthorization.start(
            state="s", pkce=original, user_id=USER, tenant_id=TENANT, session_key=None, now=0.0,
        )  # fmt: skip
        assert record.pkce() == original
