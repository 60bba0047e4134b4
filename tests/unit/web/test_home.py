"""The learner's home: learning-path order, continue where you left off, recommended next."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from content import load_catalog
from content.schema import Course
from lti_tool.store.learning import AttemptStatus, LessonView, QuizAttempt, RunStatus, ScenarioRun
from lti_tool.web.next_step import continue_step, recommend_next
from lti_tool.web.progress import CourseProgress
from tests.unit.web.conftest import LearnerBrowser

CATALOG = load_catalog()
PATH = CATALOG.list_courses_in_path()
TITLES = {lesson.id: lesson.title for lesson in CATALOG.list_lessons()}
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def lesson_ids(course: Course) -> list[str]:
    return [lesson for module in course.modules for lesson in module.lessons]


def progress(
    course: Course,
    opened: list[str] = (),  # type: ignore[assignment]
    *,
    passed: bool = False,
    open_attempt: bool = False,
    open_run_at: datetime | None = None,
) -> CourseProgress:
    views = {
        lid: LessonView(course_id=course.id, lesson_id=lid, last_viewed_at=T0 + timedelta(i))
        for i, lid in enumerate(opened)
    }
    attempts = []
    if passed:
        attempts.append(QuizAttempt(id=uuid.uuid4(), status=AttemptStatus.SUBMITTED, passed=True))
    if open_attempt:
        attempts.append(
            QuizAttempt(
                id=uuid.uuid4(), status=AttemptStatus.IN_PROGRESS, started_at=T0 + timedelta(90)
            )
        )
    runs = {}
    if open_run_at is not None:
        runs[course.scenarios[0]] = [
            ScenarioRun(id=uuid.uuid4(), status=RunStatus.IN_PROGRESS, started_at=open_run_at)
        ]
    return CourseProgress(course, views, attempts, runs, [], {})


def done(course: Course) -> CourseProgress:
    return progress(course, lesson_ids(course), passed=True)


def test_the_path_puts_foundations_first_and_every_course_after_its_prerequisites() -> None:
    ids = [course.id for course in PATH]
    assert ids[0] == "service-foundations"
    assert sorted(ids) == sorted(c.id for c in CATALOG.list_courses())
    for position, course in enumerate(PATH):
        assert all(ids.index(required) < position for required in course.prerequisites)
    # Not alphabetical: the catalogue's folders sort "growing-on-the-job" first.
    assert ids != sorted(ids)


def test_a_new_learner_is_recommended_the_first_lesson_of_the_path() -> None:
    step = recommend_next([progress(c) for c in PATH], TITLES)
    assert step is not None
    assert (step.kind, step.target) == ("lesson", lesson_ids(PATH[0])[0])


def test_recommendation_skips_opened_lessons_and_completed_courses() -> None:
    first, second = PATH[0], PATH[1]
    step = recommend_next([done(first), progress(second, lesson_ids(second)[:2])], TITLES)
    assert step is not None
    assert step.course.id == second.id
    assert (step.kind, step.target) == ("lesson", lesson_ids(second)[2])


def test_with_every_lesson_opened_the_quiz_not_yet_passed_comes_next() -> None:
    first = PATH[0]
    step = recommend_next([progress(first, lesson_ids(first))], TITLES)
    assert step is not None and (step.kind, step.target) == ("quiz", first.id)


@pytest.mark.parametrize("count", range(len(PATH) + 1))
def test_never_recommends_something_completed(count: int) -> None:
    path = [done(c) if i < count else progress(c) for i, c in enumerate(PATH)]
    step = recommend_next(path, TITLES, focus_modules=[m.id for m in PATH[0].modules])
    if count == len(PATH):
        assert step is None
        return
    assert step is not None
    assert step.course.id not in {c.id for c in PATH[:count]}
    assert step.kind == "lesson"


def test_self_assessment_modules_come_first_but_not_once_opened() -> None:
    later = PATH[-1]
    module = later.modules[-1]
    path = [progress(c) for c in PATH]
    step = recommend_next(path, TITLES, focus_modules=[module.id])
    assert step is not None and step.target == module.lessons[0]
    path[-1] = progress(later, list(module.lessons))
    step = recommend_next(path, TITLES, focus_modules=[module.id])
    assert step is not None and step.target == lesson_ids(PATH[0])[0]


def test_continue_is_the_latest_unfinished_thing() -> None:
    first, second = PATH[0], PATH[1]
    opened = lesson_ids(first)[:3]
    step = continue_step([progress(first, opened), progress(second)], TITLES)
    assert step is not None and (step.kind, step.target) == ("lesson", opened[-1])
    # A role-play left open later than that lesson wins.
    with_run = progress(first, opened, open_run_at=T0 + timedelta(50))
    step = continue_step([with_run, progress(second)], TITLES)
    assert step is not None and step.kind == "run"
    # An open quiz attempt, later still.
    step = continue_step([progress(first, opened, open_attempt=True)], TITLES)
    assert step is not None and step.kind == "attempt"


def test_nothing_to_continue_in_a_completed_course_or_for_a_new_learner() -> None:
    assert continue_step([progress(c) for c in PATH], TITLES) is None
    assert continue_step([done(PATH[0])], TITLES) is None


def test_home_page_shows_the_path_in_order_and_a_quiet_sign_in_line(
    learner: LearnerBrowser,
) -> None:
    page = learner.get("").get_data(as_text=True)
    positions = [page.index(f'/courses/{course.id}/"') for course in PATH]
    assert positions == sorted(positions)
    assert 'id="signed-in"' in page
    assert "<dt>" not in page  # the old facts block is gone
    assert 'id="recommended"' in page and 'id="resume"' not in page
    assert f"/lessons/{lesson_ids(PATH[0])[0]}" in page


def test_home_page_continues_from_the_last_lesson_and_recommends_the_next(
    learner: LearnerBrowser,
) -> None:
    first_lesson, second_lesson = lesson_ids(PATH[0])[:2]
    assert learner.get(f"courses/{PATH[0].id}/lessons/{first_lesson}").status_code == 200
    page = learner.get("").get_data(as_text=True)
    resume = page[page.index('id="resume"') : page.index('id="recommended"')]
    assert f"/lessons/{first_lesson}" in resume
    recommended = page[page.index('id="recommended"') : page.index('id="courses"')]
    assert f"/lessons/{second_lesson}" in recommended
    assert f'/lessons/{first_lesson}"' not in recommended
    # Opening a lesson is not doing it: its knowledge check is still unanswered.
    assert f"0 of {sum(len(m.lessons) for m in PATH[0].modules)} lessons done" in page


def test_home_page_shows_none_of_another_learners_record(
    learner: LearnerBrowser, other_learner: LearnerBrowser
) -> None:
    # The page's reads are built once per process and bound to the visitor per request:
    # the ownership filter must still pick the visitor's rows, not the first caller's.
    first_lesson = lesson_ids(PATH[0])[0]
    assert learner.get(f"courses/{PATH[0].id}/lessons/{first_lesson}").status_code == 200
    learner.start_quiz(PATH[0].id)
    mine = learner.get("").get_data(as_text=True)
    assert 'id="resume"' in mine
    theirs = other_learner.get("").get_data(as_text=True)
    assert 'id="resume"' not in theirs
    recommended = theirs[theirs.index('id="recommended"') : theirs.index('id="courses"')]
    assert f"/lessons/{first_lesson}" in recommended
