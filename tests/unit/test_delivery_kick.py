"""The web side's delivery kick: a dead broker is tried once, then left alone for a while."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from lti_tool.app import create_app
from lti_tool.config import LRSDestination
from lti_tool.doorbell import Doorbell
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade
from lti_tool.web import db as web_db
from tests.conftest import embedded_settings


@contextmanager
def kicking_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any
) -> Iterator[tuple[Flask, Services]]:
    """The app on a fresh embedded database with ``overrides``, and this process's kick
    pause cleared (it is module state, shared by every test)."""
    settings = embedded_settings(tmp_path, **overrides)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    try:
        yield create_app(services=services), services
    finally:
        services.close()


def test_a_dead_broker_pauses_kicks_instead_of_stalling_each_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1, so every connection attempt is refused.
    with (
        kicking_app(tmp_path, monkeypatch, broker_url="redis://127.0.0.1:1/0") as (
            app,
            services,
        ),
        app.app_context(),
    ):
        web_db.kick_delivery()  # fails, and pauses further kicks
        assert web_db._kick_paused_until > time.monotonic()
        calls: list[str] = []
        monkeypatch.setattr(services.celery, "send_task", lambda name, **_: calls.append(name))
        for _ in range(5):
            web_db.kick_delivery()
        web_db.flush_kicks(app)  # the coalesced trailing kick, sent now
        assert calls == []  # paused: the broker is not even tried
        monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
        web_db.kick_delivery()
        web_db.flush_kicks(app)
        assert calls == ["cxa.deliver_outbox"]


def test_a_kick_goes_straight_to_each_configured_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = LRSDestination(name="archive", endpoint="http://127.0.0.1:9/other/xAPI")
    with kicking_app(
        tmp_path,
        monkeypatch,
        lrs_endpoint="http://127.0.0.1:9/xAPI",
        lrs_destinations=(archive,),
    ) as (app, services):
        calls: list[tuple[str, object]] = []
        monkeypatch.setattr(
            services.celery, "send_task", lambda name, **kw: calls.append((name, kw["kwargs"]))
        )
        with app.app_context():
            web_db.kick_delivery()
        assert calls == [
            ("cxa.deliver_outbox", {"destination": "default"}),
            ("cxa.deliver_outbox", {"destination": "archive"}),
        ]


def test_with_a_redis_state_store_a_kick_rings_the_doorbell_instead_of_sending_a_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: the state store is never used here, the doorbell is faked.
    rings: list[str] = []
    monkeypatch.setattr(Doorbell, "ring", lambda bell: rings.append(bell.key))
    with kicking_app(tmp_path, monkeypatch, state_store_url="redis://127.0.0.1:1/0") as (
        app,
        services,
    ):
        tasks: list[str] = []
        monkeypatch.setattr(services.celery, "send_task", lambda name, **_: tasks.append(name))
        with app.app_context():
            for _ in range(3):
                web_db.kick_delivery()
        web_db.flush_kicks(app)
        queue = services.settings.task_queue
        assert rings == [f"cxa:doorbell:{queue}"] * 2  # leading and trailing
        assert tasks == []


def test_an_unreachable_doorbell_pauses_rings_and_never_fails_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tried: list[str] = []
    real_ring = Doorbell.ring

    def ring(bell: Doorbell) -> None:
        tried.append(bell.key)
        real_ring(bell)  # refused: nothing listens on port 1

    monkeypatch.setattr(Doorbell, "ring", ring)
    with kicking_app(tmp_path, monkeypatch, state_store_url="redis://127.0.0.1:1/0") as (
        app,
        _,
    ):
        with app.app_context():
            web_db.kick_delivery()  # must not raise
            assert web_db._kick_paused_until > time.monotonic()
            for _ in range(5):
                web_db.kick_delivery()
            web_db.flush_kicks(app)
        assert len(tried) == 1  # paused: Redis is not even tried again


@pytest.mark.parametrize("redis_state", [True, False])
def test_a_commit_sends_the_goal_kick_only_without_the_doorbell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_state: bool
) -> None:
    # With the doorbell, the worker's loop counts goals after the delivery it is rung for.
    store = "redis://127.0.0.1:1/0" if redis_state else ""
    monkeypatch.setattr(Doorbell, "ring", lambda bell: None)
    with kicking_app(tmp_path, monkeypatch, state_store_url=store) as (app, services):
        tasks: list[str] = []
        monkeypatch.setattr(services.celery, "send_task", lambda name, **_: tasks.append(name))
        with app.app_context():
            web_db.db().info[OUTBOX_TOUCHED] = True  # as recording a statement marks it
            web_db.commit()
        web_db.flush_kicks(app)
        expected = [] if redis_state else ["cxa.deliver_outbox", "cxa.count_goal_progress"]
        assert sorted(tasks) == sorted(expected)
