"""The web side's delivery kick: a dead broker is tried once, then left alone for a while."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lti_tool.app import create_app
from lti_tool.config import LRSDestination
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
