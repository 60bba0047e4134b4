"""Store fixtures: a migrated SQLite file, one connection per test, rolled back at teardown.

The session joins an outer transaction with savepoints (SQLAlchemy docs, "Joining a Session
into an External Transaction"), so code that commits only releases a savepoint and nothing
outlives the test. pysqlite needs SQLAlchemy's documented recipe (emit BEGIN ourselves) for
SAVEPOINT to nest inside that outer transaction.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade


def _sqlite_transactions_for_savepoints(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _explicit_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A SQLite file at the newest schema, built by Alembic (never create_all)."""
    built = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    _sqlite_transactions_for_savepoints(built)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def sessions(connection: Connection) -> sessionmaker[Session]:
    """A session factory whose commits only release savepoints of the test's transaction."""
    return sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as opened:
        yield opened
