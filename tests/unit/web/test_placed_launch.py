"""Launching a deep-linked link lands the learner on the placed activity itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.services import Services
from lti_tool.store.models import Launch
from lti_tool.web.placement import placed_activity
from tests.fixtures.platform import CLAIM, TestPlatform

ACTIVITY_URL = "http://localhost/lti/activities/"


def placed_launch(
    client: FlaskClient,
    platform: TestPlatform,
    *,
    custom: dict[str, Any] | None = None,
    target: str | None = None,
) -> Any:
    redirect = platform.login(client, target_link_uri=target or "http://localhost/lti/launch")
    claims = platform.claims(redirect.nonce)
    if custom is not None:
        claims[CLAIM + "custom"] = custom
    if target is not None:
        claims[CLAIM + "target_link_uri"] = target
    return client.post(
        "/lti/launch", data={"id_token": platform.sign(claims), "state": redirect.state}
    )


def land(client: FlaskClient, response: Any) -> tuple[str, Any]:
    """Follow the tool's redirects to the page the learner sees."""
    assert response.status_code == 303, response.get_data(as_text=True)
    while response.status_code in (302, 303):
        path = urlsplit(response.headers["Location"]).path
        response = client.get(path)
    return path, response


@pytest.mark.parametrize(
    ("activity", "path_end", "text"),
    [
        ("quiz:service-foundations-quiz", "/courses/service-foundations/quiz", "final quiz"),
        (
            "scenario:double-charge",
            "/courses/service-foundations/scenarios/double-charge",
            "double",
        ),
        ("lesson:active-listening", "/lessons/active-listening", "Active listening"),
        (
            "module:listening-and-empathy",
            "/modules/listening-and-empathy",
            "Hearing the customer",
        ),
        ("course:service-foundations", "/courses/service-foundations/", "Service Foundations"),
        ("self-assessment:self-assessment", "/self-assessment", "Self-assessment"),
        ("goals:my-goals", "/goals", "My goals"),
    ],
)
def test_the_custom_parameter_opens_the_placed_activity(
    client: FlaskClient, registered: TestPlatform, activity: str, path_end: str, text: str
) -> None:
    response = placed_launch(client, registered, custom={"cxa_activity": activity})

    path, page = land(client, response)

    assert path.endswith(path_end)
    assert page.status_code == 200
    assert text.lower() in page.get_data(as_text=True).lower()


def test_the_target_link_uri_names_the_activity_when_custom_parameters_are_lost(
    client: FlaskClient, registered: TestPlatform
) -> None:
    response = placed_launch(
        client, registered, target=ACTIVITY_URL + "quiz/service-foundations-quiz"
    )

    path, page = land(client, response)

    assert path.endswith("/courses/service-foundations/quiz")
    assert page.status_code == 200


def test_a_plain_link_still_lands_on_the_catalogue(
    client: FlaskClient, registered: TestPlatform
) -> None:
    path, page = land(client, placed_launch(client, registered, custom={"other": "x"}))

    assert urlsplit(path).path.count("/") == 3  # /s/<token>/
    assert "Courses" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "activity", ["quiz:retired-quiz", "wizard:x", "no-colon", "quiz:"], ids=str
)
def test_a_stale_or_unknown_activity_gets_a_friendly_404(
    client: FlaskClient, registered: TestPlatform, activity: str
) -> None:
    _path, page = land(client, placed_launch(client, registered, custom={"cxa_activity": activity}))

    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "no longer available" in text
    assert "See all courses" in text


def test_an_unknown_activity_url_gets_the_same_friendly_404(
    client: FlaskClient, registered: TestPlatform
) -> None:
    response = placed_launch(client, registered, target=ACTIVITY_URL + "quiz/gone")

    _path, page = land(client, response)

    assert page.status_code == 404
    assert "no longer available" in page.get_data(as_text=True)


def test_a_placed_link_opened_outside_the_lms_says_where_to_go(client: FlaskClient) -> None:
    response = client.get("/lti/activities/quiz/service-foundations-quiz")

    assert response.status_code == 401
    assert "from your course" in response.get_data(as_text=True)


def test_the_launch_carries_the_instructors_options_for_the_quiz_engine(
    app: Flask, client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    custom = {"cxa_activity": "quiz:service-foundations-quiz", "cxa_pass_mark": "90"}
    land(client, placed_launch(client, registered, custom={**custom, "cxa_attempts": "1"}))
    with services.sessions() as session:
        launch = session.scalars(select(Launch)).one()

    with app.test_request_context():
        placed = placed_activity(launch.claims)

    assert placed is not None
    activity, options = placed
    assert activity.activity_id == "quiz:service-foundations-quiz"
    assert options is not None
    assert (options.pass_mark, options.attempts, options.draw) == (0.9, 1, 10)


def test_an_ungraded_placement_has_no_options(app: Flask) -> None:
    claims = {CLAIM + "custom": {"cxa_activity": "lesson:active-listening"}}

    with app.test_request_context():
        placed = placed_activity(claims)

    assert placed is not None and placed[1] is None
