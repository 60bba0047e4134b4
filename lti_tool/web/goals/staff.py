"""Staff views of goals, only as far as each learner allowed (decision 0016):

- instructors: the goals set in the LMS course of their own launch, never another course's;
- L&D (the LMS's institution or system Administrator role, or a role the operator names in
  CXA_GOALS_INSIGHT_ROLES): figures across every course of their own LMS registration,
  never another platform's, with charts and a CSV of counts.

Private goals appear nowhere here, not even in counts; a goal shared as "progress" shows its
skill, measure and progress but none of the words the learner wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from lti_tool.errors import ForbiddenError
from lti_tool.lti.roles import is_insight_role, is_instructor_type
from lti_tool.store import classroom
from lti_tool.store import goals as store
from lti_tool.store.classroom import CourseKey
from lti_tool.store.goals import Goal, GoalCheckIn, GoalVisibility
from lti_tool.store.models import Launch
from lti_tool.web.db import db, services
from lti_tool.web.goals import bp
from lti_tool.web.goals.measures import describe, practice_kinds
from lti_tool.web.goals.report import Insights, bar_chart, insights_csv, summarise
from lti_tool.web.learner import catalog, open_visit
from lti_tool.web.learning_errors import PageNotFoundError


@dataclass(frozen=True)
class StaffRow:
    """One goal as staff see it; text fields are None unless the learner shared them."""

    learner: str
    skill: str
    measure: str
    status: str
    fraction: float
    progress: float
    target: float
    due: str
    title: str | None
    specific: str | None
    relevance: str | None
    check_in: GoalCheckIn | None


@dataclass(frozen=True)
class SharedNote:
    """A practice-log note its learner shared with staff."""

    learner: str
    kind: str
    happened_on: date
    note: str
    link: str | None


def _staff_row(goal: Goal, name: str, check_in: GoalCheckIn | None) -> StaffRow:
    shared = goal.visibility is GoalVisibility.CONTENT
    skill = catalog().get_skill(goal.skill) if goal.skill else None
    return StaffRow(
        learner=name,
        skill=skill.name if skill else (goal.skill or ""),
        # The catalogue's words for the measure, never the learner's own unit text.
        measure=describe(goal.metric_key, goal.metric_params, goal.target, ""),
        status=goal.status.value,
        fraction=min(1.0, goal.progress / goal.target) if goal.target > 0 else 0.0,
        progress=goal.progress,
        target=goal.target,
        due=goal.due_at.date().isoformat(),
        title=goal.title if shared else None,
        specific=goal.specific if shared else None,
        relevance=goal.relevance if shared else None,
        check_in=check_in if shared else None,
    )


def _require_instructor(token: str) -> tuple[Launch, CourseKey]:
    launch = open_visit(token).launch
    if not is_instructor_type(launch.roles):
        raise ForbiddenError(_("Only instructors and teaching assistants can see the class."))
    course = CourseKey.of(launch)
    if course is None:
        raise PageNotFoundError(
            _("Your LMS launched CX Academy outside a course, so there is no class to show.")
        )
    return launch, course


@bp.get("/s/<token>/instructor/goals")
def class_goals(token: str) -> str:
    launch, course = _require_instructor(token)
    session = db()
    goals = store.list_course_goals(session, course.platform_id, course.context_id)
    launchers = classroom.list_launchers(session, course)
    names = {
        person.sub: person.name or person.email or _("Learner %(n)s", n=person.sub[:8])
        for person in launchers
    }
    shared = [g.id for g in goals if g.visibility is GoalVisibility.CONTENT]
    check_ins = store.latest_check_ins(session, shared)
    rows = [_staff_row(g, names.get(g.sub, g.sub[:8]), check_ins.get(g.id)) for g in goals]
    # Notes the learners of this course chose to share (staff who launched here are not
    # its learners); the query itself leaves out every entry not marked shared.
    learners = [p.sub for p in launchers if not is_instructor_type(p.roles)]
    kinds = practice_kinds()
    notes = [
        SharedNote(
            names.get(entry.sub, entry.sub[:8]),
            kinds.get(entry.kind, entry.kind),
            entry.happened_on,
            entry.note,
            entry.link,
        )
        for entry in store.list_shared_practice(session, course.platform_id, learners)
    ]
    return render_template("goals/class.html", launch=launch, rows=rows, notes=notes)


def _require_insights(token: str) -> Launch:
    launch = open_visit(token).launch
    if not is_insight_role(launch.roles, services().settings.goals_insight_roles):
        raise ForbiddenError(
            _("Only your organisation's learning and development team can see this overview.")
        )
    return launch


def _insights(launch: Launch) -> Insights:
    session = db()
    return summarise(
        session,
        launch.platform_id,
        skill_names={s.id: s.name for s in catalog().list_skills()},
        course_titles=store.list_context_titles(session, launch.platform_id),
        practice_names=practice_kinds(),
    )


@bp.get("/s/<token>/insights/goals")
def insights_page(token: str) -> str:
    launch = _require_insights(token)
    insights = _insights(launch)
    return render_template(
        "goals/insights.html",
        launch=launch,
        insights=insights,
        outcome_chart=bar_chart([(o.label, o.achieved) for o in insights.by_skill]),
        set_chart=bar_chart([(o.label, o.set) for o in insights.by_skill]),
        practice_chart=bar_chart(insights.practice),
    )


@bp.get("/s/<token>/insights/goals.csv")
def insights_export(token: str) -> Response:
    launch = _require_insights(token)
    response = Response(insights_csv(_insights(launch)), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="cx-academy-goals.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
