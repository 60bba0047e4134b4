"""`cxa goals status` as an operator runs it, on a throwaway SQLite file."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.goals import Goal, GoalSourceCursor, GoalStatus
from lti_tool.store.models import Platform

Cxa = Callable[..., Result]
SOURCES = json.dumps([{"name": "videos", "endpoint": "https://videos.example/xAPI/"}])


@pytest.fixture
def cxa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {
        "CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "CXA_VAR_DIR": str(tmp_path),
        "CXA_GOAL_SOURCES": SOURCES,
    }
    runner = CliRunner()

    def run(*args: str, **extra_env: str) -> Result:
        return runner.invoke(main, list(args), env={**env, **extra_env})

    assert run("db", "upgrade").exit_code == 0
    engine = make_engine(env["CXA_DATABASE_URL"])
    with transaction(make_session_factory(engine)) as session:
        platform = Platform(
            name="LMS",
            issuer="https://lms.example",
            client_id="c",
            auth_login_url="https://lms.example/a",
            auth_token_url="https://lms.example/t",
            key_set_url="https://lms.example/k",
            actor_format="account",
        )
        session.add(platform)
        session.flush()
        due = datetime(2027, 1, 1, tzinfo=UTC)
        for status in (GoalStatus.ACTIVE, GoalStatus.ACTIVE, GoalStatus.ACHIEVED):
            session.add(
                Goal(
                    platform_id=platform.id,
                    sub="ana",
                    title="t",
                    metric_key="self_reported",
                    metric_params={},
                    target=1,
                    due_at=due,
                    status=status,
                )
            )
        session.add(
            GoalSourceCursor(
                source="outbox",
                position="42",
                processed=40,
                malformed=2,
                gaps={"17": (due - timedelta(days=1)).isoformat()},
            )
        )
        session.add(
            GoalSourceCursor(
                source="lrs:videos",
                position="",
                processed=0,
                malformed=0,
                last_error="2026-11-30T12:00:00: cannot read from LRS: refused",
            )
        )
    engine.dispose()
    return run


def test_status_lists_each_source_and_the_goals_by_status(cxa: Cxa) -> None:
    result = cxa("goals", "status")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "outbox: at 42, 40 processed, 2 malformed, 1 open gaps"
    assert lines[1].startswith("lrs:videos: at (not started), 0 processed")
    assert "cannot read from LRS: refused" in lines[2]
    assert lines[-1] == "2 active, 0 paused, 1 achieved, 0 missed, 0 abandoned"


def test_status_as_json(cxa: Cxa) -> None:
    result = cxa("goals", "status", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["source"] for s in data["sources"]] == ["outbox", "lrs:videos"]
    assert data["sources"][0]["open_gaps"] == 1
    assert data["goals"]["active"] == 2


def test_a_bad_goal_source_setting_is_refused_with_its_name(cxa: Cxa) -> None:
    result = cxa("goals", "status", CXA_GOAL_SOURCES='[{"name": "x"}]')
    assert result.exit_code != 0
    assert "CXA_GOAL_SOURCES" in result.output
    assert "Traceback" not in result.output
