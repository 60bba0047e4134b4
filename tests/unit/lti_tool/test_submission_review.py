"""Submission review claims: what a review launch must name, who may see whose work, and
the submissionReview our line items declare."""

from __future__ import annotations

from typing import Any

import pytest

from lti_tool.errors import LaunchError
from lti_tool.lti.deep_linking import LineItem
from lti_tool.lti.grades import ENDPOINT_CLAIM
from lti_tool.lti.roles import INSTRUCTOR, LEARNER
from lti_tool.lti.submission_review import (
    FOR_USER_CLAIM,
    ForUser,
    ReviewRequest,
    may_review,
    review_url,
    submission_review,
)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
TA = "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"


def body(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        FOR_USER_CLAIM: {"user_id": "learner-1", "given_name": "Lee", "family_name": "Learner"},
        ENDPOINT_CLAIM: {"scope": [], "lineitem": "https://lms/li/1"},
        CLAIM + "resource_link": {"id": "link-1"},
    }
    for key, value in changes.items():
        if value is None:
            claims.pop(key, None)
        else:
            claims[key] = value
    return claims


def test_a_complete_request_is_read() -> None:
    request = ReviewRequest.from_claims(body())
    assert request == ReviewRequest(
        ForUser("learner-1", "Lee Learner"), "https://lms/li/1", "link-1"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {FOR_USER_CLAIM: None},
        {FOR_USER_CLAIM: "learner-1"},
        {FOR_USER_CLAIM: {"user_id": ""}},
        {FOR_USER_CLAIM: {"user_id": "x" * 256}},
        {FOR_USER_CLAIM: {"user_id": "a\x00b"}},
        {ENDPOINT_CLAIM: None},
        {ENDPOINT_CLAIM: {"scope": [], "lineitems": "https://lms/li"}},
        {CLAIM + "resource_link": None},
        {CLAIM + "resource_link": {"title": "no id"}},
    ],
    ids=[
        "no-for-user",
        "for-user-not-object",
        "empty-id",
        "too-long-id",
        "nul-in-id",
        "no-ags",
        "container-only",
        "no-link",
        "link-without-id",
    ],
)
def test_an_incomplete_request_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(LaunchError):
        ReviewRequest.from_claims(body(**changes))


@pytest.mark.parametrize(
    ("roles", "sub", "allowed"),
    [
        ([INSTRUCTOR], "teacher-1", True),
        ([TA], "ta-1", True),
        ([LEARNER], "learner-1", True),
        ([LEARNER], "learner-2", False),
        ([], "nobody", False),
    ],
)
def test_who_may_review_learner_1(roles: list[str], sub: str, allowed: bool) -> None:
    assert may_review(roles, sub, "learner-1") is allowed


def test_only_quizzes_and_role_plays_have_a_review_url() -> None:
    assert review_url("https://tool", "quiz:q1") == "https://tool/lti/review/quiz/q1"
    assert review_url("https://tool", "scenario:s1") == "https://tool/lti/review/scenario/s1"
    assert review_url("https://tool", "course:c1") is None
    assert review_url("https://tool", "lesson:l1") is None
    assert review_url("https://tool", "quiz:") is None


def test_a_deep_linked_line_item_carries_its_submission_review() -> None:
    review = submission_review("https://tool/lti/review/quiz/q1")
    item = LineItem(100, "Quiz", "quiz:q1", "quiz", submission_review=review)
    assert item.to_json()["submissionReview"] == {
        "reviewableStatus": ["Submitted", "Completed"],
        "url": "https://tool/lti/review/quiz/q1",
    }
    assert "submissionReview" not in LineItem(100, "Course", "course:c", "course").to_json()
