"""The content picker: who may open it, what it lists, and the response it sends back."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from content import load_catalog
from content.activities import ActivityIndex
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.keys import public_jwks, require_signing_key, rotate_keys
from lti_tool.store.models import Launch
from tests.fixtures.platform import ROLE, TestPlatform
from tests.unit.web.conftest import launch_learner
from tests.unit.web.instructor.conftest import (
    DL_CLAIM,
    RETURN_URL,
    Picker,
    deep_link_launch,
    dl_settings,
    open_picker,
    returned,
)

QUIZ = "quiz:service-foundations-quiz"
SCENARIO = "scenario:double-charge"
LESSON = "lesson:active-listening"
COURSE = "course:service-foundations"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"


def items_of(picker_claims: dict[str, Any]) -> list[dict[str, Any]]:
    return picker_claims[DL_CLAIM + "content_items"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "role",
    [
        "Instructor",
        ROLE + "Instructor",
        ROLE + "ContentDeveloper",
        ROLE + "Administrator",
        TA,
        INSTITUTION + "Instructor",
        INSTITUTION + "Administrator",
        SYSTEM + "Administrator",
    ],
)
def test_instructor_type_roles_open_the_picker(
    client: FlaskClient, registered: TestPlatform, role: str
) -> None:
    response = deep_link_launch(client, registered, roles=[role])

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/instructor/content")


@pytest.mark.parametrize(
    "roles",
    [["Learner"], [ROLE + "Learner"], [INSTITUTION + "Student"], [ROLE + "Mentor"], []],
    ids=["short", "membership", "institution-student", "mentor", "none"],
)
def test_a_learner_role_gets_a_403_page_and_no_picker(
    client: FlaskClient, registered: TestPlatform, services: Services, roles: list[str]
) -> None:
    response = deep_link_launch(client, registered, roles=roles)

    assert response.status_code == 403
    assert "Only instructors" in response.get_data(as_text=True)
    with services.sessions() as session:
        assert session.scalars(select(Launch)).first() is None


def test_the_request_settings_are_stored_with_the_launch(
    picker: Picker, services: Services
) -> None:
    with services.sessions() as session:
        launch = session.scalars(select(Launch)).one()

    assert launch.message_type == "LtiDeepLinkingRequest"
    settings = launch.claims[DL_CLAIM + "deep_linking_settings"]
    assert settings["deep_link_return_url"] == RETURN_URL
    assert settings["data"] == {"opaque": ["kept", 1]}


def test_a_request_that_does_not_accept_resource_links_is_refused_with_a_clear_page(
    client: FlaskClient, registered: TestPlatform
) -> None:
    response = deep_link_launch(
        client, registered, settings=dl_settings(accept_types=["link", "html"])
    )

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "ltiResourceLink" in text
    assert "link, html" in text


def test_the_picker_lists_every_kind_with_title_summary_minutes_and_skills(
    picker: Picker,
) -> None:
    text = picker.page().get_data(as_text=True)
    assert "already sent" not in text
    index = ActivityIndex(load_catalog())
    catalog = load_catalog()

    for kind in ("course", "module", "lesson", "quiz", "scenario", "self-assessment"):
        assert f'value="{kind}:' in text, kind
    quiz = index.get_activity(QUIZ)
    assert quiz is not None
    assert quiz.title in text
    assert f"About {quiz.minutes} min" in text
    assert catalog.require_skill(quiz.skills[0]).name in text
    assert 'type="checkbox" name="item"' in text
    assert "Role-play" in text


def test_filters_narrow_the_list_by_kind_and_by_skill(picker: Picker) -> None:
    quizzes = picker.page(kind="quiz").get_data(as_text=True)
    values = set(re.findall(r'name="item" value="([^"]+)"', quizzes))
    assert values and all(v.startswith("quiz:") for v in values)

    index = ActivityIndex(load_catalog())
    skill = index.get_activity(SCENARIO).skills[0]  # type: ignore[union-attr]
    by_skill = picker.page(skill=skill).get_data(as_text=True)
    shown = set(re.findall(r'name="item" value="([^"]+)"', by_skill))
    assert SCENARIO in shown
    assert all(skill in index.get_activity(v).skills for v in shown)  # type: ignore[union-attr]
    assert len(shown) < len(index.list_activities())


def test_choosing_a_quiz_sends_a_signed_response_with_its_options_and_line_item(
    picker: Picker, registered: TestPlatform, tool_jwks: dict[str, Any]
) -> None:
    response = picker.choose(
        QUIZ,
        **{
            f"{QUIZ}.graded": "yes",
            f"{QUIZ}.pass_mark": "80",
            f"{QUIZ}.attempts": "2",
            f"{QUIZ}.draw": "5",
            f"{QUIZ}.counts": "last",
        },
    )

    assert response.status_code == 200
    sent = returned(response)
    assert sent.action == RETURN_URL
    claims = sent.claims(tool_jwks, registered.issuer)
    assert claims["iss"] == registered.client_id
    assert claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] == "deployment-1"
    assert claims[DL_CLAIM + "data"] == {"opaque": ["kept", 1]}
    [item] = items_of(claims)
    assert item["url"] == "http://localhost/lti/activities/quiz/service-foundations-quiz"
    assert item["text"].endswith(
        "Graded: pass mark 80%, 2 attempts, 5 questions, the last attempt counts."
    )
    assert item["custom"] == {
        "cxa_activity": QUIZ,
        "cxa_graded": "true",
        "cxa_pass_mark": "80",
        "cxa_attempts": "2",
        "cxa_draw": "5",
        "cxa_score_counts": "last",
    }
    assert item["lineItem"] == {
        "scoreMaximum": 100,
        "label": "Service Foundations final quiz",
        "resourceId": QUIZ,
        "tag": "quiz",
        # LTI Submission Review: the gradebook may open the learner's attempt with us.
        "submissionReview": {
            "reviewableStatus": ["Submitted", "Completed"],
            "url": "http://localhost/lti/review/quiz/service-foundations-quiz",
        },
    }


def test_the_return_page_submits_itself_and_still_works_without_scripts(picker: Picker) -> None:
    response = picker.choose(LESSON)
    text = response.get_data(as_text=True)

    assert 'src="/static/autosubmit.js"' in text
    assert "data-autosubmit" in text
    assert '<button type="submit">' in text
    # Our CSP keeps form-action to ourselves; this page alone may post to the LMS.
    csp = response.headers["Content-Security-Policy"]
    assert "form-action 'self' https://lms.example.test;" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp


def test_several_items_go_back_together_when_the_platform_accepts_several(
    picker: Picker, registered: TestPlatform, tool_jwks: dict[str, Any]
) -> None:
    claims = returned(picker.choose(QUIZ, SCENARIO, LESSON, COURSE)).claims(
        tool_jwks, registered.issuer
    )

    items = {i["custom"]["cxa_activity"]: i for i in items_of(claims)}
    assert set(items) == {QUIZ, SCENARIO, LESSON, COURSE}
    assert items[SCENARIO]["lineItem"]["tag"] == "scenario"
    assert items[COURSE]["lineItem"]["resourceId"] == COURSE
    assert "lineItem" not in items[LESSON]
    assert "cxa_draw" not in items[SCENARIO]["custom"]


def test_an_ungraded_choice_places_the_link_without_a_line_item(
    picker: Picker, registered: TestPlatform, tool_jwks: dict[str, Any]
) -> None:
    claims = returned(picker.choose(QUIZ, **{f"{QUIZ}.graded": "no"})).claims(
        tool_jwks, registered.issuer
    )

    [item] = items_of(claims)
    assert "lineItem" not in item
    assert item["custom"]["cxa_graded"] == "false"


def test_the_response_has_no_data_claim_when_the_request_had_none(
    client: FlaskClient, registered: TestPlatform, tool_jwks: dict[str, Any]
) -> None:
    picker = open_picker(client, registered, settings=dl_settings(data=None))

    claims = returned(picker.choose(LESSON)).claims(tool_jwks, registered.issuer)

    assert DL_CLAIM + "data" not in claims


def test_cancel_returns_no_items_and_a_message(
    picker: Picker, registered: TestPlatform, tool_jwks: dict[str, Any]
) -> None:
    claims = returned(picker.cancel()).claims(tool_jwks, registered.issuer)

    assert items_of(claims) == []
    assert claims[DL_CLAIM + "msg"] == "No CX Academy content was added."
    assert "cancelled" in claims[DL_CLAIM + "log"]
    assert claims[DL_CLAIM + "data"] == {"opaque": ["kept", 1]}


def test_single_selection_platforms_get_radio_buttons_and_two_items_are_refused(
    client: FlaskClient, registered: TestPlatform
) -> None:
    picker = open_picker(client, registered, settings=dl_settings(accept_multiple=False))
    assert 'type="radio" name="item"' in picker.page().get_data(as_text=True)

    response = picker.choose(QUIZ, LESSON)

    assert response.status_code == 422
    assert 'name="JWT"' not in response.get_data(as_text=True)
    # Still answerable: the refusal spent nothing.
    assert picker.choose(QUIZ).status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("pass_mark", "101", "pass mark"),
        ("pass_mark", "-5", "pass mark"),
        ("pass_mark", "seventy", "pass mark"),
        ("attempts", "0", "Attempts allowed"),
        ("attempts", "21", "Attempts allowed"),
        ("draw", "0", "Questions drawn"),
        ("draw", "999", "Questions drawn"),
        ("graded", "maybe", "graded"),
        ("counts", "first", "best or the last"),
    ],
)
def test_bad_options_come_back_as_form_errors_naming_the_field(
    picker: Picker, field: str, value: str, named: str
) -> None:
    response = picker.choose(QUIZ, **{f"{QUIZ}.{field}": value})

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert 'name="JWT"' not in text
    assert named in text
    assert 'aria-invalid="true"' in text
    assert f'value="{QUIZ}" id="pick-' in text and "checked" in text


def test_choosing_nothing_asks_for_a_choice(picker: Picker) -> None:
    response = picker.post([("action", "place")])

    assert response.status_code == 400
    assert "Choose at least one activity" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "item", ["quiz:no-such-quiz", "wizard:service-foundations", "", "service-foundations-quiz"]
)
def test_tampered_item_ids_are_refused(picker: Picker, item: str) -> None:
    response = picker.choose(item)

    assert response.status_code == 400
    assert 'name="JWT"' not in response.get_data(as_text=True)


def test_the_same_item_twice_is_refused(picker: Picker) -> None:
    assert picker.choose(QUIZ, QUIZ).status_code == 400


def test_an_unknown_form_field_is_refused(picker: Picker) -> None:
    response = picker.post([("item", QUIZ), ("return_url", "https://evil.test/"), ("action", "")])

    assert response.status_code == 400


@pytest.mark.parametrize("csrf", [None, "0" * 64])
def test_the_picker_form_needs_the_sessions_csrf_token(picker: Picker, csrf: str | None) -> None:
    fields = [("item", QUIZ), ("action", "place")]
    if csrf:
        fields.append(("csrf_token", csrf))

    response = picker.post(fields, csrf=False)

    assert response.status_code == 403
    assert 'name="JWT"' not in response.get_data(as_text=True)


def test_a_request_is_answered_once(picker: Picker) -> None:
    assert picker.choose(QUIZ).status_code == 200

    again = picker.choose(LESSON)

    assert again.status_code == 409
    assert 'name="JWT"' not in again.get_data(as_text=True)
    assert "already sent to your LMS" in picker.page().get_data(as_text=True)


def test_no_response_without_a_deep_linking_request(
    client: FlaskClient, registered: TestPlatform
) -> None:
    # A resource-link launch (even an instructor's) cannot reach the picker or post to it.
    response = registered.launch(client, role="Instructor")
    base = response.headers["Location"].split("//", 1)[-1].split("/", 1)[-1]
    path = "/" + base + "instructor/content"
    learner = launch_learner(client, registered, "learner-9")

    assert client.get(path).status_code == 403
    posted = client.post(
        learner.base + "instructor/content",
        data={"item": QUIZ, "action": "place", "csrf_token": learner.csrf},
    )
    assert posted.status_code == 403
    assert 'name="JWT"' not in posted.get_data(as_text=True)


def test_a_forged_session_token_cannot_post(client: FlaskClient, picker: Picker) -> None:
    forged = picker.path.replace("/s/", "/s/x", 1)

    response = client.post(forged, data={"item": QUIZ, "csrf_token": picker.csrf})

    assert response.status_code == 401


def test_a_platform_that_can_only_embed_html_is_refused_with_a_clear_page(
    client: FlaskClient, registered: TestPlatform
) -> None:
    response = deep_link_launch(
        client, registered, settings=dl_settings(accept_presentation_document_targets=["embed"])
    )

    assert response.status_code == 422
    assert "iframe or a new window" in response.get_data(as_text=True)


def test_the_response_is_signed_with_the_key_that_is_active_now(
    app: Flask, picker: Picker, registered: TestPlatform
) -> None:
    services: Services = app.extensions["cxa"]
    with transaction(services.sessions) as session:
        old = require_signing_key(session, "test-key-secret").kid
        rotate_keys(
            session, "test-key-secret", publish_lead=timedelta(0), overlap=timedelta(days=1)
        )
        step = rotate_keys(
            session, "test-key-secret", publish_lead=timedelta(0), overlap=timedelta(days=1)
        )
    assert step.action == "activated" and step.kid != old

    sent = returned(picker.choose(LESSON))

    assert jwt.get_unverified_header(sent.token)["kid"] == step.kid
    with services.sessions() as session:
        claims = sent.claims(public_jwks(session), registered.issuer)
    assert claims["iss"] == registered.client_id
