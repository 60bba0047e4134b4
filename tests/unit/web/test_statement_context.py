"""Statements as an LRS dashboard reads them: one registration per learner and placement,
causal timestamps, staff launches told apart, self-assessment ratings as survey replies."""

from __future__ import annotations

import itertools

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from content import activity_iri, load_catalog
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import LearnerBrowser, launch_learner, ours, outbox_statements
from tests.unit.web.test_progress import finish_course
from xapi import vocabulary

_ATTEMPT_VERBS = {vocabulary.ANSWERED.iri, vocabulary.PASSED.iri, vocabulary.FAILED.iri}


def _registrations(statements: list[dict]) -> set[str]:  # type: ignore[type-arg]
    return {s["context"]["registration"] for s in statements}


def test_one_learner_session_has_one_registration_and_attempts_in_an_extension(
    learner: LearnerBrowser, session: Session
) -> None:
    attempt_id = finish_course(learner, session)
    statements = outbox_statements(session)
    # launched, experienced, answered, passed and completed: all one enrolment, so the
    # course completion sits in the same registration as the quiz that completed it.
    assert len(_registrations(statements)) == 1
    quiz = ours(activity_iri(load_catalog().require_quiz("service-foundations-quiz")))
    # Knowledge-check answers (needed for completion) belong to no attempt; the quiz's do.
    in_attempt = [
        s
        for s in statements
        if s["verb"]["id"] in _ATTEMPT_VERBS
        and (
            s["object"]["id"] == quiz
            or s["context"]["contextActivities"]["parent"][0]["id"] == quiz
        )
    ]
    assert len(in_attempt) == 1 + load_catalog().require_quiz("service-foundations-quiz").draw
    for statement in in_attempt:
        assert statement["context"]["extensions"][ours(vocabulary.ATTEMPT_ID)] == attempt_id
    sessions = {s["context"]["extensions"][vocabulary.SESSION_ID] for s in statements}
    assert len(sessions) == 1


def test_a_second_session_of_the_same_learner_keeps_the_registration(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    launch_learner(client, registered, "learner-1")
    launch_learner(client, registered, "learner-1")
    launch_learner(client, registered, "learner-2")
    launched = [s for s in outbox_statements(session) if s["verb"]["id"] == vocabulary.LAUNCHED.iri]
    assert len(launched) == 3
    first, again, other = (s["context"]["registration"] for s in launched)
    assert first == again
    assert other != first
    assert (
        launched[0]["context"]["extensions"][vocabulary.SESSION_ID]
        != (launched[1]["context"]["extensions"][vocabulary.SESSION_ID])
    )


def test_answers_result_and_completion_have_strictly_increasing_timestamps(
    learner: LearnerBrowser, session: Session
) -> None:
    finish_course(learner, session)
    statements = outbox_statements(session)
    submit = [
        s
        for s in statements
        if s["verb"]["id"] in _ATTEMPT_VERBS or s["verb"]["id"] == vocabulary.COMPLETED.iri
    ]
    assert submit[-2]["verb"]["id"] == vocabulary.PASSED.iri
    assert submit[-1]["verb"]["id"] == vocabulary.COMPLETED.iri
    stamps = [s["timestamp"] for s in submit]
    # RFC 3339 in UTC with milliseconds and "Z" (the builder's one form) sorts as text.
    assert all(a < b for a, b in itertools.pairwise(stamps)), stamps


def test_staff_launches_carry_their_roles_and_the_staff_category(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    response = registered.launch(client, role="Instructor", sub="teacher-1")
    assert response.status_code == 303
    launch_learner(client, registered, "learner-1")
    staff, learner = (
        s for s in outbox_statements(session) if s["verb"]["id"] == vocabulary.LAUNCHED.iri
    )
    categories = [c["id"] for c in staff["context"]["contextActivities"]["category"]]
    assert ours(vocabulary.STAFF) in categories
    assert staff["context"]["extensions"][ours(vocabulary.LTI_ROLES)] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    ]
    categories = [c["id"] for c in learner["context"]["contextActivities"]["category"]]
    assert ours(vocabulary.STAFF) not in categories
    assert learner["context"]["extensions"][ours(vocabulary.LTI_ROLES)] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    ]
