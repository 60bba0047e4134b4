"""Every launch check, probed with a token that breaks exactly one rule.

The tool runs in-process (Flask test client); the platform's JWKS is fetched over real
loopback HTTP. Each refusal must be a 4xx page that names the problem, carries a
reference id, and leaves no launch and no session behind.
"""

from __future__ import annotations

import html
import time
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.models import Launch, OutboxRow
from lti_tool.store.platforms import add_platform
from tests.fixtures.platform import CLAIM, TestPlatform

pytestmark = pytest.mark.integration


def _launch_count(services: Services) -> int:
    with services.sessions() as session:
        return session.scalar(select(func.count()).select_from(Launch)) or 0


def _refused(response: Any, services: Services, words: str, status: int = 400) -> None:
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, text
    assert words in text
    assert "reference" in text
    assert "/s/" not in response.headers.get("Location", "")
    assert _launch_count(services) == 0


def _post(client: FlaskClient, token: str, state: str) -> Any:
    return client.post("/lti/launch", data={"id_token": token, "state": state})


def test_valid_launch_lands_on_the_learner_page(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    response = registered.launch(client)
    assert response.status_code == 303
    landing = client.get(response.headers["Location"])
    page = landing.get_data(as_text=True)
    assert landing.status_code == 200
    assert "Lee Learner" in page and "Support Team Basics" in page and "Learner" in page
    assert _launch_count(services) == 1
    with services.sessions() as session:
        row = session.scalars(select(OutboxRow)).one()
    assert row.statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/launched"
    assert row.statement["actor"]["account"] == {"homePage": registered.issuer, "name": "learner-1"}


def test_bad_signature(client: FlaskClient, registered: TestPlatform, services: Services) -> None:
    redirect = registered.login(client)
    good = registered.sign(registered.claims(redirect.nonce))
    header, body, signature = good.split(".")
    forged_body = jwt.utils.base64url_encode(
        jwt.utils.base64url_decode(body).replace(b"learner-1", b"learner-2")
    ).decode()
    _refused(
        _post(client, f"{header}.{forged_body}.{signature}", redirect.state),
        services,
        "signature does not verify",
    )


def test_signed_by_a_key_the_platform_does_not_publish(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    registered.add_key(publish=False)
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce), key_index=1)
    _refused(_post(client, token, redirect.state), services, "unknown kid")


def test_unknown_kid_refetches_the_platform_key_set(
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert registered.launch(client).status_code == 303
    fetches = registered.jwks_fetches
    registered.add_key(publish=True)  # the platform rotates its key

    # Right after a fetch, an unknown kid is not worth another one: forged kids cannot
    # make us hammer the platform.
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce, sub="learner-2"), key_index=1)
    assert _post(client, token, redirect.state).status_code == 400
    assert registered.jwks_fetches == fetches

    monkeypatch.setattr("lti_tool.lti.jwks.REFETCH_INTERVAL", 0)
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce, sub="learner-2"), key_index=1)
    assert _post(client, token, redirect.state).status_code == 303
    assert registered.jwks_fetches == fetches + 1


def test_key_set_is_cached_between_launches(client: FlaskClient, registered: TestPlatform) -> None:
    for sub in ("a", "b", "c"):
        assert registered.launch(client, sub=sub).status_code == 303
    assert registered.jwks_fetches == 1


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"aud": "someone-else"}, "addressed to another tool"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, "expired"),
        ({"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200}, "issued in the future"),
        ({CLAIM + "message_type": "DataPrivacyLaunchRequest"}, "cannot handle LTI messages"),
        ({CLAIM + "version": "1.1"}, "Incorrect version"),
        ({"sub": None}, "Must have a user"),
        ({CLAIM + "roles": None}, "Missing Roles Claim"),
        ({CLAIM + "resource_link": None}, "Missing Resource Link Id"),
        ({"exp": None}, "missing the required 'exp' claim"),
        ({"iss": "https://evil.example"}, "different platform than the login"),
        ({"aud": ["someone-else", "__client__"], "azp": "someone-else"}, "authorized party"),
        ({CLAIM + "deployment_id": None}, "no deployment_id claim"),
    ],
    ids=[
        "wrong-aud",
        "expired",
        "from-the-future",
        "wrong-message-type",
        "wrong-version",
        "missing-sub",
        "missing-roles",
        "missing-resource-link",
        "missing-exp",
        "other-issuer",
        "wrong-azp",
        "missing-deployment",
    ],
)
def test_claim_checks(
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    change: dict[str, Any],
    words: str,
) -> None:
    redirect = registered.login(client)
    claims = registered.claims(redirect.nonce)
    for name, value in change.items():
        if value is None:
            claims.pop(name, None)
        elif isinstance(value, list):
            claims[name] = [registered.client_id if v == "__client__" else v for v in value]
        else:
            claims[name] = value
    _refused(_post(client, registered.sign(claims), redirect.state), services, words)


def test_an_unknown_deployment_waits_for_approval_and_launches_nothing(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    # Decision 0012: a verified launch from an unknown deployment is recorded as pending
    # and answered with the waiting page (403), not accepted.
    redirect = registered.login(client)
    claims = {**registered.claims(redirect.nonce), CLAIM + "deployment_id": "not-ours"}
    response = _post(client, registered.sign(claims), redirect.state)
    _refused(response, services, "(deployment not-ours)", status=403)


def test_replayed_nonce(client: FlaskClient, registered: TestPlatform, services: Services) -> None:
    first = registered.login(client)
    assert (
        _post(client, registered.sign(registered.claims(first.nonce)), first.state).status_code
        == 303
    )
    second = registered.login(client)
    replay = registered.sign(registered.claims(first.nonce))
    response = _post(client, replay, second.state)
    assert response.status_code == 400
    assert "nonce is not the one issued" in response.get_data(as_text=True)
    assert _launch_count(services) == 1


def test_same_id_token_posted_twice(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce))
    assert _post(client, token, redirect.state).status_code == 303
    again = _post(client, token, redirect.state)
    assert again.status_code == 400
    assert "already used" in again.get_data(as_text=True)
    assert _launch_count(services) == 1


def test_missing_state(client: FlaskClient, registered: TestPlatform, services: Services) -> None:
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce))
    response = client.post("/lti/launch", data={"id_token": token})
    _refused(response, services, "missing its 'state'")


def test_wrong_state(client: FlaskClient, registered: TestPlatform, services: Services) -> None:
    redirect = registered.login(client)
    token = registered.sign(registered.claims(redirect.nonce))
    _refused(_post(client, token, "state-made-up"), services, "state is unknown")


def test_state_of_another_login(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    mine = registered.login(client)
    other = registered.login(client)
    token = registered.sign(registered.claims(mine.nonce))
    _refused(_post(client, token, other.state), services, "nonce is not the one issued")


def test_unknown_issuer_at_login(client: FlaskClient, registered: TestPlatform) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": "https://unknown.example",
            "login_hint": "x",
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    assert response.status_code == 400
    assert "not registered" in response.get_data(as_text=True)


def test_unknown_client_id_at_login(client: FlaskClient, registered: TestPlatform) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": registered.issuer,
            "login_hint": "x",
            "client_id": "nope",
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    assert response.status_code == 400
    assert "not registered" in response.get_data(as_text=True)


def test_unknown_client_id_in_token(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    redirect = registered.login(client)
    claims = registered.claims(redirect.nonce)
    claims["aud"] = claims["azp"] = "another-client"
    _refused(
        _post(client, registered.sign(claims), redirect.state), services, "addressed to another"
    )


def test_login_refuses_foreign_target(client: FlaskClient, registered: TestPlatform) -> None:
    response = client.get(
        "/lti/login",
        query_string={
            "iss": registered.issuer,
            "login_hint": "x",
            "target_link_uri": "https://evil.example/steal",
        },
    )
    assert response.status_code == 400
    assert "does not point at this tool" in response.get_data(as_text=True)


def test_login_by_post_is_accepted(client: FlaskClient, registered: TestPlatform) -> None:
    response = client.post(
        "/lti/login",
        data={
            "iss": registered.issuer,
            "login_hint": "x",
            "client_id": registered.client_id,
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].startswith(registered.base_url + "/auth?")


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "", "x" * 5000])
def test_malformed_jwt(
    client: FlaskClient, registered: TestPlatform, services: Services, token: str
) -> None:
    redirect = registered.login(client)
    response = _post(client, token, redirect.state)
    assert response.status_code == 400
    assert "reference" in response.get_data(as_text=True)
    assert _launch_count(services) == 0


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_algorithms_other_than_rs256(
    client: FlaskClient, registered: TestPlatform, services: Services, alg: str
) -> None:
    redirect = registered.login(client)
    claims = registered.claims(redirect.nonce)
    kid = registered.keys[0][1]["kid"]
    key = "" if alg == "none" else registered.keys[0][1]["n"]
    token = jwt.encode(claims, key or None, algorithm=alg, headers={"kid": kid})
    _refused(_post(client, token, redirect.state), services, "RS256 is required")


def test_get_on_the_launch_url(client: FlaskClient) -> None:
    response = client.get("/lti/launch")
    assert response.status_code == 405
    assert "open the activity from your course" in response.get_data(as_text=True)


def test_two_registrations_of_one_issuer(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    """Multi-tenant: one LMS may register the tool twice; each client_id launches alone."""
    first_client = registered.client_id
    with transaction(services.sessions) as session:
        add_platform(session, registered.spec(client_id="second-client", name="Second"))
    assert registered.launch(client).status_code == 303
    registered.client_id = "second-client"
    assert registered.launch(client, sub="other").status_code == 303
    with services.sessions() as session:
        clients = {launch.platform.client_id for launch in session.scalars(select(Launch))}
    assert clients == {first_client, "second-client"}


def test_forged_session_token_is_refused(client: FlaskClient) -> None:
    response = client.get("/s/forged-token/")
    assert response.status_code == 401
    assert "not a valid CX Academy session" in response.get_data(as_text=True)
