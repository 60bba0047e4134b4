"""The progress page and the course-completed rule; each learner sees only their own record."""

from __future__ import annotations

from sqlalchemy.orm import Session

from content import load_catalog
from tests.unit.web.conftest import LearnerBrowser, answer_fields, attempt_row, verbs

COURSE = "service-foundations"


def answer_checks(learner: LearnerBrowser, *, skip: int = 0) -> None:
    """Open every lesson and answer its knowledge check (wrongly: practice counts anyway),
    leaving out the last ``skip`` lessons' checks."""
    lessons = load_catalog().list_course_lessons(COURSE)
    for index, lesson in enumerate(lessons):
        assert learner.get(f"courses/{COURSE}/lessons/{lesson.id}").status_code == 200
        if index >= len(lessons) - skip:
            continue
        fields = answer_fields(list(lesson.knowledge_check), lesson.id, correct=False)
        checked = learner.post(f"courses/{COURSE}/lessons/{lesson.id}/check", fields)
        assert checked.status_code == 200


def pass_quiz(learner: LearnerBrowser, session: Session) -> str:
    attempt_id = learner.start_quiz(COURSE)
    attempt = attempt_row(session, attempt_id)
    fields = answer_fields(attempt.question_ids, attempt_id, correct=True)
    learner.post(f"attempts/{attempt_id}", [*fields, ("action", "submit")])
    return attempt_id


def finish_course(learner: LearnerBrowser, session: Session) -> str:
    answer_checks(learner)
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
    assert f"Lessons with their check answered: {total} of {total}" in page
    assert attempt_id in page
    assert "100%" in page
    assert "Completed" in page
    assert verbs(session).count("completed") == 1


def test_completed_is_recorded_once(learner: LearnerBrowser, session: Session) -> None:
    finish_course(learner, session)
    learner.get(f"courses/{COURSE}/lessons/active-listening")
    assert verbs(session).count("completed") == 1


def test_opened_lessons_and_a_passed_quiz_do_not_complete_the_course(
    learner: LearnerBrowser, session: Session
) -> None:
    # Completion means learning (issue 11): opening pages proves nothing.
    answer_checks(learner, skip=len(load_catalog().list_course_lessons(COURSE)))
    pass_quiz(learner, session)
    assert "completed" not in verbs(session)
    page = learner.get(f"courses/{COURSE}/progress").get_data(as_text=True)
    assert "Not completed yet" in page


def test_one_unanswered_check_keeps_the_course_open_until_it_is_answered(
    learner: LearnerBrowser, session: Session
) -> None:
    answer_checks(learner, skip=1)
    pass_quiz(learner, session)
    assert "completed" not in verbs(session)
    last = load_catalog().list_course_lessons(COURSE)[-1]
    # Half the check is not the check: every question must be answered.
    first_only = answer_fields(list(last.knowledge_check[:1]), last.id, correct=True)
    learner.post(f"courses/{COURSE}/lessons/{last.id}/check", first_only)
    assert "completed" not in verbs(session)
    rest = answer_fields(list(last.knowledge_check[1:]), last.id, correct=True)
    assert learner.post(f"courses/{COURSE}/lessons/{last.id}/check", rest).status_code == 200
    assert verbs(session).count("completed") == 1


def test_another_learners_checks_do_not_count_towards_mine(
    learner: LearnerBrowser, other_learner: LearnerBrowser, session: Session
) -> None:
    answer_checks(other_learner)
    answer_checks(learner, skip=len(load_catalog().list_course_lessons(COURSE)))
    pass_quiz(learner, session)
    assert "completed" not in verbs(session)


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
    assert "Lessons with their check answered: 0 of" in page
    assert other_learner.get(f"attempts/{attempt_id}").status_code == 404
    # The first learner's token is no master key either: a forged prefix gets nothing.
    forged = other_learner.client.get(f"/s/{learner.base.split('/')[2]}x/courses/{COURSE}/progress")
    assert forged.status_code == 401
