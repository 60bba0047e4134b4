"""Re-routing a destination's backlog on the production database: PostgreSQL's upsert and
row locks (the unit tests run the same code on SQLite, which ignores the locks)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.store import outbox
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import OutboxRow
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration


def _statement(n: int) -> dict:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"reroute-test-{n}")),
        "actor": {"account": {"homePage": "https://lms.example", "name": f"l{n}"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"https://cx-academy.example/xapi/activities/lesson/{n}"},
        "timestamp": "2026-11-30T10:00:00+00:00",
    }


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    with isolated_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield make_session_factory(engine)
        finally:
            engine.dispose()


def rows(sessions: sessionmaker[Session]) -> list[tuple[str, str, str]]:
    with sessions() as session:
        return [
            (r.destination, r.statement_id, r.status.value)
            for r in session.scalars(select(OutboxRow).order_by(OutboxRow.id))
        ]


def test_the_seeded_default_backlog_moves_to_the_configured_destinations(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        for n in range(3):
            outbox.add_statement(session, _statement(n))  # only "default" exists yet

    with transaction(sessions) as session:
        assert outbox.sync_destinations(session, ["north", "south"]) == 3
    with transaction(sessions) as session:  # a second sync finds nothing left to move
        assert outbox.sync_destinations(session, ["north", "south"]) == 0

    ids = [_statement(n)["id"] for n in range(3)]
    found = rows(sessions)
    assert [(d, s) for d, _, s in found if d == "default"] == [("default", "rerouted")] * 3
    for name in ("north", "south"):
        assert [i for d, i, s in found if d == name and s == "pending"] == ids


def test_a_destination_a_worker_is_sending_to_is_left_for_the_next_sync(
    sessions: sessionmaker[Session],
) -> None:
    with transaction(sessions) as session:
        outbox.sync_destinations(session, ["north"])  # "default" is disabled from now on
        # A worker still configured with "default" delivers its backlog (a rolling deploy).
        outbox.add_statement(session, _statement(1), "default")

    with sessions() as worker, worker.begin():
        # A worker is in "default" for the length of its POST (workers/delivery.py).
        assert outbox.enter_destination(worker, "default") is not None
        with transaction(sessions) as session:
            assert outbox.sync_destinations(session, ["north"]) == 0

    with transaction(sessions) as session:
        assert outbox.sync_destinations(session, ["north"]) == 1
    assert ("north", _statement(1)["id"], "pending") in rows(sessions)
