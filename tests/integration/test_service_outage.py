"""A database or Redis that is down or silent costs a request about a second, then a 503.

The endpoints are real sockets on loopback: a port nobody listens on (refused at once) and
a listener that accepts connections but never says a word (the hard case: only our
timeouts end the wait).
"""

from __future__ import annotations

import html
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.app import create_app
from lti_tool.services import Services
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.platforms import add_platform
from tests.conftest import embedded_settings
from tests.fixtures.platform import TestPlatform

pytestmark = pytest.mark.integration

# Longest a request may take against a silent service: our timeouts (1 s for Redis, libpq's
# 2 s floor for PostgreSQL) plus slack for a loaded test machine.
BOUND_SECONDS = 6.0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A listener whose backlog takes connections that are never accepted or answered."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _timed(
    app: Flask, method: str, path: str, client: FlaskClient | None = None, **kwargs: Any
) -> tuple[Any, float]:
    """The response and its duration; fails (instead of hanging) past BOUND_SECONDS."""
    outcome: list[Any] = []
    browser = client or app.test_client()

    def run() -> None:
        outcome.append(getattr(browser, method)(path, **kwargs))

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(BOUND_SECONDS)
    elapsed = time.monotonic() - started
    assert outcome, f"{method.upper()} {path} still waiting after {BOUND_SECONDS} s"
    return outcome[0], elapsed


def _unavailable(response: Any) -> None:
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 503, text
    assert int(response.headers["Retry-After"]) > 0
    assert "briefly unavailable" in text and "reference" in text


def _login_query(platform: TestPlatform) -> dict[str, str]:
    return {
        "iss": platform.issuer,
        "login_hint": "hint-1",
        "target_link_uri": "http://localhost/lti/launch",
        "client_id": platform.client_id,
    }


@pytest.fixture
def redis_app(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    port = request.getfixturevalue(request.param)
    settings = embedded_settings(tmp_path, state_store_url=f"redis://127.0.0.1:{port}/0")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    yield create_app(services=services)
    services.close()


@pytest.mark.parametrize("redis_app", ["silent_port", "closed_port"], indirect=True)
def test_redis_state_store_down_answers_503_within_a_bound(
    redis_app: Flask, platform: TestPlatform
) -> None:
    with transaction(redis_app.extensions["cxa"].sessions) as session:
        add_platform(session, platform.spec())
    response, elapsed = _timed(redis_app, "get", "/lti/login", query_string=_login_query(platform))
    _unavailable(response)
    # The state store gives up after about a second (it used to hold a launch 5 s).
    assert elapsed < 3.0


@pytest.mark.parametrize("port_fixture", ["silent_port", "closed_port"])
def test_database_down_during_a_launch_answers_503_within_a_bound(
    app: Flask,
    registered: TestPlatform,
    request: pytest.FixtureRequest,
    port_fixture: str,
) -> None:
    port = request.getfixturevalue(port_fixture)
    # One browser for login and launch: its state cookie takes it straight to validation.
    browser = app.test_client()
    redirect = registered.login(browser)
    token = registered.sign(registered.claims(redirect.nonce))
    # The tool started with its database; now that database stops answering.
    services: Services = app.extensions["cxa"]
    gone = make_engine(f"postgresql+psycopg://cxa@127.0.0.1:{port}/cxa")
    app.extensions["cxa"] = replace(services, engine=gone, sessions=make_session_factory(gone))
    try:
        launch, elapsed = _timed(
            app,
            "post",
            "/lti/launch",
            client=browser,
            data={"id_token": token, "state": redirect.state},
        )
        _unavailable(launch)
        assert elapsed < 4.0
        login, _ = _timed(app, "get", "/lti/login", query_string=_login_query(registered))
        _unavailable(login)
    finally:
        app.extensions["cxa"] = services
        gone.dispose()
