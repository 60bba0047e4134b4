"""The delivery doorbell (docs/decisions/0022) against real Redis, PostgreSQL, a real Celery
worker and a real Ralph: a commit is delivered by the worker's loop without any delivery
task, a lost ring is caught by the sweep, and a ring wakes one waiter, not all."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import func, select

from lti_tool.app import create_app
from lti_tool.demo.ralph import RalphServer
from lti_tool.doorbell import Doorbell, doorbell_key
from lti_tool.queue import TASK_COUNT_GOAL_PROGRESS, TASK_DELIVER_OUTBOX
from lti_tool.recording import record_event
from lti_tool.store.goal_ledger import OUTBOX_SOURCE
from lti_tool.store.goals import GoalSourceCursor
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import OutboxRow, OutboxStatus
from lti_tool.web.db import commit, db
from tests.conftest import embedded_settings
from tests.fixtures.stack import redis_url_or_embedded
from tests.integration.delivery_support import DeliveryStack, delivery_stack
from tests.integration.test_delivery import assert_exactly_once
from tests.unit.xapi.catalogue import STATEMENT_KINDS

pytestmark = pytest.mark.integration


def test_a_commit_rings_and_the_workers_loop_delivers_without_a_task(
    tmp_path: Path, ralph: RalphServer
) -> None:
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph, doorbell=True) as stack:
        # No beat and an hour between sweeps: only the doorbell can deliver within this test.
        worker = stack.start_worker(CXA_OUTBOX_SWEEP_SECONDS="3600")
        sent: list[str] = []
        original = stack.services.celery.send_task

        def spy(name: str, **kwargs: Any) -> Any:
            sent.append(name)
            return original(name, **kwargs)

        stack.services.celery.send_task = spy  # type: ignore[method-assign]
        app = create_app(services=stack.services)
        # The loop builds its engine on its first round: let one statement pay for that.
        _commit_through_web(app, stack)
        stack.wait_settled(timeout=30)

        started = time.monotonic()
        for _ in range(5):
            _commit_through_web(app, stack)
        stack.wait_until(
            lambda: stack.counts() == {OutboxStatus.SENT: 6}, "the doorbell's delivery", 10
        )
        elapsed = time.monotonic() - started

        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)
        assert elapsed < 5.0, f"delivered only after {elapsed:.1f}s"
        # Goal progress is counted by the loop too, within its once-a-second interval.
        stack.wait_until(lambda: _goal_cursor(stack) >= _last_outbox_id(stack), "goal count", 10)
        ran = _tasks_run(stack, worker.process.pid)
        # Neither the web side sent a task for either, nor did any run.
        assert not {TASK_DELIVER_OUTBOX, TASK_COUNT_GOAL_PROGRESS} & set(sent)
        assert ran.get(TASK_DELIVER_OUTBOX, 0) == ran.get(TASK_COUNT_GOAL_PROGRESS, 0) == 0
        # The loop's thread ends with the worker: a warm shutdown, not the SIGKILL that
        # stop() falls back to after 30 seconds.
        started = time.monotonic()
        worker.stop()
        assert worker.process.returncode == 0
        assert time.monotonic() - started < 15


def test_a_lost_ring_is_caught_by_the_sweep(tmp_path: Path, ralph: RalphServer) -> None:
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph, doorbell=True) as stack:
        worker = stack.start_worker()  # with beat, sweeping every second
        stack.record(3, kick=False)  # committed, never rung: as if the ring were lost
        stack.wait_settled(timeout=60)

        assert stack.counts() == {OutboxStatus.SENT: 3}
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)
        # Delivered by the sweep's tasks: the loop only ever runs when rung.
        assert _tasks_run(stack, worker.process.pid).get(TASK_DELIVER_OUTBOX, 0) >= 1


def test_a_web_commit_succeeds_and_the_sweep_delivers_when_the_doorbell_is_unreachable(
    tmp_path: Path, ralph: RalphServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lti_tool.web import db as web_db

    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    with delivery_stack(tmp_path, ralph.config.endpoint, ralph, doorbell=True) as stack:
        stack.start_worker()
        # The web process's doorbell points at a port nobody listens on; the worker's is fine.
        producer = stack.services.settings.with_overrides(state_store_url="redis://127.0.0.1:1/0")
        monkeypatch.setattr(stack.services, "settings", producer)
        app = create_app(services=stack.services)
        _commit_through_web(app, stack)  # must not raise: the learner's request succeeds

        assert web_db._kick_paused_until > time.monotonic()  # later commits skip the ring
        stack.wait_settled(timeout=60)
        assert_exactly_once(stack.lrs_ids(ralph), stack.recorded)


def test_one_ring_wakes_exactly_one_of_several_waiting_workers(tmp_path: Path) -> None:
    url = _redis(tmp_path)
    settings = embedded_settings(tmp_path, state_store_url=url)
    woken: list[bool] = []
    waiters = [Doorbell.for_settings(settings, wait_timeout=3.0) for _ in range(3)]
    threads = [threading.Thread(target=lambda b=b: woken.append(b.wait())) for b in waiters]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # all three blocked in BLPOP
    ringer = Doorbell.for_settings(settings)
    ringer.ring()
    for thread in threads:
        thread.join(10)
    for bell in (*waiters, ringer):
        bell.close()
    assert sorted(woken) == [False, False, True]


def test_the_ring_list_stays_at_one_element_however_often_it_rings(tmp_path: Path) -> None:
    url = _redis(tmp_path)
    settings = embedded_settings(tmp_path, state_store_url=url)
    bell = Doorbell.for_settings(settings, wait_timeout=1.0)
    client = redis.Redis.from_url(url)
    try:
        for _ in range(50):
            bell.ring()
        assert client.llen(doorbell_key(settings)) == 1
        assert bell.wait(0.1) is True
        assert bell.wait(0.1) is False  # one element, so one wake-up
        bell.ring()
        bell.silence()
        assert client.exists(doorbell_key(settings)) == 0
    finally:
        client.delete(doorbell_key(settings))
        client.close()
        bell.close()


def _redis(tmp_path: Path) -> str:
    url = redis_url_or_embedded()
    if url is None:
        pytest.fail("the delivery doorbell needs Redis (CXA_TEST_REDIS_URL)", pytrace=False)
    return url


def _commit_through_web(app: Flask, stack: DeliveryStack) -> None:
    event = replace(
        STATEMENT_KINDS["launched"],
        source_id=f"it:{uuid.uuid4()}",
        learner=stack.learner,
        timestamp=datetime.now(UTC),
    )
    with app.app_context():
        record_event(db(), event, owner=LearnerKey(1, event.learner.sub))
        commit()  # the web side's commit: rings the doorbell
    with stack.services.sessions() as session:
        stack.recorded.append(
            session.scalars(select(OutboxRow.statement_id).order_by(OutboxRow.id.desc())).first()
            or ""
        )


def _tasks_run(stack: DeliveryStack, pid: int) -> dict[str, Any]:
    """Tasks the worker ran so far, by name (Celery's remote-control statistics)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        replies = stack.services.celery.control.inspect(timeout=2.0).stats() or {}
        for stats in replies.values():
            if stats.get("pid") == pid:
                return dict(stats.get("total", {}))
        time.sleep(0.5)
    pytest.fail("the worker did not answer a stats request")


def _goal_cursor(stack: DeliveryStack) -> int:
    with stack.services.sessions() as session:
        position = session.scalar(
            select(GoalSourceCursor.position).where(GoalSourceCursor.source == OUTBOX_SOURCE)
        )
    return int(position or 0)


def _last_outbox_id(stack: DeliveryStack) -> int:
    with stack.services.sessions() as session:
        return int(session.scalar(select(func.max(OutboxRow.id))) or 0)
