"""The database-backed launch state store: OIDC state and nonces, single use, expiring."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.lti.state import RedisStateStore, SqlStateStore, make_state_store
from lti_tool.store import state as state_rows
from lti_tool.store.models import LaunchState

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

Clock = Callable[[datetime], None]


@pytest.fixture
def store(sessions: sessionmaker[Session]) -> SqlStateStore:
    return SqlStateStore(sessions)


@pytest.fixture
def set_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Pin the state rows' idea of 'now'."""

    def set_to(moment: datetime) -> None:
        monkeypatch.setattr(state_rows, "utcnow", lambda: moment)

    set_to(T0)
    return set_to


def stored_keys(session: Session) -> list[str]:
    return list(session.scalars(select(LaunchState.key).order_by(LaunchState.key)))


def test_the_database_is_the_store_when_no_url_is_configured(
    sessions: sessionmaker[Session],
) -> None:
    assert isinstance(make_state_store("", sessions), SqlStateStore)


def test_a_value_put_can_be_read_until_taken(store: SqlStateStore) -> None:
    store.put("state-abc", "nonce-1", ttl_seconds=60)

    assert store.get("state-abc") == "nonce-1"
    assert store.get("state-abc") == "nonce-1"
    assert store.get("state-other") is None


def test_take_is_single_use(store: SqlStateStore) -> None:
    store.put("state-abc", "nonce-1", ttl_seconds=60)

    assert store.take("state-abc") == "nonce-1"
    assert store.take("state-abc") is None
    assert store.get("state-abc") is None


def test_taking_one_key_leaves_the_others(store: SqlStateStore) -> None:
    store.put("state-a", "1", ttl_seconds=60)
    store.put("state-b", "2", ttl_seconds=60)

    assert store.take("state-a") == "1"
    assert store.get("state-b") == "2"


def test_put_again_replaces_the_value_and_the_expiry(
    store: SqlStateStore, set_clock: Clock
) -> None:
    store.put("state-abc", "old", ttl_seconds=60)
    set_clock(T0 + timedelta(seconds=50))
    store.put("state-abc", "new", ttl_seconds=60)

    set_clock(T0 + timedelta(seconds=100))

    assert store.get("state-abc") == "new"


def test_an_expired_value_is_invisible_to_get_and_take(
    store: SqlStateStore, set_clock: Clock
) -> None:
    store.put("state-abc", "nonce-1", ttl_seconds=60)

    set_clock(T0 + timedelta(seconds=59))
    assert store.get("state-abc") == "nonce-1"

    set_clock(T0 + timedelta(seconds=60))
    assert store.get("state-abc") is None
    assert store.take("state-abc") is None


def test_purge_deletes_expired_rows_only(session: Session, set_clock: Clock) -> None:
    state_rows.put_state(session, "short", "1", ttl_seconds=30)
    state_rows.put_state(session, "long", "2", ttl_seconds=600)

    assert state_rows.purge_expired_state(session, now=T0 + timedelta(seconds=29)) == 0
    assert state_rows.purge_expired_state(session, now=T0 + timedelta(seconds=30)) == 1
    assert stored_keys(session) == ["long"]
    assert state_rows.purge_expired_state(session, now=T0 + timedelta(days=1)) == 1
    assert stored_keys(session) == []


def test_purge_without_a_time_uses_now(session: Session, set_clock: Clock) -> None:
    state_rows.put_state(session, "short", "1", ttl_seconds=30)
    state_rows.put_state(session, "long", "2", ttl_seconds=600)
    set_clock(T0 + timedelta(minutes=5))

    assert state_rows.purge_expired_state(session) == 1
    assert stored_keys(session) == ["long"]


def test_put_many_stores_every_key_single_use(store: SqlStateStore) -> None:
    store.put_many({"oidc-state:s1": '{"nonce": "n1"}', "oidc-nonce:n1": "s1"}, 300)
    assert store.get("oidc-nonce:n1") == "s1"
    assert store.take("oidc-state:s1") == '{"nonce": "n1"}'
    assert store.take("oidc-state:s1") is None


def test_new_redis_connections_do_not_read_the_package_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens on the discard port: making a connection object does not connect.
    redis_store = RedisStateStore("redis://127.0.0.1:9/0")
    reads: list[str] = []
    version = importlib.metadata.version
    monkeypatch.setattr(
        importlib.metadata, "version", lambda name: reads.append(name) or version(name)
    )
    for _ in range(3):
        redis_store._redis.connection_pool.make_connection()
    assert reads == []
