"""`cxa outbox status|replay|backfill` as an operator runs them, on a throwaway SQLite file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.cli import main
from lti_tool.store import outbox
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.models import DestinationState, OutboxRow, OutboxStatus
from tests.unit.workers.conftest import statement

Cxa = Callable[..., Result]
DESTINATIONS = json.dumps([{"name": "lake", "endpoint": "https://lake.example/xAPI/"}])
JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 12, tzinfo=UTC)


@pytest.fixture
def cxa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {
        "CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "CXA_VAR_DIR": str(tmp_path),
        "CXA_LRS_ENDPOINT": "https://lrs.example/xAPI/",
        "CXA_LRS_DESTINATIONS": DESTINATIONS,
    }
    runner = CliRunner()

    def run(*args: str, **extra_env: str) -> Result:
        return runner.invoke(main, list(args), env={**env, **extra_env})

    assert run("db", "upgrade").exit_code == 0
    return run


@pytest.fixture
def sessions(tmp_path: Path, cxa: Cxa) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    yield make_session_factory(engine)
    engine.dispose()


def record(
    sessions: sessionmaker[Session],
    n: int,
    at: datetime,
    *,
    destination: str = "default",
    dead_because: str | None = None,
) -> None:
    """A statement recorded at ``at`` for one destination, optionally already dead."""
    body = statement(n)
    with transaction(sessions) as session:
        outbox.add_statement(session, body, destination)
        values: dict[str, object] = {"created_at": at}
        if dead_because:
            values |= {"status": OutboxStatus.DEAD, "last_error": dead_because, "attempts": 12}
        session.execute(
            update(OutboxRow)
            .where(OutboxRow.statement_id == body["id"], OutboxRow.destination == destination)
            .values(**values)
        )


def statuses(sessions: sessionmaker[Session], destination: str) -> list[str]:
    with sessions() as session:
        return [
            r.status.value
            for r in session.scalars(
                select(OutboxRow).where(OutboxRow.destination == destination).order_by(OutboxRow.id)
            )
        ]


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output


# --- status --------------------------------------------------------------------------------


def test_status_shows_each_destination_with_pending_dead_and_lag(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    record(sessions, 1, datetime.now(UTC) - timedelta(minutes=5))
    record(sessions, 2, JAN, dead_because="LRS rejected the statements (400)")

    lines = cxa("outbox", "status").output.splitlines()
    report = json.loads(cxa("outbox", "status", "--json").output)

    # SQLite cannot tell which batch a worker holds, so in-flight is shown as unknown.
    assert lines[0].startswith("default\tenabled\tpending=1 in_flight=- dead=1 conflicts=0 lag=30")
    by_name = {d["destination"]: d for d in report}
    assert by_name["default"]["pending"] == 1 and by_name["default"]["dead"] == 1
    assert 299 < by_name["default"]["lag_seconds"] < 360
    assert by_name["default"]["circuit"] == "closed"
    assert by_name["default"]["in_flight"] is None


def test_status_shows_a_redirecting_lrs_as_an_open_breaker_with_the_reason(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    error = (
        "LRS answered 301 redirecting to https://lrs.example/xAPI/statements: redirects are "
        "not followed for writes; set the destination's endpoint to the LRS's real address"
    )
    record(sessions, 1, datetime.now(UTC))
    with transaction(sessions) as session:
        state = session.get(DestinationState, "default")
        assert state is not None
        state.open_until = datetime.now(UTC) + timedelta(minutes=10)
        state.consecutive_failures = 1
        state.last_error = error

    line = cxa("outbox", "status").output.splitlines()[0]
    (default,) = [d for d in json.loads(cxa("outbox", "status", "--json").output)
                  if d["destination"] == "default"]  # fmt: skip

    assert "circuit=open until" in line and "last_error=LRS answered 301 redirecting" in line
    assert default["circuit"] == "open" and default["last_error"] == error


def test_status_says_why_rows_of_an_unconfigured_destination_wait(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    record(sessions, 1, datetime.now(UTC), destination="retired")

    output = cxa("outbox", "status").output
    (retired,) = [d for d in json.loads(cxa("outbox", "status", "--json").output)
                  if d["destination"] == "retired"]  # fmt: skip

    assert "1 statements wait for 'retired', which is not configured" in output
    assert "re-routes them" in output
    assert (retired["configured"], retired["pending"]) == (False, 1)


# --- dead letters and conflicts ---------------------------------------------------------------


def test_dead_lists_conflicts_with_both_versions(cxa: Cxa, sessions: sessionmaker[Session]) -> None:
    ours = statement(1)
    theirs = {**ours, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    record(sessions, 1, JAN)
    record(sessions, 2, JAN, dead_because="LRS rejected the statements (400): bad actor")
    with transaction(sessions) as session:
        row = session.scalars(select(OutboxRow).where(OutboxRow.statement_id == ours["id"])).one()
        outbox.mark_conflict(session, row, theirs, "conflict: differs in verb")

    status = json.loads(cxa("outbox", "status", "--json").output)
    text = cxa("outbox", "dead").output
    only_conflicts = json.loads(cxa("outbox", "dead", "--conflicts", "--json").output)

    assert {d["destination"]: (d["dead"], d["conflicts"]) for d in status}["default"] == (2, 1)
    assert "conflict with what 'default' holds" in cxa("outbox", "status").output
    assert "conflict: differs in verb" in text and "bad actor" in text
    assert f"lrs:  {json.dumps(theirs, sort_keys=True)}" in text
    (conflict,) = only_conflicts
    assert conflict["statement"] == ours and conflict["lrs_statement"] == theirs
    assert conflict["conflict"] is True


def test_replaying_a_conflict_forgets_the_old_lrs_version(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    record(sessions, 1, JAN)
    with transaction(sessions) as session:
        row = session.scalars(select(OutboxRow)).one()
        outbox.mark_conflict(session, row, {**statement(1), "verb": {"id": "x:y"}}, "conflict")

    assert "requeued 1 statements" in cxa("outbox", "replay", "--error", "conflict").output
    assert json.loads(cxa("outbox", "dead", "--json").output) == []
    with sessions() as session:
        assert session.scalars(select(OutboxRow.lrs_statement)).one() is None


# --- replay --------------------------------------------------------------------------------


def test_replay_requeues_only_the_dead_rows_that_match_every_filter(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    record(sessions, 1, JAN, dead_because="LRS rejected the statements (400): bad actor")
    record(sessions, 2, FEB, dead_because="LRS rejected the statements (400): bad actor")
    record(sessions, 3, FEB, dead_because="LRS unavailable (503)")
    record(sessions, 4, FEB, destination="lake", dead_because="LRS rejected (400): bad actor")

    result = cxa(
        "outbox", "replay", "--destination", "default", "--since", "2026-02-01",
        "--error", "BAD ACTOR",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "requeued 1 statements" in result.output
    assert statuses(sessions, "default") == ["dead", "pending", "dead"]
    assert statuses(sessions, "lake") == ["dead"]

    everything = cxa("outbox", "replay")
    assert "requeued 3 statements" in everything.output


def test_replay_refuses_an_unknown_destination_and_an_empty_date_range(cxa: Cxa) -> None:
    refused(cxa("outbox", "replay", "--destination", "nowhere"), "nowhere")
    refused(cxa("outbox", "replay", "--since", "2026-02-01", "--until", "2026-01-01"), "--since")
    refused(cxa("outbox", "replay", "--since", "last tuesday"), "--since")


# --- backfill ------------------------------------------------------------------------------


def test_backfill_copies_a_date_range_to_a_new_destination_once(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    for n in range(5):
        record(sessions, n, JAN + timedelta(hours=n))
    record(sessions, 9, FEB)

    first = cxa(
        "outbox", "backfill", "--destination", "lake", "--since", "2026-01-01",
        "--until", "2026-02-01", "--chunk-size", "2",
    )  # fmt: skip
    again = cxa(
        "outbox", "backfill", "--destination", "lake", "--since", "2026-01-01",
        "--until", "2026-02-01",
    )  # fmt: skip

    assert first.exit_code == 0, first.output
    assert "queued 5 statements for lake" in first.output
    assert "queued 0 statements for lake" in again.output
    with sessions() as session:
        copied = list(
            session.scalars(
                select(OutboxRow.statement_id)
                .where(OutboxRow.destination == "lake")
                .order_by(OutboxRow.id)
            )
        )
    # In recording order, so the new LRS sees each learner's statements in sequence.
    assert copied == [statement(n)["id"] for n in range(5)]
    assert statuses(sessions, "lake") == ["pending"] * 5


def test_backfill_refuses_bad_input(cxa: Cxa) -> None:
    refused(
        cxa("outbox", "backfill", "--destination", "elsewhere", "--since", "2026-01-01",
            "--until", "2026-02-01"),
        "elsewhere", "CXA_LRS_DESTINATIONS",
    )  # fmt: skip
    refused(
        cxa("outbox", "backfill", "--destination", "lake", "--since", "2026-02-01",
            "--until", "2026-01-01"),
        "--since",
    )  # fmt: skip
    refused(cxa("outbox", "backfill", "--destination", "lake"), "--since")
    refused(
        cxa("outbox", "status", CXA_LRS_DESTINATIONS='[{"name": "Bad Name"}]'),
        "CXA_LRS_DESTINATIONS",
    )
