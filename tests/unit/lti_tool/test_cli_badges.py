"""`cxa badges`: list, revoke (with refusals) and rotate-key, on a throwaway SQLite file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.store.badges import BadgeIssuerKey, IssuedBadge, issue_for_goal
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.goals import Goal, GoalStatus
from lti_tool.store.platforms import add_platform
from tests.fixtures.platform import TestPlatform

Cxa = Callable[..., Result]
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def cxa(tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {"CXA_DATABASE_URL": f"sqlite:///{database}", "CXA_VAR_DIR": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    assert run("db", "upgrade").exit_code == 0
    return run


@pytest.fixture
def badge_id(cxa: Cxa, database: Path, platform: TestPlatform) -> uuid.UUID:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with transaction(make_session_factory(engine)) as session:
            row = add_platform(session, platform.spec())
            goal = Goal(
                platform_id=row.id,
                sub="learner-1",
                template_id="goal-name-the-impact",
                skill="empathy",
                title="Name the impact",
                metric_key="self_reported",
                target=8,
                status=GoalStatus.ACHIEVED,
                due_at=NOW + timedelta(days=3),
                ended_at=NOW,
            )
            session.add(goal)
            session.flush()
            return issue_for_goal(session, goal, now=NOW).public_id
    finally:
        engine.dispose()


def revoked(database: Path, public_id: uuid.UUID) -> tuple[datetime | None, str | None]:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with make_session_factory(engine)() as session:
            row = session.scalars(
                select(IssuedBadge).where(IssuedBadge.public_id == public_id)
            ).one()
            return row.revoked_at, row.revoked_reason
    finally:
        engine.dispose()


def test_list_shows_badges_without_learner_data(cxa: Cxa, badge_id: uuid.UUID) -> None:
    result = cxa("badges", "list")
    assert result.exit_code == 0, result.output
    assert f"{badge_id}\t2026-05-04\tvalid\tgoal-name-the-impact" in result.output
    assert "learner-1" not in result.output


def test_revoke(cxa: Cxa, badge_id: uuid.UUID, database: Path) -> None:
    result = cxa("badges", "revoke", str(badge_id), "--reason", "awarded by mistake")
    assert result.exit_code == 0, result.output
    assert f"revoked {badge_id}" in result.output
    revoked_at, reason = revoked(database, badge_id)
    assert revoked_at is not None and reason == "awarded by mistake"
    again = cxa("badges", "revoke", str(badge_id), "--reason", "twice")
    assert again.exit_code == 0 and "already revoked" in again.output
    assert revoked(database, badge_id)[1] == "awarded by mistake"
    assert "\trevoked " in cxa("badges", "list").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-a-uuid", "--reason", "x"], "is not a badge id"),
        ([str(uuid.UUID(int=7)), "--reason", "x"], "no badge"),
        (["{id}", "--reason", "   "], "--reason must be"),
        (["{id}", "--reason", "x" * 501], "--reason must be"),
    ],
)
def test_revoke_refusals(
    cxa: Cxa, badge_id: uuid.UUID, database: Path, args: list[str], message: str
) -> None:
    result = cxa("badges", "revoke", *[a.replace("{id}", str(badge_id)) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert revoked(database, badge_id) == (None, None)


def test_revoke_needs_a_reason(cxa: Cxa, badge_id: uuid.UUID) -> None:
    result = cxa("badges", "revoke", str(badge_id))
    assert result.exit_code == 2
    assert "--reason" in result.output


def test_rotate_key_keeps_earlier_keys_published(cxa: Cxa, database: Path) -> None:
    first = cxa("badges", "rotate-key")
    second = cxa("badges", "rotate-key")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    engine = make_engine(f"sqlite:///{database}")
    try:
        with make_session_factory(engine)() as session:
            keys = session.scalars(select(BadgeIssuerKey).order_by(BadgeIssuerKey.id)).all()
    finally:
        engine.dispose()
    assert len(keys) == 2
    assert keys[0].retired_at is not None and keys[1].retired_at is None
    assert keys[1].kid in second.output
    assert all("d" not in key.public_jwk for key in keys)
