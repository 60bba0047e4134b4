"""/lti/register: who may register, and every way a platform's side can go wrong; also the
Canvas JSON endpoint. The platform is a small real HTTP server whose answers each test sets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, jsonify, request
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.config import Settings
from lti_tool.lti import platform_http
from lti_tool.lti.registration import PLATFORM_CONFIGURATION, TOOL_CONFIGURATION
from lti_tool.services import Services
from lti_tool.store import platforms, registrations
from lti_tool.store.db import transaction
from lti_tool.store.models import Platform, PlatformState, RegistrationInvitation
from lti_tool.web.redaction import redact
from tests.conftest import embedded_settings
from tests.fixtures.servers import serve


@dataclass
class FakePlatform:
    """An LMS's registration side; tests change what it answers."""

    base_url: str = ""
    issuer: str | None = None
    config_status: int = 200
    config_delay: float = 0.0
    register_status: int = 200
    register_delay: float = 0.0
    answer_client_id: bool = True
    product: str = "moodle"
    client_id: str = "moodle-client-7"
    received: list[dict[str, Any]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    @property
    def configuration_url(self) -> str:
        return self.base_url + "/mod/lti/openid-configuration.php"


def _platform_app(fake: FakePlatform) -> Flask:
    app = Flask("fake-lms")

    @app.get("/mod/lti/openid-configuration.php")
    def configuration() -> Any:
        time.sleep(fake.config_delay)
        if fake.config_status != 200:
            return "broken", fake.config_status
        base = fake.base_url
        return jsonify(
            {
                "issuer": fake.issuer or base,
                "authorization_endpoint": base + "/mod/lti/auth.php",
                "token_endpoint": base + "/mod/lti/token.php",
                "jwks_uri": base + "/mod/lti/certs.php",
                "registration_endpoint": base + "/mod/lti/openid-registration.php",
                "scopes_supported": ["openid"],
                PLATFORM_CONFIGURATION: {"product_family_code": fake.product},
            }
        )

    @app.post("/mod/lti/openid-registration.php")
    def register() -> Any:
        time.sleep(fake.register_delay)
        fake.tokens.append(request.headers.get("Authorization", ""))
        if fake.register_status != 200:
            return jsonify(error="invalid_token"), fake.register_status
        body = request.get_json()
        fake.received.append(body)
        answer = dict(body)
        if fake.answer_client_id:
            answer["client_id"] = fake.client_id
        answer[TOOL_CONFIGURATION] = {**body[TOOL_CONFIGURATION], "deployment_id": "3"}
        return jsonify(answer)

    return app


@pytest.fixture
def lms() -> Iterator[FakePlatform]:
    fake = FakePlatform()
    with serve(_platform_app(fake)) as base_url:
        fake.base_url = base_url
        yield fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(tmp_path)


def invitation(services: Services, **options: Any) -> str:
    with transaction(services.sessions) as session:
        return registrations.create_invitation(
            session, lifetime=options.pop("lifetime", timedelta(hours=1)), **options
        ).token


def register(client: FlaskClient, lms: FakePlatform, token: str | None, **params: str) -> Any:
    query = {
        "openid_configuration": lms.configuration_url,
        "registration_token": "reg-token-1",
        **params,
    }
    path = "/lti/register" if token is None else f"/lti/register/{token}"
    return client.get(path, query_string={k: v for k, v in query.items() if v is not None})


def stored(services: Services) -> list[Platform]:
    with services.sessions() as session:
        return platforms.list_platforms(session)


def test_an_invited_lms_is_registered_and_told_to_close(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    response = register(client, lms, invitation(services, name="Acme Moodle"))

    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "CX Academy is registered" in page
    assert "moodle-client-7" in page
    assert 'src="/static/lti-close.js"' in page
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {lms.base_url}" in csp
    assert "script-src 'self'" in csp
    assert lms.tokens == ["Bearer reg-token-1"]
    [platform] = stored(services)
    assert (platform.name, platform.issuer, platform.client_id) == (
        "Acme Moodle",
        lms.base_url,
        "moodle-client-7",
    )
    assert platform.auth_login_url == lms.base_url + "/mod/lti/auth.php"
    assert [d.deployment_id for d in platform.deployments] == ["3"]
    assert platform.state is PlatformState.ACTIVE


def test_the_close_script_posts_the_spec_message() -> None:
    script = (Path(__file__).parents[3] / "lti_tool/web/static/lti-close.js").read_text()
    assert 'subject: "org.imsglobal.lti.close"' in script
    assert "window.opener || " in script and "window.parent" in script


def test_without_an_invitation_registration_is_closed_by_default(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    response = register(client, lms, None)

    assert response.status_code == 403
    assert "invitation" in response.get_data(as_text=True)
    assert lms.tokens == []  # nothing was fetched for a stranger
    assert stored(services) == []


class TestOpenRegistration:
    @pytest.fixture
    def settings(self, tmp_path: Path) -> Settings:
        return embedded_settings(tmp_path, open_registration=True, new_registrations_pending=True)

    def test_open_registration_arrives_pending(
        self, client: FlaskClient, services: Services, lms: FakePlatform
    ) -> None:
        response = register(client, lms, None)

        assert response.status_code == 200, response.get_data(as_text=True)
        assert "pending approval" in response.get_data(as_text=True)
        [platform] = stored(services)
        assert platform.state is PlatformState.PENDING
        assert platform.name == f"moodle at {lms.base_url.split('//')[1]}"


def test_a_missing_registration_token_is_refused(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    token = invitation(services)
    response = register(client, lms, token, registration_token="")

    assert response.status_code == 400
    assert "registration_token" in response.get_data(as_text=True)
    assert lms.tokens == []
    # The invitation was not spent by the failed attempt.
    assert register(client, lms, token).status_code == 200


def test_a_missing_openid_configuration_is_refused(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    response = register(client, lms, invitation(services), openid_configuration="")

    assert response.status_code == 400
    assert "openid_configuration" in response.get_data(as_text=True)


@pytest.mark.parametrize("status", [401, 403])
def test_an_expired_or_reused_registration_token_is_explained(
    client: FlaskClient, services: Services, lms: FakePlatform, status: int
) -> None:
    lms.register_status = status

    response = register(client, lms, invitation(services))

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "registration token was refused" in page
    assert "expired or been used" in page
    assert stored(services) == []


def test_an_issuer_that_does_not_match_the_configuration_url_is_refused(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    lms.issuer = "https://lms.example.edu"

    response = register(client, lms, invitation(services))

    assert response.status_code == 400
    assert "does not match the origin" in response.get_data(as_text=True)
    assert lms.tokens == []  # refused before registering
    assert stored(services) == []


def test_a_failing_configuration_endpoint_is_reported(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    lms.config_status = 500

    response = register(client, lms, invitation(services))

    assert response.status_code == 400
    assert "HTTP 500" in response.get_data(as_text=True)


def test_a_slow_configuration_endpoint_is_cut_off(
    client: FlaskClient, services: Services, lms: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform_http, "DEADLINE_SECONDS", 0.5)
    lms.config_delay = 2.0

    response = register(client, lms, invitation(services))

    assert response.status_code == 400
    assert "did not answer in full within 0.5 s" in response.get_data(as_text=True)


def test_a_failing_registration_endpoint_is_reported(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    lms.register_status = 500

    response = register(client, lms, invitation(services))

    assert response.status_code == 400
    assert "HTTP 500" in response.get_data(as_text=True)
    assert stored(services) == []


def test_a_slow_registration_endpoint_is_cut_off(
    client: FlaskClient, services: Services, lms: FakePlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform_http, "DEADLINE_SECONDS", 0.5)
    lms.register_delay = 2.0

    response = register(client, lms, invitation(services))

    assert response.status_code == 400
    assert "did not answer in full" in response.get_data(as_text=True)
    assert stored(services) == []


def test_a_registration_answer_without_client_id_stores_nothing(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    lms.answer_client_id = False
    token = invitation(services)

    response = register(client, lms, token)

    assert response.status_code == 400
    assert "without a client_id" in response.get_data(as_text=True)
    assert stored(services) == []
    with services.sessions() as session:
        assert session.scalars(select(RegistrationInvitation)).one().used_at is None


def test_an_expired_invitation_is_refused(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    with transaction(services.sessions) as session:
        token = registrations.create_invitation(
            session,
            lifetime=timedelta(hours=1),
            now=datetime.now(UTC) - timedelta(hours=2),
        ).token

    response = register(client, lms, token)

    assert response.status_code == 403
    assert "expired" in response.get_data(as_text=True)
    assert lms.tokens == []


def test_an_invitation_is_used_once(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    token = invitation(services)
    assert register(client, lms, token).status_code == 200

    again = register(client, lms, token, registration_token="reg-token-2")

    assert again.status_code == 403
    assert "already used" in again.get_data(as_text=True)
    assert len(lms.tokens) == 1


def test_an_unknown_invitation_is_refused(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    response = register(client, lms, "not-a-real-invitation")

    assert response.status_code == 403
    assert lms.tokens == []


def test_canvas_gets_placements_in_its_registration(
    client: FlaskClient, services: Services, lms: FakePlatform
) -> None:
    lms.product = "canvas"

    assert register(client, lms, invitation(services)).status_code == 200

    [body] = lms.received
    placements = [m["placements"] for m in body[TOOL_CONFIGURATION]["messages"]]
    assert placements == [["course_navigation"], ["link_selection", "assignment_selection"]]


def test_the_canvas_json_is_served(client: FlaskClient) -> None:
    response = client.get("/lti/canvas.json")

    assert response.status_code == 200
    doc = response.get_json()
    assert doc["oidc_initiation_url"] == "http://localhost/lti/login"
    assert doc["extensions"][0]["settings"]["placements"][0]["placement"] == "course_navigation"


@pytest.mark.parametrize(
    "configuration_url",
    [
        "https://lms.example.edu;script-src *@x.example/c",
        "https://lms.example.edu 'unsafe-inline'/c",
        "javascript:alert(1)",
    ],
)
def test_a_hostile_configuration_url_never_reaches_the_csp(
    client: FlaskClient, configuration_url: str
) -> None:
    response = client.get(
        "/lti/register/nope", query_string={"openid_configuration": configuration_url}
    )

    csp = response.headers["Content-Security-Policy"]
    assert response.status_code == 403
    assert "frame-ancestors 'self'; " in csp
    assert "unsafe-inline" not in csp and "script-src *" not in csp


def test_invitation_tokens_are_redacted_from_log_lines() -> None:
    line = 'GET /lti/register/SECRETtoken-123?openid_configuration=x HTTP/1.1" 403'

    redacted = redact(line)

    assert "SECRETtoken-123" not in redacted
    assert "/lti/register/~" in redacted and "?openid_configuration=x" in redacted
