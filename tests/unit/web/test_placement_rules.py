"""A placed link runs its activity by the instructor's options (Deep Linking custom
parameters), and keeps attempts, counted scores and grades per placement (platform,
deployment, context, resource link); the learner's history still spans placements."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content import activity_iri
from lti_tool.store.learning import QuizAttempt
from tests.fixtures.platform import CLAIM, TestPlatform
from tests.unit.web.conftest import (
    LearnerBrowser,
    answer_fields,
    attempt_row,
    ours,
    outbox_statements,
)
from tests.unit.web.test_grade_publishing import (
    AGS,
    COURSE,
    CUSTOM,
    QUIZ,
    SCENARIO,
    SCOPES,
    finish_scenario,
    grade_rows,
    launch_with,
    take_quiz,
)

QUIZ_ID = f"quiz:{QUIZ.id}"


def placement(
    platform: TestPlatform, link: str, custom: dict[str, str], *, title: str | None = None
) -> dict[str, Any]:
    """The claims of one placed link: its resource link, custom parameters and line item."""
    return {
        CLAIM + "resource_link": {"id": link, "title": title or f"Link {link}"},
        CUSTOM: custom,
        AGS: {
            "scope": SCOPES,
            "lineitems": platform.base_url + "/ags/lineitems",
            "lineitem": f"{platform.base_url}/ags/lineitems/{link}/lineitem",
        },
    }


def submit_scoring(
    learner: LearnerBrowser, session: Session, right: int
) -> tuple[str, QuizAttempt]:
    """Start an attempt and submit it with the first ``right`` questions answered correctly."""
    attempt_id = learner.start_quiz(COURSE)
    questions = attempt_row(session, attempt_id).question_ids
    fields = answer_fields(questions[:right], attempt_id, correct=True)
    fields += answer_fields(questions[right:], attempt_id, correct=False)
    response = learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    assert response.status_code == 303, response.get_data(as_text=True)
    return attempt_id, attempt_row(session, attempt_id)


def quiz_page(learner: LearnerBrowser) -> str:
    page = learner.get(f"courses/{COURSE}/quiz")
    assert page.status_code == 200
    return str(page.get_data(as_text=True))


def test_two_placements_keep_separate_attempt_limits_scores_and_grades(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    once = launch_with(
        client,
        registered,
        placement(registered, "week-1", {"cxa_activity": QUIZ_ID, "cxa_attempts": "1"}),
    )
    passed = take_quiz(once, session, correct=True)
    assert once.post(f"courses/{COURSE}/quiz/attempts").status_code == 409

    again = launch_with(
        client,
        registered,
        placement(registered, "week-2", {"cxa_activity": QUIZ_ID, "cxa_attempts": "2"}),
    )
    page = quiz_page(again)
    assert "2 attempts allowed. 2 attempts left." in page
    assert "score that counts" not in page, "week 1's score does not count in week 2"
    failed = take_quiz(again, session, correct=False)

    assert attempt_row(session, failed).number == 1
    assert "score that counts: 0% (your best attempt, number 1)" in quiz_page(again)
    assert "score that counts: 100% (your best attempt, number 1)" in quiz_page(once)
    rows = grade_rows(session)
    assert [(r.source_id, r.lineitem_url, r.score_given) for r in rows] == [
        (
            f"quiz-attempt:{passed}",
            registered.base_url + "/ags/lineitems/week-1/lineitem",
            attempt_row(session, passed).score_raw,
        ),
        (f"quiz-attempt:{failed}", registered.base_url + "/ags/lineitems/week-2/lineitem", 0.0),
    ]
    # Week 2 still has an attempt left: its failed score is submitted, not final.
    assert rows[1].activity_progress == "Submitted"
    assert "Best of 1 attempt," in (rows[1].comment or "")


def test_a_pass_mark_of_90_fails_a_learner_at_80_and_statement_and_grade_agree(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    custom = {"cxa_activity": QUIZ_ID, "cxa_pass_mark": "90"}
    learner = launch_with(client, registered, placement(registered, "strict", custom))
    assert "Pass mark: 90%." in quiz_page(learner)

    attempt_id, attempt = submit_scoring(learner, session, right=8)

    assert attempt.score_scaled == 0.8 and attempt.passed is False
    (result,) = [
        s
        for s in outbox_statements(session)
        if s["object"]["id"] == ours(activity_iri(QUIZ))
        and "result" in s
        and "score" in s["result"]
    ]
    assert result["verb"]["id"].endswith("/failed")
    assert result["result"]["success"] is False
    (grade,) = grade_rows(session)
    assert grade.source_id == f"quiz-attempt:{attempt_id}"
    assert grade.score_given == attempt.score_raw
    assert "80%, not passed" in (grade.comment or "")
    review = learner.get(f"attempts/{attempt_id}").get_data(as_text=True)
    assert "The pass mark is 90%." in review


def test_without_a_placement_80_percent_passes_at_the_contents_pass_mark(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    learner = launch_with(client, registered, {})
    assert f"Pass mark: {round(QUIZ.pass_mark * 100)}%." in quiz_page(learner)

    _attempt_id, attempt = submit_scoring(learner, session, right=8)

    assert attempt.score_scaled == 0.8 and attempt.passed is True


def test_questions_drawn_and_attempts_allowed_follow_the_options(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    custom = {"cxa_activity": QUIZ_ID, "cxa_draw": "4", "cxa_attempts": "1"}
    learner = launch_with(client, registered, placement(registered, "short", custom))
    page = quiz_page(learner)
    assert "4 questions, drawn at random" in page
    assert "1 attempt allowed. 1 attempt left." in page

    attempt_id = take_quiz(learner, session, correct=True)

    assert len(attempt_row(session, attempt_id).question_ids) == 4
    assert "You have used every attempt" in quiz_page(learner)
    refused = learner.post(f"courses/{COURSE}/quiz/attempts")
    assert refused.status_code == 409
    assert "all 1 attempts" in refused.get_data(as_text=True)


def test_a_course_placement_governs_its_final_quiz(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    custom = {"cxa_activity": f"course:{COURSE}", "cxa_draw": "3"}
    learner = launch_with(client, registered, placement(registered, "course", custom))

    attempt_id = learner.start_quiz(COURSE)

    assert len(attempt_row(session, attempt_id).question_ids) == 3


def test_bad_option_values_fall_back_to_the_contents_settings(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    custom = {
        "cxa_activity": QUIZ_ID,
        "cxa_draw": "999",
        "cxa_attempts": "many",
        "cxa_pass_mark": "150",
        "cxa_score_counts": "worst",
    }
    learner = launch_with(client, registered, placement(registered, "typo", custom))
    page = quiz_page(learner)
    assert f"{QUIZ.draw} questions, drawn at random" in page
    assert f"Pass mark: {round(QUIZ.pass_mark * 100)}%." in page
    assert f"{QUIZ.attempts} attempts allowed." in page
    assert "Your best attempt is the one that counts." in page

    attempt_id = learner.start_quiz(COURSE)

    assert len(attempt_row(session, attempt_id).question_ids) == QUIZ.draw


def test_the_intro_says_which_attempt_counts_and_when_it_is_not_graded(
    client: FlaskClient, registered: TestPlatform
) -> None:
    last = {"cxa_activity": QUIZ_ID, "cxa_score_counts": "last"}
    learner = launch_with(client, registered, placement(registered, "last", last))
    assert "Your last attempt is the one that counts." in quiz_page(learner)
    ungraded = {"cxa_activity": QUIZ_ID, "cxa_graded": "false"}
    learner = launch_with(client, registered, placement(registered, "free", ungraded))
    assert "This quiz is not graded in your course." in quiz_page(learner)


def test_the_progress_page_shows_every_placements_history(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    week1 = launch_with(
        client,
        registered,
        placement(registered, "week-1", {"cxa_activity": QUIZ_ID}, title="Week one check"),
    )
    take_quiz(week1, session, correct=True)
    week2 = launch_with(
        client,
        registered,
        placement(registered, "week-2", {"cxa_activity": QUIZ_ID}, title="Week two check"),
    )
    take_quiz(week2, session, correct=False)

    page = week2.get(f"courses/{COURSE}/progress").get_data(as_text=True)

    assert "Week one check" in page and "Week two check" in page
    assert "100%" in page and "0%" in page


def test_another_learner_in_the_same_placement_sees_none_of_the_first_ones_records(
    app: Flask, client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    custom = {"cxa_activity": QUIZ_ID, "cxa_attempts": "1"}
    first = launch_with(client, registered, placement(registered, "shared", custom))
    mine = take_quiz(first, session, correct=True)

    other = launch_with(
        app.test_client(),
        registered,
        placement(registered, "shared", custom, title="Shared check"),
        sub="learner-2",
    )

    assert "1 attempt left." in quiz_page(other)
    progress = other.get(f"courses/{COURSE}/progress").get_data(as_text=True)
    assert "No attempts yet." in progress and "Shared check" not in progress
    assert other.get(f"attempts/{mine}").status_code == 404
    theirs = take_quiz(other, session, correct=False)
    assert attempt_row(session, theirs).number == 1
    assert session.scalar(select(func.count()).select_from(QuizAttempt)) == 2


def test_a_placed_role_play_has_its_pass_mark_and_attempts(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    custom = {"cxa_activity": f"scenario:{SCENARIO.id}", "cxa_pass_mark": "60", "cxa_attempts": "1"}
    learner = launch_with(client, registered, placement(registered, "rp", custom))
    intro = learner.get(f"courses/{COURSE}/scenarios/{SCENARIO.id}").get_data(as_text=True)
    assert "Pass mark: 60% of the points" in intro
    assert "1 attempt allowed. 1 attempt left." in intro

    finish_scenario(learner)

    (row,) = grade_rows(session)
    assert row.lineitem_url == registered.base_url + "/ags/lineitems/rp/lineitem"
    intro = learner.get(f"courses/{COURSE}/scenarios/{SCENARIO.id}").get_data(as_text=True)
    assert "You have used every attempt at this role-play." in intro
    assert learner.post(f"courses/{COURSE}/scenarios/{SCENARIO.id}/runs").status_code == 409


def test_role_plays_elsewhere_stay_open_practice(
    client: FlaskClient, registered: TestPlatform
) -> None:
    custom = {"cxa_activity": f"scenario:{SCENARIO.id}", "cxa_attempts": "1"}
    limited = launch_with(client, registered, placement(registered, "rp", custom))
    finish_scenario(limited)
    practice = launch_with(client, registered, {})

    intro = practice.get(f"courses/{COURSE}/scenarios/{SCENARIO.id}").get_data(as_text=True)

    assert "Attempts allowed" not in intro
    finish_scenario(practice)
    finish_scenario(practice)


def test_an_attempt_is_scored_and_graded_by_the_link_it_was_started_in(
    client: FlaskClient, registered: TestPlatform, session: Session
) -> None:
    strict = {"cxa_activity": QUIZ_ID, "cxa_pass_mark": "90"}
    exam = launch_with(client, registered, placement(registered, "exam", strict))
    attempt_id = exam.start_quiz(COURSE)
    questions = attempt_row(session, attempt_id).question_ids
    practice = launch_with(client, registered, placement(registered, "practice", {}))

    # Submitted from the practice link's session: still the exam's attempt.
    fields = answer_fields(questions[:8], attempt_id, correct=True)
    fields += answer_fields(questions[8:], attempt_id, correct=False)
    response = practice.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])

    assert response.status_code == 303
    assert attempt_row(session, attempt_id).passed is False
    (grade,) = grade_rows(session)
    assert grade.lineitem_url == registered.base_url + "/ags/lineitems/exam/lineitem"
