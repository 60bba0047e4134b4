"""A verified launch from a known client with an unknown deployment (a course copy, a new
sub-account) waits for approval, is approved by an operator or automatically; a pending
registration's launches wait too. Never a raw error."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.services import Services
from lti_tool.store import platforms, registrations
from lti_tool.store.db import transaction
from lti_tool.store.models import PendingDeployment, PlatformState
from tests.fixtures.platform import TestPlatform


def _platform_row(services: Services, platform: TestPlatform) -> int:
    with services.sessions() as session:
        found = platforms.get_platform(session, platform.issuer, platform.client_id)
        assert found is not None
        return found.id


def test_an_unknown_deployment_waits_for_approval_and_is_recorded(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    registered.deployment_id = "course-copy-9"

    response = registered.launch(client)

    page = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "Waiting for approval" in page
    assert "course-copy-9" in page
    assert "Traceback" not in page
    with services.sessions() as session:
        pending = session.scalars(select(PendingDeployment)).one()
        assert pending.deployment_id == "course-copy-9"
        assert (pending.context_id, pending.context_title) == ("course-7", "Support Team Basics")
        assert pending.launches == 1


def test_a_forged_launch_from_an_unknown_deployment_records_nothing(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    registered.deployment_id = "course-copy-9"
    redirect = registered.login(client)
    forged = TestPlatform(base_url=registered.base_url, client_id=registered.client_id)
    forged.deployment_id = "course-copy-9"
    token = forged.sign(forged.claims(redirect.nonce))  # signed with a key the LMS never had

    response = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})

    assert response.status_code == 400
    with services.sessions() as session:
        assert session.scalars(select(PendingDeployment)).all() == []


def test_once_approved_the_deployment_launches(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    registered.deployment_id = "course-copy-9"
    assert registered.launch(client).status_code == 403
    with transaction(services.sessions) as session:
        platform = platforms.require_platform_by_id(session, _platform_row(services, registered))
        registrations.approve_deployment(session, platform, "course-copy-9")

    assert registered.launch(client).status_code == 303


def test_a_registration_that_auto_approves_accepts_the_new_deployment_at_once(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    with transaction(services.sessions) as session:
        platform = platforms.require_platform_by_id(session, _platform_row(services, registered))
        platform.auto_approve_deployments = True
    registered.deployment_id = "sub-account-3"

    response = registered.launch(client)

    assert response.status_code == 303, response.get_data(as_text=True)
    with services.sessions() as session:
        platform = platforms.require_platform_by_id(session, _platform_row(services, registered))
        assert "sub-account-3" in [d.deployment_id for d in platform.deployments]
        assert session.scalars(select(PendingDeployment)).all() == []


def test_a_pending_registration_shows_the_waiting_page(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    with transaction(services.sessions) as session:
        platform = platforms.require_platform_by_id(session, _platform_row(services, registered))
        registrations.set_state(session, platform, PlatformState.PENDING)

    response = client.get(
        "/lti/login",
        query_string={
            "iss": registered.issuer,
            "login_hint": "hint-1",
            "target_link_uri": "http://localhost/lti/launch",
            "client_id": registered.client_id,
        },
    )

    assert response.status_code == 403
    assert "waits for the CX Academy operator" in response.get_data(as_text=True)


def test_an_overlong_deployment_id_is_refused_not_recorded(
    client: FlaskClient, services: Services, registered: TestPlatform
) -> None:
    registered.deployment_id = "d" * 256

    response = registered.launch(client)

    assert response.status_code == 400
    assert "is not registered for this platform" in response.get_data(as_text=True)
    with services.sessions() as session:
        assert session.scalars(select(PendingDeployment)).all() == []
