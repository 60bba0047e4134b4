"""A learner's whole course over HTTP after a real LTI launch, and its statements in Ralph.

Lessons (with a knowledge check), a failed then a passed quiz attempt, a role-play and the
self-assessment; the progress page must show it all, the outbox must hold the matching
statements, and a real LRS must store them and give each one back by id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from content import activity_iri, load_catalog
from content.schema import DecisionNode
from lti_tool.demo.ralph import RalphServer
from lti_tool.services import Services
from lti_tool.store.models import OutboxRow
from tests.fixtures.platform import TestPlatform
from tests.fixtures.ralph import ralph_auth
from tests.fixtures.servers import HttpClient, serve
from tests.unit.web.conftest import answer_fields, attempt_row, launch_learner
from xapi import vocabulary
from xapi.iris import rebase_iri
from xapi.lrs import LRSClient

pytestmark = pytest.mark.integration

COURSE = "service-foundations"


@pytest.fixture
def http_client(app: Flask) -> Iterator[HttpClient]:
    """The tool served on a loopback port: the journey goes over real HTTP."""
    with serve(app) as base_url:
        client = HttpClient(base_url)
        yield client
        client.close()


def test_a_learner_takes_a_whole_course_and_the_lrs_has_every_statement(
    http_client: HttpClient, registered: TestPlatform, services: Services, ralph: RalphServer
) -> None:
    client = http_client
    catalog = load_catalog()
    course = catalog.require_course(COURSE)
    assert course.quiz is not None
    learner = launch_learner(client, registered, "journey-learner")
    home = learner.get("").get_data(as_text=True)
    assert f"/courses/{COURSE}/" in home

    # Lessons, in order, each with its knowledge check answered: completion needs them all.
    lessons = catalog.list_course_lessons(COURSE)
    for lesson in lessons:
        page = learner.get(f"courses/{COURSE}/lessons/{lesson.id}")
        assert page.status_code == 200
        checked = learner.post(
            f"courses/{COURSE}/lessons/{lesson.id}/check",
            answer_fields(list(lesson.knowledge_check), lesson.id, correct=True),
        )
        assert checked.status_code == 200

    with services.sessions() as session:
        # Quiz: one failed attempt, then a passed one.
        failed_id = learner.start_quiz(COURSE)
        questions = attempt_row(session, failed_id).question_ids
        wrong = answer_fields(questions, failed_id, correct=False)
        assert (
            learner.post(f"attempts/{failed_id}", [*wrong, ("action", "submit")]).status_code == 303
        )
        assert attempt_row(session, failed_id).passed is False
        passed_id = learner.start_quiz(COURSE)
        assert passed_id != failed_id
        questions = attempt_row(session, passed_id).question_ids
        right = answer_fields(questions, passed_id, correct=True)
        assert (
            learner.post(f"attempts/{passed_id}", [*right, ("action", "submit")]).status_code == 303
        )
        assert attempt_row(session, passed_id).passed is True

    # A role-play, best reply at every step.
    scenario = catalog.require_scenario(course.scenarios[0])
    run_id = learner.start_scenario(COURSE, scenario.id)
    node = scenario.node(scenario.start)
    step = 0
    while isinstance(node, DecisionNode):
        choice = max(node.choices, key=lambda c: sum(c.scores.values()))
        answer = learner.reply(run_id, step, node, choice.id)
        assert answer.status_code == 303
        node, step = scenario.node(choice.next), step + 1
    assert "Debrief" in learner.get(f"runs/{run_id}").get_data(as_text=True)

    # The self-assessment, rating listening lowest.
    assessment = catalog.require_self_assessment()
    ratings = {f"q.{s.id}": "1" if s.skill == "listening" else "4" for s in assessment.statements}
    result = learner.post("self-assessment", ratings)
    assert result.status_code == 303
    assert "Where to focus next" in client.get(urlsplit(result.headers["Location"]).path).get_data(
        as_text=True
    )

    # The progress page shows all of it.
    progress = learner.get(f"courses/{COURSE}/progress").get_data(as_text=True)
    assert "Completed: every lesson" in progress
    assert "knowledge check answered and the quiz passed." in progress
    assert f"Lessons with their check answered: {len(lessons)} of {len(lessons)}" in progress
    assert failed_id in progress and passed_id in progress
    assert "Not passed" in progress and "Passed" in progress
    assert "played once" in progress

    # The outbox holds the matching statements...
    with services.sessions() as session:
        statements = [row.statement for row in session.scalars(select(OutboxRow))]
    by_verb = Counter(s["verb"]["id"].rsplit("/", 1)[-1] for s in statements)
    assert by_verb["launched"] == 1
    assert by_verb["experienced"] == len(lessons)
    assert by_verb["attempted"] == 2
    assert by_verb["failed"] == 1
    assert by_verb["passed"] == 1
    assert by_verb["chose"] == step
    # course + role-play + self-assessment
    assert by_verb["completed"] == 3
    # knowledge checks + 2 quiz attempts; ratings are survey replies, never "answered"
    checks = sum(len(lesson.knowledge_check) for lesson in lessons)
    assert by_verb["answered"] >= checks + course.quiz.draw
    assert by_verb["responded"] == len(assessment.statements)
    # One learner in one placement: one registration for the whole journey (cmi5).
    assert len({s["context"]["registration"] for s in statements}) == 1
    course_iri = rebase_iri(activity_iri(course), services.settings.iri_base)
    completed_course = [
        s
        for s in statements
        if s["verb"]["id"].endswith("completed") and s["object"]["id"] == course_iri
    ]
    assert len(completed_course) == 1

    # ...and the real LRS stores every one of them and gives each back by id.
    username, password = ralph_auth(ralph)
    with LRSClient(ralph.config.endpoint, username=username, password=password) as lrs:
        outcome = lrs.post_statements(statements)
        assert outcome.delivered, outcome.detail
        for statement in statements:
            stored = lrs.get_statement(statement["id"])
            assert stored is not None, statement["id"]
            assert stored["verb"]["id"] == statement["verb"]["id"]
            assert stored["object"]["id"] == statement["object"]["id"]
        passed = lrs.get_statement(
            next(s["id"] for s in statements if s["verb"]["id"].endswith("passed"))
        )
        assert passed is not None
        assert passed["result"]["score"]["scaled"] == 1.0
        # The attempt travels in its own extension; the registration is the enrolment's.
        attempt_key = rebase_iri(vocabulary.ATTEMPT_ID, services.settings.iri_base)
        assert passed["context"]["extensions"][attempt_key] == passed_id
