"""Submission review end to end over HTTP: an instructor places a graded quiz through Deep
Linking; the demo LMS creates its line item (with submissionReview) bound to the new link;
a learner's score goes to that line item, found in the launch's ``lineitem`` claim, with no
second one created; then the gradebook's "Review submission" button sends a real
LtiSubmissionReviewRequest and the instructor sees the learner's attempt."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import requests
from sqlalchemy import select

from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.learning import QuizAttempt
from tests.integration.test_deep_linking_demo import (
    _PLACED,
    QUIZ,
    Stack,
    choose_quiz,
    deep_link_as_grace,
    post_form,
    stack,
)
from tests.unit.web.conftest import answer_fields
from workers.grades import GradeClients, send_grades

__all__ = ["stack"]  # the fixture, shared with the Deep Linking test

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_REVIEW = re.compile(r'href="(/gradebook/review/(\d+)/ada)"')


def place_quiz(stack: Stack) -> str:
    """Grace places the graded quiz; returns the placed link's launch path for Ada."""
    grace, picker = deep_link_as_grace(stack)
    placed = post_form(grace, choose_quiz(grace, picker))
    assert placed.status_code == 200, placed.text[:1500]
    launch = _PLACED.search(requests.get(stack.lms_url + "/", timeout=30).text)
    assert launch
    return launch.group(1)


def ada_hands_in_the_quiz(stack: Stack, launch_path: str) -> None:
    ada = requests.Session()
    landing = post_form(ada, ada.get(stack.lms_url + launch_path, timeout=30))
    assert landing.url.endswith("/courses/service-foundations/quiz"), landing.url
    csrf = _CSRF.search(landing.text)
    assert csrf
    started = ada.post(
        landing.url + "/attempts",
        data={"csrf_token": csrf.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert started.status_code == 303, started.text[:1500]
    attempt_url = started.headers["Location"]
    attempt_id = urlsplit(attempt_url).path.rstrip("/").rsplit("/", 1)[-1]
    with stack.services.sessions() as session:
        attempt = session.get(QuizAttempt, uuid.UUID(attempt_id))
        assert attempt is not None
        fields = answer_fields(attempt.question_ids, attempt_id, correct=True)
    submitted = ada.post(
        stack.tool_url + attempt_url if attempt_url.startswith("/") else attempt_url,
        data=[*fields, ("csrf_token", csrf.group(1)), ("action", "submit")],
        allow_redirects=False,
        timeout=30,
    )
    assert submitted.status_code == 303, submitted.text[:1500]


def send_scores(stack: Stack) -> list[GradeRow]:
    clients = GradeClients()
    try:
        send_grades(
            stack.services.sessions,
            clients.factory(stack.services),
            tool_url=stack.tool_url,
        )
    finally:
        clients.close()
    with stack.services.sessions() as session:
        return list(session.scalars(select(GradeRow).order_by(GradeRow.id)))


def test_the_platform_made_line_item_takes_the_score_and_opens_the_review(stack: Stack) -> None:
    launch_path = place_quiz(stack)
    gradebook = requests.get(stack.lms_url + "/gradebook", timeout=30).text
    # The platform created the column from the content item, before any score.
    assert f"({QUIZ})" in gradebook
    columns_before = gradebook.count('<th scope="col" id="item-')

    ada_hands_in_the_quiz(stack, launch_path)
    rows = send_scores(stack)

    assert [r.status for r in rows] == [GradeStatus.SENT], [r.last_error for r in rows]
    # The launch named the platform's line item: the score went there, nothing was created.
    assert rows[0].lineitem_url is not None
    assert rows[0].sent_lineitem_url == rows[0].lineitem_url
    gradebook = requests.get(stack.lms_url + "/gradebook", timeout=30).text
    assert gradebook.count('<th scope="col" id="item-') == columns_before
    review = _REVIEW.search(gradebook)
    assert review, gradebook
    assert rows[0].lineitem_url.endswith(f"/lineitems/{review.group(2)}/lineitem")
    # Sam handed nothing in: no review is offered, and asking anyway is refused.
    assert "/gradebook/review/" + review.group(2) + "/sam" not in gradebook
    sam = requests.get(f"{stack.lms_url}/gradebook/review/{review.group(2)}/sam", timeout=30)
    assert sam.status_code == 404

    grace = requests.Session()
    form_page = grace.get(stack.lms_url + review.group(1), timeout=30)
    assert form_page.status_code == 200, form_page.text[:1500]
    page = post_form(grace, form_page)

    assert page.status_code == 200, page.text[:1500]
    assert page.url.endswith("/review")
    assert "Submission review: Service Foundations final quiz" in page.text
    assert "Ada Okafor" in page.text
    assert "Attempt 1" in page.text
    assert "counts in the gradebook" in page.text


def test_a_line_item_without_submission_review_offers_none(stack: Stack) -> None:
    # The course's own link has a column the LMS made without submissionReview.
    assert requests.get(stack.lms_url + "/gradebook/review/1/ada", timeout=30).status_code == 404
