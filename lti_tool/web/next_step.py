"""Where a learner goes from the home page: what they left open, and what to take next.

Works on progress already read (lti_tool.web.progress.CourseProgress), so the rules are
testable without a database. A recommendation is never something already done: an opened
lesson, a passed quiz or a completed course is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from content.schema import Course
from lti_tool.store.learning import AttemptStatus, RunStatus
from lti_tool.web.progress import CourseProgress

StepKind = Literal["lesson", "quiz", "attempt", "run"]


@dataclass(frozen=True)
class Step:
    """One place to go: a lesson, a course quiz, or an open quiz attempt or role-play run."""

    course: Course
    kind: StepKind
    #: The lesson id, or the open attempt's or run's id; the course id for a quiz.
    target: str
    title: str
    at: datetime | None = None


def continue_step(progress: Iterable[CourseProgress], titles: dict[str, str]) -> Step | None:
    """The most recent thing the learner did that is not finished: an open quiz attempt or
    role-play run, or the last lesson they opened in a course not yet completed.

    ``titles`` maps lesson and scenario ids to their titles.
    """
    latest: Step | None = None

    def consider(step: Step) -> None:
        nonlocal latest
        if step.at is not None and (latest is None or latest.at is None or step.at > latest.at):
            latest = step

    for course_progress in progress:
        course = course_progress.course
        for attempt in course_progress.attempts:
            if attempt.status == AttemptStatus.IN_PROGRESS:
                title = course.quiz.title if course.quiz else course.title
                consider(Step(course, "attempt", str(attempt.id), title, attempt.started_at))
        for scenario_id, runs in course_progress.runs.items():
            for run in runs:
                if run.status == RunStatus.IN_PROGRESS:
                    title = titles.get(scenario_id, scenario_id)
                    consider(Step(course, "run", str(run.id), title, run.started_at))
        if course_progress.completed:
            continue
        for view in course_progress.views.values():
            title = titles.get(view.lesson_id, view.lesson_id)
            consider(Step(course, "lesson", view.lesson_id, title, view.last_viewed_at))
    return latest


def _next_in_course(course_progress: CourseProgress, titles: dict[str, str]) -> Step | None:
    course = course_progress.course
    for module in course.modules:
        for lesson_id in module.lessons:
            if lesson_id not in course_progress.views:
                return Step(course, "lesson", lesson_id, titles.get(lesson_id, lesson_id))
    if course.quiz is not None and not course_progress.quiz_passed:
        return Step(course, "quiz", course.id, course.quiz.title)
    return None


def recommend_next(
    path: Sequence[CourseProgress],
    titles: dict[str, str],
    focus_modules: Sequence[str] = (),
) -> Step | None:
    """The next thing worth taking, never one already done.

    First an unopened lesson in a module the learner's latest self-assessment recommended
    (weakest skill first); otherwise the first unopened lesson, or the quiz not yet passed,
    of the first course in learning-path order that is not completed. None when all is done.
    """
    for module_id in focus_modules:
        for course_progress in path:
            module = next((m for m in course_progress.course.modules if m.id == module_id), None)
            if module is None:
                continue
            for lesson_id in module.lessons:
                if lesson_id not in course_progress.views:
                    return Step(
                        course_progress.course,
                        "lesson",
                        lesson_id,
                        titles.get(lesson_id, lesson_id),
                    )
    for course_progress in path:
        if course_progress.completed:
            continue
        step = _next_in_course(course_progress, titles)
        if step is not None:
            return step
    return None
