"""The web side's delivery kick: a dead broker is tried once, then left alone for a while."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lti_tool.app import create_app
from lti_tool.config import LRSDestination
from lti_tool.doorbell import Doorbell
from lti_tool.recording import OUTBOX_TOUCHED
from lti_tool.services import Services
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade
from lti_tool.web import db as web_db
from tests.conftest import embedded_settings


def test_a_dead_broker_pauses_kicks_instead_of_stalling_each_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1, so every connection attempt is refused.
    settings = embedded_settings(tmp_path, broker_url="redis://127.0.0.1:1/0")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    try:
        app = create_app(services=services)
        with app.app_context():
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
    finally:
        services.close()


def test_a_kick_goes_straight_to_each_configured_destination(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = embedded_settings(
        tmp_path,
        lrs_endpoint="http://127.0.0.1:9/xAPI",
        lrs_destinations=(
            LRSDestination(name="archive", endpoint="http://127.0.0.1:9/other/xAPI"),
        ),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    try:
        app = create_app(services=services)
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
    finally:
        services.close()


def test_with_a_redis_state_store_a_kick_rings_the_doorbell_instead_of_sending_a_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: the state store is never used here, the doorbell is faked.
    settings = embedded_settings(tmp_path, state_store_url="redis://127.0.0.1:1/0")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    rings: list[str] = []
    monkeypatch.setattr(Doorbell, "ring", lambda bell: rings.append(bell.key))
    try:
        app = create_app(services=services)
        tasks: list[str] = []
        monkeypatch.setattr(services.celery, "send_task", lambda name, **_: tasks.append(name))
        with app.app_context():
            for _ in range(3):
                web_db.kick_delivery()
        web_db.flush_kicks(app)
        assert rings == [f"cxa:doorbell:{settings.task_queue}"] * 2  # leading and trailing
        assert tasks == []
    finally:
        services.close()


def test_an_unreachable_doorbell_pauses_rings_and_never_fails_the_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = embedded_settings(tmp_path, state_store_url="redis://127.0.0.1:1/0")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    tried: list[str] = []
    real_ring = Doorbell.ring

    def ring(bell: Doorbell) -> None:
        tried.append(bell.key)
        real_ring(bell)  # refused: nothing listens on port 1

    monkeypatch.setattr(Doorbell, "ring", ring)
    try:
        app = create_app(services=services)
        with app.app_context():
            web_db.kick_delivery()  # must not raise
            assert web_db._kick_paused_until > time.monotonic()
            for _ in range(5):
                web_db.kick_delivery()
            web_db.flush_kicks(app)
        assert len(tried) == 1  # paused: Redis is not even tried again
    finally:
        services.close()


@pytest.mark.parametrize("redis_state", [True, False])
def test_a_commit_sends_the_goal_kick_only_without_the_doorbell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, redis_state: bool
) -> None:
    # With the doorbell, the worker's loop counts goals after the delivery it is rung for.
    store = "redis://127.0.0.1:1/0" if redis_state else ""
    settings = embedded_settings(tmp_path, state_store_url=store)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    monkeypatch.setattr(web_db, "_kick_paused_until", 0.0)
    monkeypatch.setattr(Doorbell, "ring", lambda bell: None)
    try:
        app = create_app(services=services)
        tasks: list[str] = []
        monkeypatch.setattr(services.celery, "send_task", lambda name, **_: tasks.append(name))
        with app.app_context():
            web_db.db().info[OUTBOX_TOUCHED] = True  # as recording a statement marks it
            web_db.commit()
        web_db.flush_kicks(app)
        expected = [] if redis_state else ["cxa.deliver_outbox", "cxa.count_goal_progress"]
        assert sorted(tasks) == sorted(expected)
    finally:
        services.close()
