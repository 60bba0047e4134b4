"""`cxa grades status|replay` as an operator runs them, on a throwaway SQLite file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.cli import main
from lti_tool.store import grades
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.grades import GradeEntry, GradeRow, GradeStatus
from lti_tool.store.platforms import PlatformSpec, add_platform

Cxa = Callable[..., Result]


@pytest.fixture
def cxa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {"CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "CXA_VAR_DIR": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    assert run("db", "upgrade").exit_code == 0
    return run


@pytest.fixture
def sessions(tmp_path: Path, cxa: Cxa) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'cli.db'}")
    yield make_session_factory(engine)
    engine.dispose()


def queue(sessions: sessionmaker[Session], n: int, status: GradeStatus, error: str = "") -> int:
    with transaction(sessions) as session:
        platform = add_platform(
            session,
            PlatformSpec(
                name=f"Moodle {n}",
                issuer=f"https://lms{n}.example",
                client_id="c",
                auth_login_url=f"https://lms{n}.example/auth",
                auth_token_url=f"https://lms{n}.example/token",
                key_set_url=f"https://lms{n}.example/jwks",
            ),
        )
        row = grades.add_grade(
            session,
            GradeEntry(
                source_id=f"quiz-attempt:{n}",
                platform_id=platform.id,
                deployment_id="1",
                sub=f"learner-{n}",
                context_id="7",
                resource_link_id="l",
                lineitem_url=f"https://lms{n}.example/li/1",
                lineitems_url=None,
                scopes=(),
                resource_id="quiz:q",
                label="Quiz",
                score_given=7.0,
                score_maximum=10.0,
                activity_progress="Completed",
                grading_progress="FullyGraded",
                comment=None,
                event_at=datetime.now(UTC),
            ),
        )
        assert row is not None
        row.status = status
        row.last_error = error or None
        return platform.id


def test_status_counts_per_platform_and_lists_the_dead_with_their_reasons(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    queue(sessions, 1, GradeStatus.DEAD, "HTTP 422: userId learner-1 is not enrolled")
    queue(sessions, 2, GradeStatus.PENDING)
    result = cxa("grades", "status")
    assert result.exit_code == 0, result.output
    assert "Moodle 1\tpending=0 sent=0 superseded=0 dead=1" in result.output
    assert "Moodle 2\tpending=1" in result.output
    assert "learner=learner-1" in result.output and "is not enrolled" in result.output
    data = json.loads(cxa("grades", "status", "--json").output)
    assert {p["platform"]: p["dead"] for p in data["platforms"]} == {"Moodle 1": 1, "Moodle 2": 0}
    assert data["dead"][0]["reason"] == "HTTP 422: userId learner-1 is not enrolled"


def test_replay_requeues_dead_scores_matching_the_filters(
    cxa: Cxa, sessions: sessionmaker[Session]
) -> None:
    queue(sessions, 1, GradeStatus.DEAD, "HTTP 422: not enrolled")
    second = queue(sessions, 2, GradeStatus.DEAD, "HTTP 404: line item gone")
    result = cxa("grades", "replay", "--platform", str(second))
    assert result.exit_code == 0, result.output
    assert "requeued 1 scores" in result.output
    result = cxa("grades", "replay", "--error", "ENROLLED")
    assert "requeued 1 scores" in result.output
    with sessions() as session:
        assert {r.status for r in session.query(GradeRow)} == {GradeStatus.PENDING}


def test_replay_for_an_unknown_platform_is_refused(cxa: Cxa) -> None:
    result = cxa("grades", "replay", "--platform", "99")
    assert result.exit_code == 2
    assert "no platform with id 99" in result.output
