"""A learner's progress through a course, the rule for "completed", and the progress page."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from content.schema import Course, Scenario
from lti_tool.grading import publish_course_grade
from lti_tool.recording import course_completed_event, record_event
from lti_tool.store.knowledge_check import list_answered_questions
from lti_tool.store.learning import (
    AttemptStatus,
    LearnerKey,
    LessonView,
    QuizAttempt,
    RunStatus,
    ScenarioRun,
    get_latest_self_assessment,
    list_attempt_history,
    list_attempts,
    list_lesson_views,
    list_own_launches,
    list_run_history,
    placement_of,
)
from lti_tool.store.models import Launch, utcnow
from lti_tool.web.db import db
from lti_tool.web.learner import catalog, open_visit, require_course

bp = Blueprint("progress", __name__)


@dataclass(frozen=True)
class CourseProgress:
    # Read-only once built, so the derived figures are cached: the home page and next_step
    # read them many times per course.
    course: Course
    views: dict[str, LessonView]
    attempts: list[QuizAttempt]
    runs: dict[str, list[ScenarioRun]]
    scenarios: list[Scenario]
    #: Where each record was made, by launch id: the link's and the LMS course's titles.
    places: dict[uuid.UUID, str]
    #: Knowledge-check questions the learner answered, by lesson id (any launch, any time).
    answered: dict[str, set[str]] = field(default_factory=dict)
    #: Each lesson's knowledge-check question ids, by lesson id.
    checks: dict[str, list[str]] = field(default_factory=dict)

    def place(self, record: QuizAttempt | ScenarioRun) -> str:
        return self.places.get(record.launch_id, "")

    @cached_property
    def lessons_total(self) -> int:
        return sum(len(module.lessons) for module in self.course.modules)

    @cached_property
    def lessons_done(self) -> int:
        """Lessons whose knowledge check was answered in full (opened, for a lesson without one)."""
        return sum(1 for m in self.course.modules for lid in m.lessons if self.lesson_done(lid))

    def lesson_done(self, lesson_id: str) -> bool:
        # Answered, right or wrong: a knowledge check is practice, and the quiz is the
        # measure. Opening a page proves nothing was learned (issue 11), so it counts only
        # for a lesson that has no check to answer.
        questions = self.checks.get(lesson_id, [])
        if not questions:
            return lesson_id in self.views
        return set(questions) <= self.answered.get(lesson_id, set())

    @cached_property
    def quiz_passed(self) -> bool:
        # A course without a final quiz is complete on its lessons alone.
        return self.course.quiz is None or any(a.passed for a in self.attempts)

    @cached_property
    def best_score(self) -> float | None:
        scores = [a.score_scaled for a in self.attempts if a.score_scaled is not None]
        return max(scores) if scores else None

    @property
    def finished_attempts(self) -> list[QuizAttempt]:
        return [a for a in self.attempts if a.status == AttemptStatus.SUBMITTED]

    @cached_property
    def completed(self) -> bool:
        """Every lesson's knowledge check answered and the final quiz passed (role-plays are
        practice, not gates; docs/decisions/0019-scoring-policy.md)."""
        return self.lessons_done == self.lessons_total and self.quiz_passed

    def finished_runs(self, scenario_id: str) -> list[ScenarioRun]:
        return [r for r in self.runs.get(scenario_id, []) if r.status == RunStatus.FINISHED]


def course_progress(session: Session, learner: LearnerKey, course: Course) -> CourseProgress:
    """The learner's progress in every placement: their history, as the progress page shows
    it. Completion is the learner's (passing the quiz through any link counts); scores
    that go to a gradebook are picked per placement (record_completion_if_done)."""
    return path_progress(session, learner, [course])[0]


def path_progress(
    session: Session, learner: LearnerKey, courses: Sequence[Course]
) -> list[CourseProgress]:
    """course_progress for each of ``courses``, in a fixed number of queries however many
    courses there are (the home page shows the whole learning path on every launch): one
    per kind of record, grouped by course here."""
    cat = catalog()
    scenarios = {c.id: [cat.require_scenario(sid) for sid in c.scenarios] for c in courses}
    attempts: dict[str, list[QuizAttempt]] = {}
    for attempt in list_attempt_history(session, learner, {c.quiz.id for c in courses if c.quiz}):
        attempts.setdefault(attempt.quiz_id, []).append(attempt)
    runs: dict[str, list[ScenarioRun]] = {}
    for run in list_run_history(session, learner, {s.id for ss in scenarios.values() for s in ss}):
        runs.setdefault(run.scenario_id, []).append(run)
    views: dict[str, dict[str, LessonView]] = {}
    for view in list_lesson_views(session, learner, [c.id for c in courses]):
        views.setdefault(view.course_id, {})[view.lesson_id] = view
    launch_ids = {a.launch_id for group in attempts.values() for a in group} | {
        r.launch_id for group in runs.values() for r in group
    }
    places = {
        launch.id: _place_label(launch)
        for launch in list_own_launches(session, learner, launch_ids)
    }
    answered = list_answered_questions(session, learner, [c.id for c in courses])
    return [
        CourseProgress(
            course=course,
            views=views.get(course.id, {}),
            attempts=attempts.get(course.quiz.id, []) if course.quiz else [],
            runs={s.id: runs.get(s.id, []) for s in scenarios[course.id]},
            scenarios=scenarios[course.id],
            places=places,
            answered=answered.get(course.id, {}),
            checks={
                lesson.id: list(lesson.knowledge_check)
                for lesson in cat.list_course_lessons(course.id)
            },
        )
        for course in courses
    ]


def _place_label(launch: Launch) -> str:
    # The titles the LMS sent (LTI 1.3 sections 5.4.1 and 5.4.2); ids mean nothing to a learner.
    names = [n for n in (launch.resource_link_title, launch.context_title) if n]
    return " · ".join(names)


def record_completion_if_done(
    session: Session, launch: Launch, course: Course, at: datetime | None = None
) -> bool:
    """Queue "completed" once the course is done; its statement id makes repeats no-ops."""
    progress = course_progress(session, LearnerKey.of(launch), course)
    if not progress.completed:
        return False
    at = at or utcnow()
    record_event(session, course_completed_event(launch, course, at), owner=LearnerKey.of(launch))
    # The course's grade is its quiz score in this placement (its gradebook column).
    attempts = (
        list_attempts(
            session, LearnerKey.of(launch), course.quiz.id, placement=placement_of(launch)
        )
        if course.quiz
        else []
    )
    publish_course_grade(session, launch, course, attempts, at=at)
    return True


@bp.get("/s/<token>/courses/<course_id>/progress")
def course_page(token: str, course_id: str) -> str:
    visit = open_visit(token)
    course = require_course(course_id)
    session = db()
    progress = course_progress(session, visit.learner, course)
    latest = get_latest_self_assessment(session, visit.learner)
    return render_template(
        "progress.html",
        course=course,
        progress=progress,
        catalog=catalog(),
        recommended=[m for m in course.modules if latest and m.id in latest.modules],
    )
