"""The goal tasks as the worker runs them (eagerly), their beat entries, and the web's kick
after a commit that queued statements."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery

from lti_tool.app import create_app
from lti_tool.config import LRSDestination, Settings
from lti_tool.queue import (
    TASK_COUNT_GOAL_PROGRESS,
    TASK_MARK_MISSED_GOALS,
    TASK_PULL_GOAL_SOURCES,
    make_celery,
)
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services
from lti_tool.store.goals import GoalStatus
from lti_tool.web import db as web_db
from tests.conftest import embedded_settings
from tests.unit.workers.goal_world import START, GoalWorld
from workers import tasks


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A source nobody listens on: the pull fails fast and must leave everything in place.
    return embedded_settings(
        tmp_path,
        goal_sources=(LRSDestination(name="elsewhere", endpoint="http://127.0.0.1:9/xAPI/"),),
    )


@pytest.fixture
def worker(settings: Settings, services: Services) -> Iterator[Celery]:
    app = make_celery(settings)
    app.conf.task_always_eager = True
    runtime = tasks.register(app, settings)
    yield app
    runtime.close()


def test_goal_tasks_are_registered_and_scheduled(worker: Celery) -> None:
    assert {TASK_COUNT_GOAL_PROGRESS, TASK_PULL_GOAL_SOURCES, TASK_MARK_MISSED_GOALS} <= set(
        worker.tasks
    )
    scheduled = {entry["task"] for entry in worker.conf.beat_schedule.values()}
    assert {TASK_COUNT_GOAL_PROGRESS, TASK_PULL_GOAL_SOURCES, TASK_MARK_MISSED_GOALS} <= scheduled


def test_count_task_counts_and_missed_task_marks(
    worker: Celery, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[str] = []
    monkeypatch.setattr(worker, "send_task", lambda name, **_: sent.append(name))
    world = GoalWorld(services)
    world.add_platform()
    world.add_learner("ana")
    counted = world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 3)
    overdue = world.add_goal(
        "ana", "practice_logged", {"kind": "team-tip"}, 3, due_at=START + timedelta(days=1)
    )
    world.practice("ana", "kb-article")

    report: Any = worker.tasks[TASK_COUNT_GOAL_PROGRESS].apply().get()
    assert report["counted"] == 1 and report["progressed"] == 1
    assert world.goal(counted).progress == 1.0
    assert sent == ["cxa.deliver_outbox"]  # the progressed statement goes out like any other

    assert worker.tasks[TASK_MARK_MISSED_GOALS].apply().get() == {"missed": 1}
    assert world.goal(overdue).status is GoalStatus.MISSED


def test_an_unreachable_goal_source_reports_and_moves_nothing(worker: Celery) -> None:
    reports: Any = worker.tasks[TASK_PULL_GOAL_SOURCES].apply().get()
    assert reports[0]["source"] == "lrs:elsewhere"
    assert reports[0]["error"] and reports[0]["processed"] == 0


def test_a_commit_that_queued_statements_kicks_the_goal_engine(
    settings: Settings, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(services=services)
    calls: list[str] = []
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    monkeypatch.setattr(services.celery, "send_task", lambda name, **_: calls.append(name))
    with app.app_context():
        web_db.db().info[OUTBOX_TOUCHED] = True
        web_db.commit()
        web_db.flush_kicks(app)
    assert TASK_COUNT_GOAL_PROGRESS in calls
    assert "cxa.deliver_outbox" in calls
