"""Submission review launches (LtiSubmissionReviewRequest): staff see the named learner's
work in their own context only, a learner sees only their own, and the launch must name
the learner, the line item and the link."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.schema import DecisionNode
from lti_tool.lti.grades import ENDPOINT_CLAIM, SCOPE_SCORE
from lti_tool.store.models import Launch
from tests.fixtures.platform import CLAIM, TestPlatform
from tests.unit.web.conftest import LearnerBrowser, answer_fields, attempt_row
from tests.unit.web.test_scenario import SCENARIO, best_path

QUIZ = "quiz:service-foundations-quiz"
REVIEW_URL = "http://localhost/lti/review/quiz/service-foundations-quiz"
LINEITEM = "https://platform.example.test/lineitems/1/lineitem"


def review_launch(
    client: FlaskClient,
    platform: TestPlatform,
    *,
    role: str,
    sub: str,
    for_user: dict[str, Any] | None,
    context: str = "course-7",
    link: str | None = "link-1",
    lineitem: str | None = LINEITEM,
    activity: str = QUIZ,
) -> Any:
    redirect = platform.login(client, target_link_uri=REVIEW_URL)
    claims = platform.claims(redirect.nonce, role=role, sub=sub)
    claims[CLAIM + "message_type"] = "LtiSubmissionReviewRequest"
    claims[CLAIM + "target_link_uri"] = REVIEW_URL
    claims[CLAIM + "custom"] = {"cxa_activity": activity}
    claims[CLAIM + "context"] = {"id": context, "title": "Support Team Basics"}
    if link is None:
        del claims[CLAIM + "resource_link"]
    else:
        claims[CLAIM + "resource_link"] = {"id": link}
    if for_user is not None:
        claims[CLAIM + "for_user"] = for_user
    endpoint: dict[str, Any] = {"scope": [SCOPE_SCORE]}
    if lineitem:
        endpoint["lineitem"] = lineitem
    claims[ENDPOINT_CLAIM] = endpoint
    return client.post(
        "/lti/launch", data={"id_token": platform.sign(claims), "state": redirect.state}
    )


def open_review(client: FlaskClient, response: Any) -> Any:
    assert response.status_code == 303, response.get_data(as_text=True)
    path = urlsplit(response.headers["Location"]).path
    assert path.endswith("/review")
    return client.get(path)


@pytest.fixture
def handed_in(learner: LearnerBrowser, session: Session) -> int:
    """learner-1 submits one attempt at the quiz through link-1 of course-7."""
    attempt_id = learner.start_quiz("service-foundations")
    attempt = attempt_row(session, attempt_id)
    fields = answer_fields(attempt.question_ids, attempt_id, correct=True)
    assert (
        learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")]).status_code == 303
    )
    return attempt_row(session, attempt_id).number


def review_launches(session: Session) -> int:
    session.expire_all()
    return (
        session.scalar(
            select(func.count())
            .select_from(Launch)
            .where(Launch.message_type == "LtiSubmissionReviewRequest")
        )
        or 0
    )


def test_an_instructor_sees_the_named_learners_attempt(
    client: FlaskClient, registered: TestPlatform, handed_in: int
) -> None:
    response = review_launch(
        client,
        registered,
        role="Instructor",
        sub="teacher-1",
        for_user={"user_id": "learner-1", "name": "Lee Learner"},
    )
    page = open_review(client, response)
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "Submission review: Service Foundations final quiz" in text
    assert "Lee Learner" in text
    assert f"Attempt {handed_in}" in text
    assert "counts in the gradebook" in text
    # Worded for the reviewer, not as if the instructor had answered.
    assert "the learner's answer" in text
    assert "your answer" not in text


def test_a_learner_may_review_their_own_attempt(
    client: FlaskClient, registered: TestPlatform, handed_in: int
) -> None:
    response = review_launch(
        client, registered, role="Learner", sub="learner-1", for_user={"user_id": "learner-1"}
    )
    page = open_review(client, response)
    assert page.status_code == 200
    assert f"Attempt {handed_in}" in page.get_data(as_text=True)


def test_a_learner_reviewing_someone_else_is_refused_before_anything_is_stored(
    client: FlaskClient, registered: TestPlatform, handed_in: int, session: Session
) -> None:
    response = review_launch(
        client, registered, role="Learner", sub="learner-2", for_user={"user_id": "learner-1"}
    )
    assert response.status_code == 403
    assert "Attempt" not in response.get_data(as_text=True)
    assert review_launches(session) == 0


def test_staff_of_another_context_never_see_the_learner(
    client: FlaskClient, registered: TestPlatform, handed_in: int
) -> None:
    response = review_launch(
        client,
        registered,
        role="Instructor",
        sub="teacher-9",
        for_user={"user_id": "learner-1"},
        context="course-other",
    )
    page = open_review(client, response)
    text = page.get_data(as_text=True)
    assert page.status_code == 404
    assert "handed in nothing" in text
    assert "Attempt" not in text


def test_another_link_of_the_same_course_shows_nothing_either(
    client: FlaskClient, registered: TestPlatform, handed_in: int
) -> None:
    response = review_launch(
        client,
        registered,
        role="Instructor",
        sub="teacher-1",
        for_user={"user_id": "learner-1"},
        link="link-2",
    )
    assert open_review(client, response).status_code == 404


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"for_user": None}, "for_user"),
        ({"for_user": {"name": "No Id"}}, "user_id"),
        ({"for_user": {"user_id": 7}}, "user_id"),
        ({"lineitem": None}, "line item"),
        ({"link": None}, "resource link"),
    ],
    ids=["no-for-user", "no-user-id", "numeric-user-id", "no-lineitem", "no-link"],
)
def test_an_incomplete_review_launch_is_a_clear_400(
    client: FlaskClient,
    registered: TestPlatform,
    session: Session,
    changes: dict[str, Any],
    message: str,
) -> None:
    arguments: dict[str, Any] = {"for_user": {"user_id": "learner-1"}, **changes}
    response = review_launch(client, registered, role="Instructor", sub="teacher-1", **arguments)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert review_launches(session) == 0


def test_the_review_page_needs_a_review_launch(learner: LearnerBrowser) -> None:
    assert learner.get("review").status_code == 403


def test_the_review_url_outside_the_lms_says_where_it_opens(client: FlaskClient) -> None:
    response = client.get("/lti/review/quiz/service-foundations-quiz")
    assert response.status_code == 401


def test_an_instructor_sees_a_finished_role_play_run(
    client: FlaskClient, registered: TestPlatform, learner: LearnerBrowser
) -> None:
    run_id = learner.start_scenario("service-foundations", "double-charge")
    node = SCENARIO.node(SCENARIO.start)
    for step, choice_id in enumerate(best_path()):
        assert isinstance(node, DecisionNode)
        assert learner.reply(run_id, step, node, choice_id).status_code == 303
        node = SCENARIO.node(next(c for c in node.choices if c.id == choice_id).next)
    response = review_launch(
        client,
        registered,
        role="Instructor",
        sub="teacher-1",
        for_user={"user_id": "learner-1"},
        activity="scenario:double-charge",
    )
    page = open_review(client, response)
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert "Run 1" in text
    assert "Scored 100% of the points." in text
    assert "Outcome: resolved." in text


def test_an_unfinished_role_play_is_nothing_to_review(
    client: FlaskClient, registered: TestPlatform, learner: LearnerBrowser
) -> None:
    learner.start_scenario("service-foundations", "double-charge")
    response = review_launch(
        client,
        registered,
        role="Instructor",
        sub="teacher-1",
        for_user={"user_id": "learner-1"},
        activity="scenario:double-charge",
    )
    assert open_review(client, response).status_code == 404
