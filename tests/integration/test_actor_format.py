"""Each platform chooses how its learners appear in statements; the default reveals nothing."""

from __future__ import annotations

import hashlib

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.models import OutboxRow
from lti_tool.store.platforms import add_platform
from tests.fixtures.platform import TestPlatform

pytestmark = pytest.mark.integration


def _launch_actor(client: FlaskClient, platform: TestPlatform, services: Services) -> dict:
    assert platform.launch(client).status_code == 303
    with services.sessions() as session:
        return session.scalars(select(OutboxRow)).one().statement["actor"]


@pytest.mark.parametrize(
    ("actor_format", "expected"),
    [
        ("account", {"account"}),
        ("mbox", {"mbox"}),
        ("mbox_sha1sum", {"mbox_sha1sum"}),
    ],
)
def test_the_platform_setting_decides_the_actor(
    client: FlaskClient,
    platform: TestPlatform,
    services: Services,
    actor_format: str,
    expected: set[str],
) -> None:
    with transaction(services.sessions) as session:
        add_platform(session, platform.spec(actor_format=actor_format))
    actor = _launch_actor(client, platform, services)
    assert set(actor) & {"account", "mbox", "mbox_sha1sum"} == expected
    if actor_format == "mbox_sha1sum":
        digest = hashlib.sha1(b"mailto:lee@example.test").hexdigest()  # noqa: S324 - xAPI's hash
        assert actor["mbox_sha1sum"] == digest


def test_email_actor_without_an_email_falls_back_to_the_account(
    client: FlaskClient, platform: TestPlatform, services: Services
) -> None:
    with transaction(services.sessions) as session:
        add_platform(session, platform.spec(actor_format="mbox"))
    redirect = platform.login(client)
    claims = platform.claims(redirect.nonce)
    del claims["email"]  # the LMS's privacy settings withhold it
    response = client.post(
        "/lti/launch", data={"id_token": platform.sign(claims), "state": redirect.state}
    )
    assert response.status_code == 303
    with services.sessions() as session:
        actor = session.scalars(select(OutboxRow)).one().statement["actor"]
    assert actor["account"] == {"homePage": platform.issuer, "name": "learner-1"}
