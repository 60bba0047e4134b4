"""frame-ancestors from the registrations, kept fresh without a query per response; HSTS."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import insert

from lti_tool.app import HSTS, create_app
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import Platform
from lti_tool.store.platforms import PlatformSpec, add_platform
from lti_tool.web import framing
from tests.conftest import embedded_settings
from tests.fixtures.platform import TestPlatform
from tests.unit.lti_tool.test_pages import csp_directives

MOODLE = PlatformSpec(
    name="Moodle",
    issuer="https://moodle.example.edu",
    client_id="moodle-client",
    auth_login_url="https://moodle.example.edu/mod/lti/auth.php",
    auth_token_url="https://moodle.example.edu/mod/lti/token.php",
    key_set_url="https://moodle.example.edu/mod/lti/certs.php",
    deployment_ids=("1",),
)
CANVAS = PlatformSpec(
    name="Canvas",
    issuer="https://canvas.instructure.com",
    client_id="10000000000001",
    auth_login_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
    auth_token_url="https://sso.canvaslms.com/login/oauth2/token",
    key_set_url="https://sso.canvaslms.com/api/lti/security/jwks",
    deployment_ids=("1:abc",),
)


def _frame_ancestors(client: FlaskClient) -> list[str]:
    policy = client.get("/healthz").headers["Content-Security-Policy"]
    return csp_directives(policy)["frame-ancestors"].split()


def test_only_registered_platforms_may_frame_the_tool(
    client: FlaskClient, registered: TestPlatform
) -> None:
    assert _frame_ancestors(client) == ["'self'", registered.base_url]


def test_a_new_registration_may_frame_the_tool_at_once(
    client: FlaskClient, services: Services
) -> None:
    assert _frame_ancestors(client) == ["'self'"]
    with transaction(services.sessions) as session:
        add_platform(session, MOODLE)
    assert _frame_ancestors(client) == ["'self'", "https://moodle.example.edu"]


def test_canvas_frames_from_institution_hosts_and_extra_origins_count(
    tmp_path: Path, services: Services
) -> None:
    with transaction(services.sessions) as session:
        add_platform(session, CANVAS)
    settings = services.settings.with_overrides(frame_ancestors_extra="https://lms.example.org")
    extra = Services.build(settings)
    try:
        sources = _frame_ancestors(create_app(services=extra).test_client())
    finally:
        extra.close()
    assert sources == [
        "'self'",
        "https://canvas.instructure.com",
        "https://sso.canvaslms.com",
        "https://*.instructure.com",
        "https://lms.example.org",
    ]


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_changes_made_by_another_process_show_within_the_refresh_interval(
    services: Services,
) -> None:
    clock = _Clock()
    cache = framing.RegistrationCache(services.sessions, clock=clock)
    assert cache.current().frame_sources == ()
    # A row written without this process's ORM (as `cxa platform add` elsewhere would).
    with transaction(services.sessions) as session:
        session.execute(
            insert(Platform).values(
                name="Elsewhere",
                issuer="https://elsewhere.example",
                client_id="c",
                auth_login_url="https://auth.elsewhere.example/auth",
                auth_token_url="https://auth.elsewhere.example/token",
                key_set_url="https://auth.elsewhere.example/jwks",
                actor_format="account",
            )
        )
    clock.now += framing.REFRESH_SECONDS - 1
    assert cache.current().frame_sources == ()  # cached: no query per response
    clock.now += 1
    assert cache.current().frame_sources == (
        "https://elsewhere.example",
        "https://auth.elsewhere.example",
    )


@pytest.mark.parametrize(
    ("base_url", "hsts"), [("https://cxa.example.edu", HSTS), ("http://localhost", None)]
)
def test_hsts_only_in_production(tmp_path: Path, base_url: str, hsts: str | None) -> None:
    settings = embedded_settings(
        tmp_path,
        base_url=base_url,
        secret_key=secrets.token_urlsafe(48),
        key_encryption_secret=secrets.token_urlsafe(48),
    )
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    built = Services.build(settings)
    try:
        response = create_app(services=built).test_client().get("/healthz")
    finally:
        built.close()
    assert response.headers.get("Strict-Transport-Security") == hsts
