"""Which learner events queue a score for the LMS gradebook, in the learner's own
transaction, and which score: the one our quiz page shows as counting."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from content import load_catalog
from content.schema import DecisionNode
from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.models import OutboxRow
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import _CSRF, LearnerBrowser, answer_fields, attempt_row

COURSE = "service-foundations"
QUIZ = load_catalog().require_quiz("service-foundations-quiz")
SCENARIO = load_catalog().require_scenario("double-charge")
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CUSTOM = "https://purl.imsglobal.org/spec/lti/claim/custom"
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


def ags_claim(platform: TestPlatform, lineitem: bool = True) -> dict[str, Any]:
    claim: dict[str, Any] = {"scope": SCOPES, "lineitems": platform.base_url + "/ags/lineitems"}
    if lineitem:
        claim["lineitem"] = platform.base_url + "/ags/lineitems/1/lineitem"
    return {AGS: claim}


def launch_with(
    client: FlaskClient,
    platform: TestPlatform,
    extra: dict[str, Any],
    *,
    role: str = "Learner",
    sub: str = "learner-1",
) -> LearnerBrowser:
    redirect = platform.login(client)
    claims = platform.claims(redirect.nonce, role=role, sub=sub)
    claims.update(extra)
    response = client.post(
        "/lti/launch", data={"id_token": platform.sign(claims), "state": redirect.state}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    # A placed link lands on its activity; the learner's pages all live under /s/<token>/.
    session_root = re.match(r"/s/[^/]+/", urlsplit(response.headers["Location"]).path)
    assert session_root
    base = session_root.group(0)
    match = _CSRF.search(client.get(base + "self-assessment").get_data(as_text=True))
    assert match
    return LearnerBrowser(client=client, base=base, csrf=match.group(1))


def take_quiz(learner: LearnerBrowser, session: Session, *, correct: bool) -> str:
    attempt_id = learner.start_quiz(COURSE)
    questions = attempt_row(session, attempt_id).question_ids
    fields = answer_fields(questions, attempt_id, correct=correct)
    response = learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    assert response.status_code == 303
    return attempt_id


def grade_rows(session: Session) -> list[GradeRow]:
    session.expire_all()
    return list(session.scalars(select(GradeRow).order_by(GradeRow.id)))


def finish_scenario(learner: LearnerBrowser) -> str:
    run_id = learner.start_scenario(COURSE, SCENARIO.id)
    node, step = SCENARIO.node(SCENARIO.start), 0
    while isinstance(node, DecisionNode):
        choice = max(node.choices, key=lambda c: sum(c.scores.values()))
        assert learner.reply(run_id, step, node, choice.id).status_code == 303
        node, step = SCENARIO.node(choice.next), step + 1
    return run_id


def test_a_passed_then_failed_quiz_sends_the_best_score_both_times(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    learner = launch_with(client, registered, ags_claim(registered))
    passed = take_quiz(learner, session, correct=True)
    failed = take_quiz(learner, session, correct=False)
    rows = grade_rows(session)
    assert [r.source_id for r in rows] == [f"quiz-attempt:{passed}", f"quiz-attempt:{failed}"]
    best = attempt_row(session, passed)
    for row in rows:
        assert (row.score_given, row.score_maximum) == (best.score_raw, best.score_max)
        assert row.sub == "learner-1"
        assert row.lineitem_url == registered.base_url + "/ags/lineitems/1/lineitem"
        assert row.status is GradeStatus.PENDING
        assert row.grading_progress == "FullyGraded"
        assert row.activity_progress == "Completed"
        assert row.resource_id == f"quiz:{QUIZ.id}"
    assert "Best of 2 attempts, attempt 1: 100%, passed." in (rows[-1].comment or "")
    # The quiz page says the same.
    page = learner.get(f"courses/{COURSE}/quiz").get_data(as_text=True)
    assert re.search(r"score that counts: 100% \(your best attempt, number 1\)", page)


def test_with_last_attempt_counting_a_later_fail_is_sent(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    extra = {
        **ags_claim(registered),
        CUSTOM: {"cxa_activity": f"quiz:{QUIZ.id}", "cxa_score_counts": "last"},
    }
    learner = launch_with(client, registered, extra)
    take_quiz(learner, session, correct=True)
    failed = take_quiz(learner, session, correct=False)
    last = grade_rows(session)[-1]
    assert last.score_given == attempt_row(session, failed).score_raw
    page = learner.get(f"courses/{COURSE}/quiz").get_data(as_text=True)
    assert "your last attempt, number 2" in page


def test_a_first_failed_attempt_is_submitted_not_completed(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    learner = launch_with(client, registered, ags_claim(registered))
    take_quiz(learner, session, correct=False)
    (row,) = grade_rows(session)
    assert row.activity_progress == "Submitted"


def test_no_claim_no_grade(client: FlaskClient, registered: TestPlatform, session: Session) -> None:
    learner = launch_with(client, registered, {})
    take_quiz(learner, session, correct=True)
    assert grade_rows(session) == []


def test_an_instructor_trying_the_quiz_is_not_graded(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    learner = launch_with(client, registered, ags_claim(registered), role="Instructor")
    take_quiz(learner, session, correct=True)
    assert grade_rows(session) == []


def test_a_claim_without_the_score_scope_sends_nothing(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    claim = ags_claim(registered)
    claim[AGS]["scope"] = [SCOPES[0]]
    learner = launch_with(client, registered, claim)
    take_quiz(learner, session, correct=True)
    assert grade_rows(session) == []


def test_a_link_placed_for_another_activity_takes_no_quiz_score(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    extra = {**ags_claim(registered), CUSTOM: {"cxa_activity": f"scenario:{SCENARIO.id}"}}
    learner = launch_with(client, registered, extra)
    take_quiz(learner, session, correct=True)
    assert grade_rows(session) == []


def test_role_plays_on_a_plain_link_are_practice(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    learner = launch_with(client, registered, ags_claim(registered))
    finish_scenario(learner)
    assert grade_rows(session) == []


def test_a_role_play_placed_graded_sends_its_points(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    extra = {**ags_claim(registered), CUSTOM: {"cxa_activity": f"scenario:{SCENARIO.id}"}}
    learner = launch_with(client, registered, extra)
    finish_scenario(learner)
    (row,) = grade_rows(session)
    assert row.resource_id == f"scenario:{SCENARIO.id}"
    assert row.score_maximum > 0 and row.score_given == row.score_maximum
    assert row.activity_progress == "Completed"


def test_a_role_play_placed_ungraded_sends_nothing(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    extra = {
        **ags_claim(registered),
        CUSTOM: {"cxa_activity": f"scenario:{SCENARIO.id}", "cxa_graded": "false"},
    }
    learner = launch_with(client, registered, extra)
    finish_scenario(learner)
    assert grade_rows(session) == []


def test_the_grade_is_queued_with_the_attempt_or_not_at_all(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    learner = launch_with(client, registered, ags_claim(registered))
    attempt_id = take_quiz(learner, session, correct=True)
    # Submitting the same attempt again is refused and queues nothing more.
    again = learner.post(f"attempts/{attempt_id}", [("action", "submit")])
    assert again.status_code == 409
    assert len(grade_rows(session)) == 1


def test_near_misses_earn_nothing_alike_on_the_page_in_the_statement_and_in_the_gradebook(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    # All-or-nothing (docs/decisions/0019): an order with two neighbours swapped earns no
    # share of its point (partial credit would give it most), and the page, the xAPI result
    # and the grade all say so.
    learner = launch_with(client, registered, ags_claim(registered))
    attempt_id = learner.start_quiz(COURSE)
    attempt = attempt_row(session, attempt_id)
    ordering = next(q for q in load_catalog().list_quiz_pool(QUIZ.id) if q.type == "ordering")
    others = [q for q in attempt.question_ids if q != ordering.id][: QUIZ.draw - 1]
    attempt.question_ids = [ordering.id, *others]
    session.commit()  # the app reads the attempt through its own connection
    steps = [item.id for item in ordering.items]  # type: ignore[union-attr]
    swapped = [steps[1], steps[0], *steps[2:]]
    fields = [
        *answer_fields(others, attempt_id, correct=True),
        *((f"q.{ordering.id}.{step}", str(swapped.index(step) + 1)) for step in steps),
    ]
    response = learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    assert response.status_code == 303
    attempt = attempt_row(session, attempt_id)
    right = QUIZ.draw - 1
    assert (attempt.score_raw, attempt.score_max) == (right, QUIZ.draw)
    [row] = grade_rows(session)
    assert (row.score_given, row.score_maximum) == (right, QUIZ.draw)
    result = next(
        s["result"]
        for s in (r.statement for r in session.scalars(select(OutboxRow)))
        if s["verb"]["id"].endswith(("passed", "failed"))
    )
    assert result["score"] == {"raw": right, "min": 0.0, "max": QUIZ.draw, "scaled": right / 10}
    page = learner.get(f"attempts/{attempt_id}").get_data(as_text=True)
    assert f"{right} of {QUIZ.draw} points." in page
