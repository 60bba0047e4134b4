"""The Celery tasks as the worker runs them (eagerly here): fan-out to one task per
destination, and a down LRS that does not stop the others."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from celery import Celery

from lti_tool.app import create_app
from lti_tool.config import LRSDestination, Settings
from lti_tool.queue import TASK_DELIVER_OUTBOX, TASK_SWEEP, make_celery
from tests.conftest import embedded_settings
from tests.unit.workers.conftest import FakeLRS, Outbox, statement
from workers import tasks


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(
        tmp_path,
        lrs_destinations=(
            LRSDestination(name="north", endpoint="https://north.lrs.example/xAPI/"),
            LRSDestination(name="south", endpoint="https://south.lrs.example/xAPI/", batch_size=2),
        ),
    )


@pytest.fixture
def worker(settings: Settings, services: Any) -> Iterator[Celery]:
    app = make_celery(settings)
    # Tasks run inline, follow-ups included: what a worker would do, without a broker.
    app.conf.task_always_eager = True
    runtime = tasks.register(app, settings)
    # As at worker start: the configured destinations replace the seeded "default".
    runtime.sync_destinations()
    yield app
    runtime.close()


@pytest.fixture
def north(http: Any) -> FakeLRS:
    fake = FakeLRS("https://north.lrs.example/xAPI/")
    http.add_callback("POST", fake.statements_url, callback=fake.handle)
    http.add_callback("GET", fake.statements_url, callback=fake.handle_get)
    return fake


@pytest.fixture
def south(http: Any) -> FakeLRS:
    fake = FakeLRS("https://south.lrs.example/xAPI/")
    http.add_callback("POST", fake.statements_url, callback=fake.handle)
    http.add_callback("GET", fake.statements_url, callback=fake.handle_get)
    return fake


def test_a_kick_without_destination_delivers_every_destination(
    worker: Celery, queue: Outbox, north: FakeLRS, south: FakeLRS
) -> None:
    queue.record(*(statement(n) for n in range(3)))

    worker.tasks[TASK_DELIVER_OUTBOX].delay()

    expected = [statement(n)["id"] for n in range(3)]
    assert north.stored_ids() == expected and south.stored_ids() == expected
    # Each destination batches by its own size.
    assert [len(p) for p in north.posts] == [3]
    assert [len(p) for p in south.posts] == [2, 1]
    assert queue.rows("default") == []


def test_the_sweep_delivers_what_a_lost_kick_left_behind_even_with_one_lrs_down(
    worker: Celery, queue: Outbox, north: FakeLRS, south: FakeLRS
) -> None:
    north.down = requests.ConnectionError("connection refused")
    queue.record(statement(1), statement(2))

    worker.tasks[TASK_SWEEP].delay()

    assert south.stored_ids() == [statement(1)["id"], statement(2)["id"]]
    assert north.stored_ids() == []
    assert queue.by_status("north") == {"pending": 2}
    assert queue.state("north").consecutive_failures == 1


def test_an_unconfigured_destination_is_left_alone(worker: Celery) -> None:
    result = worker.tasks[TASK_DELIVER_OUTBOX].delay(destination="gone").get()

    assert result == {"destination": "gone", "configured": False}


def test_the_web_fans_out_to_the_configured_destinations_before_any_worker_ran(
    settings: Settings, services: Any, queue: Outbox
) -> None:
    # The web process starts; no worker has run a task yet (nothing synced the table).
    create_app(services=services)
    queue.record(statement(1))

    assert [r.statement_id for r in queue.rows("north")] == [statement(1)["id"]]
    assert [r.statement_id for r in queue.rows("south")] == [statement(1)["id"]]


def test_the_web_never_disables_what_the_workers_deliver_to(
    tmp_path: Path, services: Any, queue: Outbox
) -> None:
    queue.use_destinations("north")
    # A web process started without the LRS settings (they are the workers' business).
    create_app(settings=embedded_settings(tmp_path), services=services)
    queue.record(statement(1))

    assert len(queue.rows("north")) == 1
