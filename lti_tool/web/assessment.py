"""The skills self-assessment: rate statements, get the modules worth taking next."""

from __future__ import annotations

import uuid

from flask import Blueprint, g, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from content.errors import ResponseError
from content.schema import SelfAssessment, Statement
from content.scoring import assess_skills
from lti_tool.recording import (
    record_event,
    self_assessment_completed_event,
    self_assessment_rated_event,
)
from lti_tool.store.learning import add_self_assessment, get_self_assessment
from lti_tool.store.models import utcnow
from lti_tool.web.db import commit, db
from lti_tool.web.disclosure import statement_disclosure
from lti_tool.web.learner import catalog, course_of_module, open_visit, require_form
from lti_tool.web.learning_errors import BadFormError, PageNotFoundError

bp = Blueprint("assessment", __name__)


def _assessment() -> SelfAssessment:
    assessment = catalog().self_assessment
    if assessment is None:
        raise PageNotFoundError(_("The self-assessment is not available."))
    return assessment


#: Recommendations the result page shows: the weakest skills only, so the learner gets a
#: short list to act on rather than one entry per skill rated low.
FOCUS_LIMIT = 3


def _skill_groups(assessment: SelfAssessment) -> list[tuple[str, list[Statement]]]:
    """The statements grouped by skill, in the order the skills first appear: one group is
    one step of the form on a phone."""
    groups: dict[str, list[Statement]] = {}
    for statement in assessment.statements:
        groups.setdefault(statement.skill, []).append(statement)
    return list(groups.items())


def _page(
    assessment: SelfAssessment, ratings: dict[str, int], error: str | None, status: int
) -> tuple[str, int]:
    return (
        render_template(
            "assessment.html",
            assessment=assessment,
            groups=_skill_groups(assessment),
            ratings=ratings,
            error=error,
            skills={s.id: s for s in catalog().list_skills()},
            # open_visit put the launch there; the page says what its statements carry.
            disclosure=statement_disclosure(g.cxa_launch),
        ),
        status,
    )


@bp.get("/s/<token>/self-assessment")
def form_page(token: str) -> tuple[str, int]:
    open_visit(token)
    return _page(_assessment(), {}, None, 200)


def _read_ratings(form: MultiDict[str, str], assessment: SelfAssessment) -> dict[str, int]:
    statements = {statement.id for statement in assessment.statements}
    ratings: dict[str, int] = {}
    for key in form:
        if not key.startswith("q."):
            continue
        statement_id = key[2:]
        values = form.getlist(key)
        if statement_id not in statements or len(values) != 1:
            raise BadFormError(_("The ratings named a statement that is not in the assessment."))
        value = values[0]
        if not value.isdigit() or not assessment.scale.min <= int(value) <= assessment.scale.max:
            raise BadFormError(_("A rating was outside the scale."))
        ratings[statement_id] = int(value)
    return ratings


@bp.post("/s/<token>/self-assessment")
def submit(token: str) -> Response | tuple[str, int]:
    visit = open_visit(token)
    assessment = _assessment()
    form = require_form(token)
    ratings = _read_ratings(form, assessment)
    if not ratings:
        return _page(assessment, ratings, _("Rate at least one statement to see a result."), 400)
    try:
        result = assess_skills(assessment, ratings)
    except ResponseError as err:
        raise BadFormError(_("A rating was outside the scale.")) from err
    session = db()
    now = utcnow()
    record = add_self_assessment(
        session,
        visit.learner,
        launch_id=visit.launch.id,
        assessment_id=assessment.id,
        content_version=assessment.content_version,
        ratings=ratings,
        averages=dict(result.averages),
        modules=list(result.modules),
        now=now,
    )
    for statement in assessment.statements:
        if statement.id in ratings:
            record_event(
                session,
                self_assessment_rated_event(
                    visit.launch, assessment, statement, ratings[statement.id], record.id, now
                ),
                owner=visit.learner,
            )
    record_event(
        session,
        self_assessment_completed_event(visit.launch, assessment, result, record.id, now),
        owner=visit.learner,
    )
    commit()
    return redirect(url_for("assessment.result_page", record_id=record.id), code=303)


@bp.get("/s/<token>/self-assessment/results/<uuid:record_id>")
def result_page(token: str, record_id: uuid.UUID) -> str:
    visit = open_visit(token)
    assessment = _assessment()
    record = get_self_assessment(db(), visit.learner, record_id)
    if record is None:
        raise PageNotFoundError(_("There is no self-assessment result of yours at this address."))
    result = assess_skills(assessment, record.ratings)
    recommendations = []
    for recommendation in result.recommendations[:FOCUS_LIMIT]:
        modules = []
        for module_id in recommendation.modules:
            course = course_of_module(module_id)
            module = catalog().get_module(module_id)
            if course is not None and module is not None:
                modules.append((course, module))
        recommendations.append((recommendation, modules))
    return render_template(
        "assessment_result.html",
        assessment=assessment,
        record=record,
        result=result,
        recommendations=recommendations,
        more=max(0, len(result.recommendations) - FOCUS_LIMIT),
        focus={r.skill for r in result.recommendations[:FOCUS_LIMIT]},
        skills={s.id: s for s in catalog().list_skills()},
    )
