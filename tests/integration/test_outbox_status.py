"""`cxa outbox status` on PostgreSQL shows the batch a worker is sending right now."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.store import outbox
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import DestinationState
from tests.fixtures.stack import isolated_database

pytestmark = pytest.mark.integration


def _statement(n: int) -> dict:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"status-test-{n}")),
        "actor": {"account": {"homePage": "https://lms.example", "name": f"l{n}"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": f"https://cx-academy.example/xapi/activities/lesson/{n}"},
        "timestamp": datetime.now(UTC).isoformat(),
    }


def test_status_reports_the_batch_in_flight(tmp_path: Path) -> None:
    with isolated_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        sessions = make_session_factory(engine)
        env = {
            "CXA_DATABASE_URL": url,
            "CXA_VAR_DIR": str(tmp_path),
            "CXA_LRS_ENDPOINT": "http://127.0.0.1:9/xAPI/",
            "CXA_LRS_BATCH_SIZE": "4",
        }
        try:
            with transaction(sessions) as session:
                outbox.sync_destinations(session, ["default"])
                for n in range(10):
                    outbox.add_statement(session, _statement(n))

            def status() -> dict:
                result = CliRunner().invoke(main, ["outbox", "status", "--json"], env=env)
                assert result.exit_code == 0, result.output
                return {d["destination"]: d for d in json.loads(result.output)}["default"]

            if not url.startswith("postgresql"):
                # The embedded default (SQLite) cannot see another worker's batch: unknown.
                assert status()["in_flight"] is None
                return
            assert status()["in_flight"] == 0
            # A worker holds one lane of the destination while it sends a batch there
            # (workers/delivery.py); each lane in flight is at most a batch.
            with sessions() as worker, worker.begin():
                assert outbox.enter_destination(worker, "default") is not None
                assert outbox.try_lock_lane(worker, "default", 0)
                held = status()
                assert (held["pending"], held["in_flight"]) == (10, 4)
                assert outbox.try_lock_lane(worker, "default", 1)
                assert status()["in_flight"] == 8
            assert status()["in_flight"] == 0
            with sessions() as session:  # the probe left no lock and changed nothing
                assert session.scalars(select(DestinationState.name)).all() == ["default"]
        finally:
            engine.dispose()
