"""The demo LMS's Dynamic Registration endpoint refuses what DR 1.0 section 3.5 forbids."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from lti_tool.demo.lms import DemoLMSConfig, create_demo_lms
from lti_tool.demo.registration import (
    TOOL_CONFIGURATION,
    RegisteredClients,
    RegistrationRefused,
)
from lti_tool.lti.registration import (
    describe_tool,
    read_platform_configuration,
    registration_request,
)

LMS = "http://127.0.0.1:8001"
TOOL = "http://127.0.0.1:8000"


@pytest.fixture
def lms(tmp_path: Path) -> FlaskClient:
    return create_demo_lms(DemoLMSConfig(LMS, TOOL, tmp_path)).test_client()


def fresh_token(lms: FlaskClient) -> str:
    started = lms.get("/register-tool", query_string={"url": TOOL + "/lti/register/abc"})
    assert started.status_code == 302
    query = parse_qs(urlsplit(started.headers["Location"]).query)
    assert query["openid_configuration"] == [LMS + "/.well-known/openid-configuration"]
    return query["registration_token"][0]


def tool_request(lms: FlaskClient) -> dict[str, Any]:
    document = lms.get("/.well-known/openid-configuration").get_json()
    platform = read_platform_configuration(LMS + "/.well-known/openid-configuration", document)
    return registration_request(describe_tool(TOOL), platform)


def post(lms: FlaskClient, body: Any, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return lms.post("/register", json=body, headers=headers)


def test_our_own_request_is_accepted_with_a_client_id_and_deployment(lms: FlaskClient) -> None:
    answer = post(lms, tool_request(lms), fresh_token(lms))

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["client_id"].startswith("dr-")
    assert body[TOOL_CONFIGURATION]["deployment_id"].startswith("dr-deployment-")


def test_a_missing_token_is_refused(lms: FlaskClient) -> None:
    answer = post(lms, tool_request(lms), None)
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_token"


def test_a_reused_token_is_refused(lms: FlaskClient) -> None:
    token = fresh_token(lms)
    assert post(lms, tool_request(lms), token).status_code == 200

    assert post(lms, tool_request(lms), token).status_code == 401


def test_an_expired_token_is_refused(tmp_path: Path) -> None:
    clients = RegisteredClients(tmp_path / "clients.json")
    token = clients.issue_token(now=1000.0)

    with pytest.raises(RegistrationRefused, match="expired"):
        clients.spend_token(token, now=1000.0 + 601)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"application_type": "native"}, "application_type"),
        ({"response_types": ["code"]}, "response_types"),
        ({"grant_types": ["implicit"]}, "grant_types"),
        ({"token_endpoint_auth_method": "client_secret_basic"}, "token_endpoint_auth_method"),
        ({"redirect_uris": []}, "redirect_uris"),
        ({"initiate_login_uri": "https://elsewhere.example/login"}, "not on the tool's domain"),
        ({"jwks_uri": None}, "jwks_uri"),
        ({"scope": "https://example.com/unknown-scope"}, "scopes not offered"),
    ],
)
def test_a_request_breaking_a_rule_is_refused(
    lms: FlaskClient, change: dict[str, Any], problem: str
) -> None:
    body = {**tool_request(lms), **change}
    body = {k: v for k, v in body.items() if v is not None}

    answer = post(lms, body, fresh_token(lms))

    assert answer.status_code == 400
    assert problem in answer.get_json()["error_description"]
