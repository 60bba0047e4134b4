"""Launches against platforms whose key set misbehaves: huge, slow, moved or down.

The tool runs in-process; each platform key set is served over real loopback HTTP. A
launch must be refused with the usual page, quickly, and a flood of launches must cost
the platform at most one key set request per interval.
"""

from __future__ import annotations

import html
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, jsonify, redirect, request
from flask.testing import FlaskClient

from lti_tool.app import create_app
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.platforms import add_platform
from tests.conftest import embedded_settings
from tests.fixtures.platform import TestPlatform
from tests.fixtures.servers import serve

pytestmark = pytest.mark.integration

DRIP_SECONDS = 20.0
BASE = "https://localhost"


class KeySetHost:
    """Serves the test platform's real key set, and broken variants of it."""

    def __init__(self, platform: TestPlatform) -> None:
        self.hits: dict[str, int] = {}
        self.app = Flask("key-set-host")
        app = self.app

        @app.before_request
        def count() -> None:
            self.hits[request.path] = self.hits.get(request.path, 0) + 1

        @app.get("/jwks")
        def jwks() -> Any:
            return jsonify({"keys": platform.published})

        @app.get("/moved")
        def moved() -> Any:
            return redirect("/jwks", code=301)

        @app.get("/huge")
        def huge() -> Any:
            # The real keys, padded to 1 MB with junk ones: a 42 MB set was once cached.
            junk = [{"kid": f"junk-{i}", "kty": "oct", "k": "A" * 1000} for i in range(1000)]
            return jsonify({"keys": [*platform.published, *junk]})

        @app.get("/drip")
        def drip() -> Any:
            def body() -> Iterator[bytes]:
                yield b'{"keys": ['
                ends = time.monotonic() + DRIP_SECONDS
                while time.monotonic() < ends:
                    time.sleep(0.1)
                    yield b" "
                yield b"]}"

            return Response(body(), mimetype="application/json")

        @app.get("/down")
        def down() -> Any:
            return Response("maintenance", status=503)


@pytest.fixture
def key_sets(platform: TestPlatform) -> Iterator[tuple[KeySetHost, str]]:
    host = KeySetHost(platform)
    with serve(host.app) as base_url:
        yield host, base_url


def register(services: Services, platform: TestPlatform, key_set_url: str) -> None:
    with transaction(services.sessions) as session:
        add_platform(session, platform.spec(key_set_url=key_set_url))


def refused_with(response: Any, words: str) -> None:
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400, text
    assert words in text


def test_the_real_key_set_is_fetched_from_its_host(
    client: FlaskClient,
    services: Services,
    platform: TestPlatform,
    key_sets: tuple[KeySetHost, str],
) -> None:
    host, base_url = key_sets
    register(services, platform, base_url + "/jwks")

    assert platform.launch(client).status_code == 303
    assert host.hits == {"/jwks": 1}


def test_a_key_set_over_the_size_cap_is_refused(
    client: FlaskClient,
    services: Services,
    platform: TestPlatform,
    key_sets: tuple[KeySetHost, str],
) -> None:
    _, base_url = key_sets
    register(services, platform, base_url + "/huge")

    refused_with(platform.launch(client), "answered with more than 256 KB")


def test_a_redirecting_key_set_url_is_refused(
    client: FlaskClient,
    services: Services,
    platform: TestPlatform,
    key_sets: tuple[KeySetHost, str],
) -> None:
    host, base_url = key_sets
    register(services, platform, base_url + "/moved")

    refused_with(platform.launch(client), "answered with a redirect (HTTP 301 to ")
    assert host.hits == {"/moved": 1}


def test_a_dripping_key_set_holds_a_launch_no_longer_than_the_deadline(
    client: FlaskClient,
    services: Services,
    platform: TestPlatform,
    key_sets: tuple[KeySetHost, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("lti_tool.lti.platform_http.DEADLINE_SECONDS", 1.0)
    _, base_url = key_sets
    register(services, platform, base_url + "/drip")
    started = time.monotonic()

    response = platform.launch(client)

    assert time.monotonic() - started < DRIP_SECONDS / 2
    refused_with(response, "did not answer in full within 1 s")


def test_a_flood_of_launches_while_the_platform_is_down_costs_one_fetch(
    client: FlaskClient,
    services: Services,
    platform: TestPlatform,
    key_sets: tuple[KeySetHost, str],
) -> None:
    host, base_url = key_sets
    register(services, platform, base_url + "/down")

    responses = [platform.launch(client, sub=f"forged-{n}") for n in range(20)]

    assert host.hits == {"/down": 1}
    for response in responses:
        refused_with(response, "answered HTTP 503")
        refused_with(response, "tried again at most every 10 s")


def test_the_platform_is_asked_again_after_the_interval(
    client: FlaskClient,
    services: Services,
    platform: TestPlatform,
    key_sets: tuple[KeySetHost, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, base_url = key_sets
    register(services, platform, base_url + "/down")
    refused_with(platform.launch(client), "answered HTTP 503")

    # Once the remembered failure has run out, the next launch asks the platform again.
    monkeypatch.setattr("lti_tool.lti.jwks.REFETCH_INTERVAL", 0)
    refused_with(platform.launch(client), "answered HTTP 503")

    assert host.hits == {"/down": 2}


def test_production_refuses_to_fetch_a_key_set_inside_the_network(
    tmp_path: Path, platform: TestPlatform, key_sets: tuple[KeySetHost, str]
) -> None:
    # Registered while the name pointed elsewhere (or before this check existed): the
    # fetch checks the address again.
    host, base_url = key_sets
    settings = embedded_settings(
        tmp_path,
        base_url="https://localhost",
        secret_key=secrets.token_urlsafe(32),
        key_encryption_secret=secrets.token_urlsafe(32),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    try:
        register(services, platform, base_url + "/jwks")
        client = create_app(services=services).test_client()
        redirect = platform.login(client, target_link_uri="https://localhost/lti/launch")
        token = platform.sign(platform.claims(redirect.nonce))

        response = client.post(
            "/lti/launch", data={"id_token": token, "state": redirect.state}, base_url=BASE
        )

        refused_with(response, "a loopback address")
        assert host.hits == {}
    finally:
        services.close()
