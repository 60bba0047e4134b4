"""Exactly one ACTIVE tool key, however many processes start at once on an empty database."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from lti_tool.store import keys
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import KeyStatus, ToolKey
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration

SECRET = "integration-key-secret"
WORKERS = 5


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with isolated_database(tmp_path) as url:
        yield url


def _engine(url: str, revision: str = "head") -> Engine:
    engine = make_engine(url)
    upgrade(engine, revision)
    return engine


def _active_count(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        stmt = select(func.count()).where(ToolKey.status == KeyStatus.ACTIVE)
        return session.scalar(stmt) or 0


def test_concurrent_starts_create_exactly_one_active_key(database: str) -> None:
    _engine(database).dispose()
    # One engine (and so one connection) per "gunicorn worker", all released at once.
    engines = [make_engine(database) for _ in range(WORKERS)]
    start = threading.Barrier(WORKERS)
    kids: list[str] = []
    errors: list[BaseException] = []

    def start_worker(engine: Engine) -> None:
        try:
            start.wait(timeout=30)
            with transaction(make_session_factory(engine)) as session:
                kids.append(keys.ensure_active_key(session, SECRET).kid)
        except BaseException as err:  # reported by the main thread below
            errors.append(err)

    threads = [threading.Thread(target=start_worker, args=(e,)) for e in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    try:
        assert errors == []
        assert len(kids) == WORKERS
        assert len(set(kids)) == 1, kids
        assert _active_count(engines[0]) == 1
        with make_session_factory(engines[0])() as session:
            assert [k["kid"] for k in keys.public_jwks(session)["keys"]] == kids[:1]
            assert keys.require_signing_key(session, SECRET).kid == kids[0]
    finally:
        for engine in engines:
            engine.dispose()


def test_rotation_swaps_the_active_key_under_the_unique_index(database: str) -> None:
    engine = _engine(database)
    try:
        sessions = make_session_factory(engine)
        with transaction(sessions) as session:
            first = keys.ensure_active_key(session, SECRET).kid
        for force in (False, True):
            with transaction(sessions) as session:
                step = keys.rotate_keys(
                    session,
                    SECRET,
                    publish_lead=timedelta(hours=24),
                    overlap=timedelta(days=7),
                    force=force,
                )
        assert step.action == "activated"
        assert _active_count(engine) == 1
        with sessions() as session:
            assert keys.require_signing_key(session, SECRET).kid == step.kid != first
    finally:
        engine.dispose()


def test_the_migration_keeps_one_of_several_active_keys(database: str) -> None:
    engine = _engine(database, "0004")
    try:
        made = [keys._new_key(SECRET, KeyStatus.ACTIVE, keys.utcnow()) for _ in range(3)]
        with transaction(make_session_factory(engine)) as session:
            session.add_all(made)
        upgrade(engine)

        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT kid, status, retire_after FROM tool_key ORDER BY id")
            ).all()
        assert [r.status for r in rows] == ["active", "retiring", "retiring"]
        assert rows[0].kid == made[0].kid
        # The demoted keys stay published for a while: platforms may hold tokens they signed.
        assert all(r.retire_after is not None for r in rows[1:])
    finally:
        engine.dispose()
