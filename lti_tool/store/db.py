"""Engines and sessions. Nothing connects at import time; callers own the transaction."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker

# Seconds to wait for a PostgreSQL connection (libpq rounds anything smaller up to 2).
CONNECT_TIMEOUT = 2


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite is set up so web and worker processes can share one file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # A database that does not answer must cost a request a bounded wait (then a 503),
        # not hang it; libpq's smallest timeout is 2 seconds. A URL's own value wins.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the worker read while the web process writes; foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_session_factory(
    engine: Engine, info: Mapping[str, Any] | None = None
) -> sessionmaker[Session]:
    """Sessions on ``engine``; ``info`` is copied into each session's ``Session.info``
    (per-process facts the recording code reads, such as the xAPI IRI base)."""
    return sessionmaker(bind=engine, expire_on_commit=False, info=dict(info or {}))


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


T = TypeVar("T")


def attach_inserted(session: Session, record: T) -> T:
    """``record``, whose row was just written by a Core insert, made a persistent object of
    ``session`` as if loaded from that row: the flush will not write it again, and reads find
    it in the identity map."""
    make_transient_to_detached(record)
    session.add(record)
    return record
