"""The progress page and the course-completed rule; each learner sees only their own record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from content import load_catalog
from tests.unit.web.conftest import LearnerBrowser, answer_fields, attempt_row, verbs

COURSE = "service-foundations"


def finish_course(learner: LearnerBrowser, session: Session) -> str:
    for lesson in load_catalog().list_course_lessons(COURSE):
        assert learner.get(f"courses/{COURSE}/lessons/{lesson.id}").status_code == 200
    attempt_id = learner.start_quiz(COURSE)
    attempt = attempt_row(session, attempt_id)
    fields = answer_fields(attempt.question_ids, attempt_id, correct=True)
    learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    return attempt_id


def test_progress_shows_lessons_attempts_and_completion(
    learner: LearnerBrowser, session: Session
) -> None:
    page = learner.get(f"courses/{COURSE}/progress").get_data(as_text=True)
    assert "Not completed yet" in page
    assert "No attempts yet" in page
    attempt_id = finish_course(learner, session)
    page = learner.get(f"courses/{COURSE}/progress").get_data(as_text=True)
    total = len(load_catalog().list_course_lessons(COURSE))
    assert f"Lessons opened: {total} of {total}" in page
    assert attempt_id in page
    assert "100%" in page
    assert "Completed" in page
    assert verbs(session).count("completed") == 1


def test_completed_is_recorded_once(learner: LearnerBrowser, session: Session) -> None:
    finish_course(learner, session)
    learner.get(f"courses/{COURSE}/lessons/active-listening")
    assert verbs(session).count("completed") == 1


def test_lessons_alone_do_not_complete_the_course(
    learner: LearnerBrowser, session: Session
) -> None:
    for lesson in load_catalog().list_course_lessons(COURSE):
        learner.get(f"courses/{COURSE}/lessons/{lesson.id}")
    assert "completed" not in verbs(session)


def test_a_second_learner_sees_none_of_the_first_learners_progress(
    learner: LearnerBrowser, other_learner: LearnerBrowser, session: Session
) -> None:
    attempt_id = finish_course(learner, session)
    page = other_learner.get(f"courses/{COURSE}/progress").get_data(as_text=True)
    assert attempt_id not in page
    assert "No attempts yet" in page
    assert "Lessons opened: 0 of" in page
    assert other_learner.get(f"attempts/{attempt_id}").status_code == 404
    # The first learner's token is no master key either: a forged prefix gets nothing.
    forged = other_learner.client.get(f"/s/{learner.base.split('/')[2]}x/courses/{COURSE}/progress")
    assert forged.status_code == 401
