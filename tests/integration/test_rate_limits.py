"""Rate limits on /lti/login and /lti/launch, per client address and per platform.

Counters are in Redis when the state store is (production), in memory otherwise. Each test
uses client addresses of its own, so runs sharing one Redis never count each other.
"""

from __future__ import annotations

import html
import random
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.platforms import add_platform
from tests.fixtures.platform import TestPlatform
from tests.fixtures.stack import redis_url_or_embedded

pytestmark = pytest.mark.integration


def _address() -> str:
    return "10.{}.{}.{}".format(*(random.randint(1, 254) for _ in range(3)))


def _app(settings: Settings, **changes: Any) -> Iterator[Flask]:
    built = Services.build(settings.with_overrides(**changes))
    yield create_app(services=built)
    built.close()


@pytest.fixture
def limited(settings: Settings, services: Services) -> Iterator[Flask]:
    yield from _app(settings, rate_limit_per_client="3/minute")


def _login(client: FlaskClient, platform: TestPlatform, address: str) -> Any:
    return client.get(
        "/lti/login",
        query_string={
            "iss": platform.issuer,
            "login_hint": "x",
            "client_id": platform.client_id,
            "target_link_uri": "http://localhost/lti/launch",
        },
        environ_base={"REMOTE_ADDR": address},
    )


def _too_many(response: Any) -> None:
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 429, text
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many requests" in text and "reference" in text


def test_one_address_is_limited_and_others_are_not(
    limited: Flask, registered: TestPlatform
) -> None:
    client, address = limited.test_client(), _address()
    for _ in range(3):
        assert _login(client, registered, address).status_code == 302
    _too_many(_login(client, registered, address))
    assert _login(client, registered, _address()).status_code == 302


def test_the_launch_url_is_limited_too(limited: Flask, registered: TestPlatform) -> None:
    client, address = limited.test_client(), _address()
    for _ in range(3):
        response = client.post(
            "/lti/launch", data={"state": "x"}, environ_base={"REMOTE_ADDR": address}
        )
        assert response.status_code == 400
    _too_many(
        client.post("/lti/launch", data={"state": "x"}, environ_base={"REMOTE_ADDR": address})
    )


@pytest.fixture
def per_platform(settings: Settings, services: Services) -> Iterator[Flask]:
    yield from _app(settings, rate_limit_per_platform="3/minute")


def test_one_platform_is_limited_whatever_the_address(
    per_platform: Flask, registered: TestPlatform, services: Services
) -> None:
    client = per_platform.test_client()
    for _ in range(3):
        assert _login(client, registered, _address()).status_code == 302
    _too_many(_login(client, registered, _address()))
    # Another platform has its own budget.
    with transaction(services.sessions) as session:
        add_platform(session, registered.spec(issuer="https://other-lms.example"))
    other = TestPlatform(base_url="https://other-lms.example", client_id=registered.client_id)
    assert _login(client, other, _address()).status_code == 302


def test_made_up_issuers_share_one_budget(per_platform: Flask, registered: TestPlatform) -> None:
    client = per_platform.test_client()
    for n in range(3):
        fake = TestPlatform(base_url=f"https://fake-{n}.example")
        assert _login(client, fake, _address()).status_code == 400
    _too_many(_login(client, TestPlatform(base_url="https://fake-9.example"), _address()))
    assert _login(client, registered, _address()).status_code == 302


def test_counters_are_shared_between_processes_through_redis(
    settings: Settings, services: Services, registered: TestPlatform
) -> None:
    # Two app instances stand for two gunicorn workers: with Redis, one budget for both.
    redis_url = redis_url_or_embedded()
    changes: dict[str, Any] = {"rate_limit_per_client": "3/minute"}
    if redis_url:
        changes["state_store_url"] = redis_url
    first = _app(settings, **changes)
    second = _app(settings, **changes)
    apps = [next(first), next(second)] if redis_url else [next(first)] * 2
    address = _address()
    try:
        assert _login(apps[0].test_client(), registered, address).status_code == 302
        assert _login(apps[1].test_client(), registered, address).status_code == 302
        assert _login(apps[0].test_client(), registered, address).status_code == 302
        _too_many(_login(apps[1].test_client(), registered, address))
    finally:
        for generator in (first, second):
            generator.close()


def _login_via_proxy(client: FlaskClient, platform: TestPlatform, forwarded: str) -> Any:
    return client.get(
        "/lti/login",
        query_string={
            "iss": platform.issuer,
            "login_hint": "x",
            "client_id": platform.client_id,
            "target_link_uri": "http://localhost/lti/launch",
        },
        headers={"X-Forwarded-For": forwarded},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )


@pytest.mark.parametrize("hops", [0, 1])
def test_the_client_address_behind_a_proxy(
    settings: Settings, services: Services, registered: TestPlatform, hops: int
) -> None:
    # Behind nginx (CXA_PROXY_HOPS=1) each learner has a budget of their own; without it a
    # forged X-Forwarded-For cannot mint fresh budgets: everyone is the proxy's address.
    app_of = _app(settings, rate_limit_per_client="2/minute", proxy_hops=hops)
    client = next(app_of).test_client()
    try:
        for _ in range(2):
            assert _login_via_proxy(client, registered, _address()).status_code == 302
        third = _login_via_proxy(client, registered, _address())
        assert third.status_code == (302 if hops else 429)
    finally:
        app_of.close()
