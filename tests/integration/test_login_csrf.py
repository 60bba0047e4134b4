"""Login CSRF: a launch is only accepted from the browser that started its login.

Each "browser" is its own Flask test client (its own cookie jar). The attacker logs in as
themselves on their machine and makes the victim's browser post the resulting id_token and
state; the victim's browser must be refused. Platform storage answers are what the tool's
check page (lti-storage.js) would post; tests/browser/ runs the real script in Chromium.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.app import create_app
from lti_tool.config import Settings
from lti_tool.services import Services
from lti_tool.store.models import Launch
from tests.fixtures.platform import LoginRedirect, TestPlatform, storage_attributes

pytestmark = pytest.mark.integration

OUR_ORIGIN = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
_INPUT = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')


def _launch_count(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Launch)) or 0


def _signed(platform: TestPlatform, login: LoginRedirect, sub: str = "attacker") -> str:
    return platform.sign(platform.claims(login.nonce, sub=sub))


def _check_page(client: FlaskClient, token: str, state: str) -> dict[str, Any]:
    """POST the platform's form_post; expect the check page, return its form and data-*."""
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert response.headers["Cache-Control"] == "no-store"
    fields = {name: html.unescape(value) for name, value in _INPUT.findall(page)}
    return {"fields": fields, "storage": storage_attributes(page)}


def _confirm(
    client: FlaskClient,
    fields: dict[str, str],
    headers: dict[str, str] | None = None,
    **storage: str,
) -> Any:
    return client.post(
        "/lti/launch/confirm", data={**fields, **storage}, headers=headers or OUR_ORIGIN
    )


def _refused(response: Any, services: Services, words: str) -> None:
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400, text
    assert words in text
    assert "/s/" not in response.headers.get("Location", "")
    assert _launch_count(services) == 0


@pytest.fixture
def victim(app: Flask) -> FlaskClient:
    return app.test_client()


def test_another_browser_cannot_finish_someone_elses_launch(
    client: FlaskClient, victim: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    attacker_login = registered.login(client)
    token = _signed(registered, attacker_login)

    # The attacker's page makes the victim's browser post the token: nothing is accepted
    # yet, the victim's browser gets the check page...
    check = _check_page(victim, token, attacker_login.state)
    assert _launch_count(services) == 0
    # ...which posts back from our origin; the browser keeps cookies but has none for
    # this login, so it is not the browser that started it.
    _refused(
        _confirm(victim, check["fields"], lti_storage="silent"),
        services,
        "does not belong to this browser",
    )


def test_the_browser_that_logged_in_lands_at_once(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    login = registered.login(client)
    response = client.post(
        "/lti/launch", data={"id_token": _signed(registered, login), "state": login.state}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "/s/" in response.headers["Location"]
    # The spent state's cookie is cleared.
    assert any(
        "cxa_lti_state_" in header and "Max-Age=0" in header
        for header in response.headers.getlist("Set-Cookie")
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://attacker.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-site"},
    ],
    ids=["foreign-origin", "opaque-origin", "cross-site", "same-site-not-same-origin"],
)
def test_the_check_step_cannot_be_posted_from_another_site(
    client: FlaskClient,
    victim: FlaskClient,
    registered: TestPlatform,
    services: Services,
    headers: dict[str, str],
) -> None:
    # Skipping the check page (whose probe cookie would betray the victim's browser) and
    # claiming "no storage, no cookies" straight from the attacker's page must not work.
    login = registered.login(client)
    fields = {"id_token": _signed(registered, login), "state": login.state}
    _refused(
        _confirm(victim, fields, headers, lti_storage="silent"),
        services,
        "must come from CX Academy's own page",
    )


def test_a_browser_without_cookies_or_storage_falls_back_to_the_server_state(
    app: Flask, registered: TestPlatform, services: Services
) -> None:
    # Safari in an LMS iframe without platform storage: nothing can be kept in the browser.
    cookieless = app.test_client(use_cookies=False)
    login = registered.login(cookieless)
    check = _check_page(cookieless, _signed(registered, login, sub="learner-1"), login.state)
    assert check["storage"]["mode"] == "submit"
    response = _confirm(cookieless, check["fields"], lti_storage="")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _launch_count(services) == 1


@pytest.fixture
def strict_app(settings: Settings, services: Services) -> Iterator[Flask]:
    # `services` first: it migrates the database this app shares.
    strict = Services.build(settings.with_overrides(launch_unbound_fallback=False))
    yield create_app(services=strict)
    strict.close()


def test_the_fallback_can_be_switched_off(
    strict_app: Flask, registered: TestPlatform, services: Services
) -> None:
    cookieless = strict_app.test_client(use_cookies=False)
    login = registered.login(cookieless)
    check = _check_page(cookieless, _signed(registered, login), login.state)
    _refused(
        _confirm(cookieless, check["fields"], lti_storage="silent"),
        services,
        "could not prove that it started this launch",
    )


def test_platform_storage_carries_the_state_between_login_and_launch(
    app: Flask, registered: TestPlatform, services: Services
) -> None:
    # Cookies off, so only platform storage can prove the browser.
    browser = app.test_client(use_cookies=False)
    login = registered.login(browser, lti_storage_target="_parent")
    put = login.storage
    assert put["mode"] == "put"
    assert put["key"] == "lti1p3_state-" + login.state
    assert put["value"] == login.state
    assert put["target"] == "_parent"
    # lti-cs-oidc: messages go to the origin of the platform's OIDC authorization endpoint.
    assert put["origin"] == registered.base_url
    assert login.url.startswith(registered.base_url + "/auth?")

    check = _check_page(browser, _signed(registered, login, sub="learner-1"), login.state)
    get = check["storage"]
    assert (get["mode"], get["key"], get["target"], get["origin"]) == (
        "get",
        put["key"],
        "_parent",
        registered.base_url,
    )
    response = _confirm(
        browser, check["fields"], lti_storage="found", lti_storage_value=put["value"]
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _launch_count(services) == 1


def test_platform_storage_with_the_login_cookie_still_runs_the_check_page(
    client: FlaskClient, registered: TestPlatform
) -> None:
    # The login asked for platform storage: the launch reads it back before accepting,
    # even when the cookie came too.
    login = registered.login(client, lti_storage_target="post_message_forwarding")
    check = _check_page(client, _signed(registered, login), login.state)
    assert check["storage"]["target"] == "post_message_forwarding"


@pytest.mark.parametrize("value", ["state-of-another-login", ""])
def test_platform_storage_returning_another_value_is_refused(
    client: FlaskClient, registered: TestPlatform, services: Services, value: str
) -> None:
    # Even with the right cookie: a storage that answers with something else means the
    # platform's browser session is not the one that logged in.
    login = registered.login(client, lti_storage_target="_parent")
    check = _check_page(client, _signed(registered, login), login.state)
    _refused(
        _confirm(client, check["fields"], lti_storage="found", lti_storage_value=value),
        services,
        "does not belong to this browser",
    )


def test_platform_storage_without_a_value_in_another_browser_is_refused(
    client: FlaskClient, victim: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    login = registered.login(client, lti_storage_target="_parent")
    check = _check_page(victim, _signed(registered, login), login.state)
    _refused(
        _confirm(victim, check["fields"], lti_storage="missing"),
        services,
        "does not belong to this browser",
    )


@pytest.mark.parametrize("target", ["<script>", "a b", "x" * 101])
def test_a_malformed_storage_target_is_refused_at_login(
    client: FlaskClient, registered: TestPlatform, target: str
) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": registered.issuer,
            "login_hint": "x",
            "client_id": registered.client_id,
            "target_link_uri": "http://localhost/lti/launch",
            "lti_storage_target": target,
        },
    )
    assert response.status_code == 400
    assert "lti_storage_target is not a frame name" in response.get_data(as_text=True)


def test_the_check_page_for_an_unknown_state_is_not_shown(
    victim: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    _refused(
        victim.post("/lti/launch", data={"id_token": "a.b.c", "state": "state-made-up"}),
        services,
        "state is unknown",
    )
