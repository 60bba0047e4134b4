"""The learner's home: progress per course in learning-path order, where they left off,
what to take next, and the self-assessment. Registered on the learner blueprint, so its
endpoint stays ``learner.home``."""

from __future__ import annotations

from flask import g, render_template

from lti_tool.lti.roles import describe_roles, is_insight_role, is_instructor, is_instructor_type
from lti_tool.store import goals
from lti_tool.store.learning import get_latest_self_assessment
from lti_tool.web.db import db, services
from lti_tool.web.goals.learner import LEARNER_GOALS
from lti_tool.web.learner import bp, catalog, open_visit
from lti_tool.web.next_step import continue_step, recommend_next
from lti_tool.web.progress import path_progress


@bp.get("/s/<token>/")
def home(token: str) -> str:
    visit = open_visit(token)
    launch = visit.launch
    session = db()
    cat = catalog()
    path = path_progress(session, visit.learner, cat.list_courses_in_path())
    titles = {lesson.id: lesson.title for lesson in cat.list_lessons()}
    titles.update({s.id: s.title for s in cat.list_scenarios()})
    latest_assessment = get_latest_self_assessment(session, visit.learner)
    # Read once: the live ones show here, the base page's check-in reminder filters the rest.
    learner_goals = goals.list_goals(session, visit.learner)
    setattr(g, LEARNER_GOALS, learner_goals)
    return render_template(
        "home.html",
        launch=launch,
        role_names=describe_roles(launch.roles),
        instructor=is_instructor(launch.roles),
        # The class view is open to every instructor-type role of a course launch.
        class_view=bool(launch.context_id) and is_instructor_type(launch.roles),
        path=path,
        resume=continue_step(path, titles),
        recommended=recommend_next(
            path, titles, latest_assessment.modules if latest_assessment else ()
        ),
        assessment=cat.self_assessment,
        latest_assessment=latest_assessment,
        live_goals=[goal for goal in learner_goals if goal.status in goals.LIVE],
        goal_insights=is_insight_role(launch.roles, services().settings.goals_insight_roles),
    )
