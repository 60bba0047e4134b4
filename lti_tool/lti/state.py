"""Server-side launch state: OIDC state, nonces and cached platform key sets.

Kept on the server, not in cookies, so a launch inside an LMS iframe works when the
browser blocks third-party cookies. Redis in production; the database in the embedded
default (shared by every process, unlike an in-memory cache).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.store import state as state_rows
from lti_tool.store.db import transaction

# Seconds a launch waits for Redis to connect or answer before the request gets a 503: the
# state store holds a few short keys, so a healthy Redis answers in milliseconds.
REDIS_TIMEOUT = 1.0


@functools.cache
def redis_identity() -> dict[str, Any]:
    """Client options naming this client to Redis (CLIENT SETINFO), worked out once.

    Without them a redis-py that has DriverInfo reads its own version from the installed
    package metadata for every new connection: a scan of the install that cost each web
    worker several milliseconds per connection it opened. Older redis-py needs nothing."""
    try:
        from redis.driver_info import DriverInfo
    except ImportError:  # pragma: no cover - redis-py without DriverInfo
        return {}
    return {"driver_info": DriverInfo()}


class StateStore(Protocol):
    def put(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def put_many(self, values: Mapping[str, str], ttl_seconds: int) -> None:
        """Put several keys with one expiry, in one round trip where the store allows."""
        ...

    def get(self, key: str) -> str | None: ...

    def take(self, key: str) -> str | None:
        """Return and delete in one step: of two concurrent callers, one gets None."""
        ...


class SqlStateStore:
    """State rows in the tool's database, each operation its own short transaction."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        with transaction(self._factory) as session:
            state_rows.put_state(session, key, value, ttl_seconds)

    def put_many(self, values: Mapping[str, str], ttl_seconds: int) -> None:
        with transaction(self._factory) as session:
            for key, value in values.items():
                state_rows.put_state(session, key, value, ttl_seconds)

    def get(self, key: str) -> str | None:
        with transaction(self._factory) as session:
            return state_rows.get_state(session, key)

    def take(self, key: str) -> str | None:
        with transaction(self._factory) as session:
            return state_rows.take_state(session, key)


class RedisStateStore:
    """State in Redis with native expiry; GETDEL makes single use atomic."""

    def __init__(self, url: str, prefix: str = "cxa:state:") -> None:
        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            # One retry on a broken pooled connection (Redis restarted), none on a timeout:
            # a silent Redis must cost a launch about REDIS_TIMEOUT, not a multiple of it.
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
            **redis_identity(),
        )
        self._prefix = prefix

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    def put_many(self, values: Mapping[str, str], ttl_seconds: int) -> None:
        # Pipelined, not a MULTI transaction: each key stands alone, and a login whose
        # writes half failed is refused at its launch like any unknown state.
        pipe = self._redis.pipeline(transaction=False)
        for key, value in values.items():
            pipe.set(self._prefix + key, value, ex=ttl_seconds)
        pipe.execute()

    def get(self, key: str) -> str | None:
        value = self._redis.get(self._prefix + key)
        return None if value is None else str(value)

    def take(self, key: str) -> str | None:
        value = self._redis.getdel(self._prefix + key)
        return None if value is None else str(value)

    def close(self) -> None:
        self._redis.close()


class RequestStateCache:
    """One request's view of a store: a key read twice in the request costs one round trip.

    The launch reads its state when choosing the check page and again when validating; the
    single-use guarantee does not rest on these reads but on ``take``, which always goes to
    the store (and forgets the cached value), so caching a read weakens nothing.
    """

    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._read: dict[str, str | None] = {}

    def put(self, key: str, value: str, ttl_seconds: int) -> None:
        self._read.pop(key, None)
        self._store.put(key, value, ttl_seconds)

    def put_many(self, values: Mapping[str, str], ttl_seconds: int) -> None:
        for key in values:
            self._read.pop(key, None)
        self._store.put_many(values, ttl_seconds)

    def get(self, key: str) -> str | None:
        if key not in self._read:
            self._read[key] = self._store.get(key)
        return self._read[key]

    def take(self, key: str) -> str | None:
        self._read.pop(key, None)
        return self._store.take(key)


def shared(store: StateStore) -> StateStore:
    """``store`` as every request sees it now, without a request's cache in front: for
    reads that wait for another request's write (a key-set fetch in flight), which a cached
    read would never see land."""
    return store._store if isinstance(store, RequestStateCache) else store


def make_state_store(url: str, session_factory: sessionmaker[Session]) -> StateStore:
    """Redis when a URL is configured, the database otherwise."""
    if url:
        return RedisStateStore(url)
    return SqlStateStore(session_factory)
