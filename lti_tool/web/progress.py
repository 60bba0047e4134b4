"""A learner's progress through a course, the rule for "completed", and the progress page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template
from sqlalchemy.orm import Session

from content.schema import Course, Scenario
from lti_tool.grading import publish_course_grade
from lti_tool.recording import course_completed_event, record_event
from lti_tool.store.learning import (
    AttemptStatus,
    LearnerKey,
    LessonView,
    QuizAttempt,
    RunStatus,
    ScenarioRun,
    get_latest_self_assessment,
    list_attempts,
    list_lesson_views,
    list_runs,
)
from lti_tool.store.models import Launch, utcnow
from lti_tool.web.db import db
from lti_tool.web.learner import catalog, open_visit, require_course

bp = Blueprint("progress", __name__)


@dataclass(frozen=True)
class CourseProgress:
    course: Course
    views: dict[str, LessonView]
    attempts: list[QuizAttempt]
    runs: dict[str, list[ScenarioRun]]
    scenarios: list[Scenario]

    @property
    def lessons_total(self) -> int:
        return sum(len(module.lessons) for module in self.course.modules)

    @property
    def lessons_done(self) -> int:
        return sum(1 for m in self.course.modules for lid in m.lessons if lid in self.views)

    @property
    def quiz_passed(self) -> bool:
        # A course without a final quiz is complete on its lessons alone.
        return self.course.quiz is None or any(a.passed for a in self.attempts)

    @property
    def best_score(self) -> float | None:
        scores = [a.score_scaled for a in self.attempts if a.score_scaled is not None]
        return max(scores) if scores else None

    @property
    def finished_attempts(self) -> list[QuizAttempt]:
        return [a for a in self.attempts if a.status == AttemptStatus.SUBMITTED]

    @property
    def completed(self) -> bool:
        """Every lesson opened and the final quiz passed (scenarios are practice, not gates)."""
        return self.lessons_done == self.lessons_total and self.quiz_passed

    def finished_runs(self, scenario_id: str) -> list[ScenarioRun]:
        return [r for r in self.runs.get(scenario_id, []) if r.status == RunStatus.FINISHED]


def course_progress(session: Session, learner: LearnerKey, course: Course) -> CourseProgress:
    scenarios = [catalog().require_scenario(sid) for sid in course.scenarios]
    return CourseProgress(
        course=course,
        views={view.lesson_id: view for view in list_lesson_views(session, learner, course.id)},
        attempts=list_attempts(session, learner, course.quiz.id) if course.quiz else [],
        runs={s.id: list_runs(session, learner, s.id) for s in scenarios},
        scenarios=scenarios,
    )


def record_completion_if_done(
    session: Session, launch: Launch, course: Course, at: datetime | None = None
) -> bool:
    """Queue "completed" once the course is done; its statement id makes repeats no-ops."""
    progress = course_progress(session, LearnerKey.of(launch), course)
    if not progress.completed:
        return False
    at = at or utcnow()
    record_event(session, course_completed_event(launch, course, at))
    publish_course_grade(session, launch, course, progress.attempts, at=at)
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
