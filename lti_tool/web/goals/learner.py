"""The learner's goal pages: the list with suggestions, setting and editing a goal, check-ins,
pausing and ending, self-reported progress, the celebration page and the practice log.

Every goal is read through ``get_goal`` with the visiting learner, so another learner's goal
answers like a missing one (404) whatever id is typed into the address.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from content.activities import COURSE, Activity, activity_id
from content.schema import GoalTemplate
from lti_tool.store import goals as store
from lti_tool.store.badges import issue_for_goal
from lti_tool.store.goals import Goal, GoalStatus, GoalVisibility
from lti_tool.store.learning import LearnerKey, get_latest_self_assessment
from lti_tool.store.models import utcnow
from lti_tool.web.db import commit, db
from lti_tool.web.goals import bp
from lti_tool.web.goals.form import (
    CHECK_IN_DAYS,
    GOAL_FIELDS,
    MAX_REFLECTION,
    CheckInDraft,
    GoalDraft,
    PracticeDraft,
    default_due,
    read_check_in,
    read_goal,
    read_practice,
    read_progress,
    smart_check,
)
from lti_tool.web.goals.measures import (
    SELF_REPORTED,
    crossed_milestones,
    describe,
    metric_choices,
    param_field,
    practice_kinds,
    read_params,
    template_metric,
)
from lti_tool.web.goals.recording import (
    record_achieved,
    record_check_in,
    record_goal_change,
    record_practice,
    record_progress,
)
from lti_tool.web.learner import Visit, catalog, open_visit, require_form
from lti_tool.web.learning_errors import BadFormError, PageNotFoundError
from lti_tool.web.placement import activities, requested_activity

#: How long after a launch its pages remind the learner of a due check-in ("on launch").
REMINDER_WINDOW = timedelta(minutes=10)
#: ``g`` key: the visiting learner's goals, when the page has read them all already.
LEARNER_GOALS = "cxa_learner_goals"
#: Suggestions shown per source (self-assessment, course): a few, not the whole catalogue.
SUGGESTIONS = 3
#: The learner's badges (Open Badges 3.0, the badges feature), linked when it is installed.
BADGES_PAGE = "badges.my_badges"
#: Cap on a POST's field values: the longest text field and some slack for its encoding.
MAX_FORM_VALUE = MAX_REFLECTION + 100


def _require_goal(visit: Visit, goal_id: uuid.UUID) -> Goal:
    goal = store.get_goal(db(), visit.learner, goal_id)
    if goal is None:
        raise PageNotFoundError(_("There is no goal of yours at this address."))
    return goal


def _skills() -> dict[str, Any]:
    return {s.id: s for s in catalog().list_skills()}


def _due_at(day: date) -> datetime:
    # End of the chosen day (UTC): "by Friday" includes Friday.
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


@dataclass(frozen=True)
class GoalCard:
    """A goal as the list shows it: how far, when due, and the next step."""

    goal: Goal
    fraction: float
    check_in_due: bool
    next_step: str


def _next_step(goal: Goal, fraction: float, due: bool) -> str:
    if goal.status is GoalStatus.PAUSED:
        return _("Paused: resume it when you are ready.")
    if due:
        return _("A check-in is due: how did this week go?")
    if goal.metric_key == SELF_REPORTED:
        return _("Update your progress when you have done more.")
    half, target = _num(goal.target / 2), _num(goal.target)
    if fraction < 0.5:
        return _(
            "Next milestone: halfway, %(half)s of %(target)s %(unit)s.",
            half=half,
            target=target,
            unit=goal.unit,
        )
    return _("Next milestone: the full target, %(target)s %(unit)s.", target=target, unit=goal.unit)


def _is_number(raw: str) -> bool:
    return read_progress(raw)[0] is not None


def _num(value: float) -> str:
    return f"{value:g}"


def _fraction(goal: Goal) -> float:
    return min(1.0, max(0.0, goal.progress / goal.target)) if goal.target > 0 else 0.0


def _cards(session: Session, goals: list[Goal], now: datetime) -> list[GoalCard]:
    last = store.last_check_ins(session, (goal.id for goal in goals))
    cards = []
    for goal in goals:
        due = store.check_in_due(goal, last.get(goal.id), now)
        fraction = _fraction(goal)
        cards.append(GoalCard(goal, fraction, due, _next_step(goal, fraction, due)))
    return cards


@dataclass(frozen=True)
class Suggestion:
    template: GoalTemplate
    reason: str


def suggest_goals(session: Session, visit: Visit, taken: set[str]) -> list[Suggestion]:
    """Templates worth adopting: the weakest self-assessed skills first, then the skills of
    the course this launch placed; none the learner already works on."""
    skills = _skills()
    suggestions: list[Suggestion] = []
    seen = set(taken)
    latest = get_latest_self_assessment(session, visit.learner)
    if latest is not None:
        picked = 0
        for skill_id, average in sorted(latest.averages.items(), key=lambda item: item[1]):
            template = next(
                (t for t in catalog().list_goal_templates(skill_id) if t.id not in seen), None
            )
            if template is None:
                continue
            seen.add(template.id)
            name = skills[skill_id].name if skill_id in skills else skill_id
            suggestions.append(
                Suggestion(
                    template,
                    _(
                        "You rated %(skill)s %(avg)s of 5 in your self-assessment.",
                        skill=name,
                        avg=f"{average:.1f}",
                    ),
                )
            )
            picked += 1
            if picked == SUGGESTIONS:
                break
    course = _placed_course(visit)
    if course is not None:
        picked = 0
        for skill_id in course.skills:
            template = next(
                (t for t in catalog().list_goal_templates(skill_id) if t.id not in seen), None
            )
            if template is None:
                continue
            seen.add(template.id)
            suggestions.append(
                Suggestion(template, _("It practises a skill of %(course)s.", course=course.title))
            )
            picked += 1
            if picked == SUGGESTIONS:
                break
    return suggestions


def _placed_course(visit: Visit) -> Activity | None:
    """The course this launch's link placed (or placed a part of), if any."""
    value = requested_activity(visit.launch.claims)
    activity = activities().get_activity(value) if value else None
    if activity is None or activity.course_id is None:
        return None
    return activities().get_activity(activity_id(COURSE, activity.course_id))


@bp.get("/s/<token>/goals")
def list_page(token: str) -> str:
    visit = open_visit(token)
    session = db()
    now = utcnow()
    goals = store.list_goals(session, visit.learner)
    live = [g for g in goals if g.status in store.LIVE]
    taken = {g.template_id for g in live if g.template_id}
    return render_template(
        "goals/list.html",
        live=_cards(session, live, now),
        ended=[g for g in goals if g.status not in store.LIVE],
        suggestions=suggest_goals(session, visit, taken),
        has_assessment=get_latest_self_assessment(session, visit.learner) is not None,
        skills=_skills(),
        done=request.args.get("done", "")[:40],
    )


def _form_page(
    draft: GoalDraft, *, goal: Goal | None, checked: bool, status: int
) -> tuple[str, int]:
    return (
        render_template(
            "goals/form.html",
            draft=draft,
            goal=goal,
            checks=smart_check(draft) if checked or draft.errors else None,
            # From scratch only: a template or an existing goal keeps its measure.
            metrics=metric_choices() if goal is None and not draft.template else [],
            skills=_skills(),
            template=catalog().get_goal_template(draft.template) if draft.template else None,
            check_in_days=CHECK_IN_DAYS,
            today=utcnow().date(),
            courses=catalog().list_courses(),
            kinds=practice_kinds(),
            # Template and edited goals keep their measure: shown in words, not as choices.
            measure_text=describe(draft.metric, draft.params, draft.target_value, draft.unit)
            if draft.metric and _is_number(draft.target)
            else "",
        ),
        status,
    )


@bp.get("/s/<token>/goals/new")
def new_page(token: str) -> tuple[str, int]:
    open_visit(token)
    today = utcnow().date()
    template_id = request.args.get("template", "")[:80]
    if template_id:
        template = catalog().get_goal_template(template_id)
        if template is None:
            raise PageNotFoundError(_("There is no goal template with this name."))
        draft = GoalDraft(
            title=template.title,
            specific=template.specific,
            relevance=template.relevance,
            metric=template.metric,
            params=dict(template.metric_params),
            target=_num(template.target),
            unit=template.unit,
            due=default_due(today, template.timeframe_days).isoformat(),
            skill=template.skill,
            check_in_days="14" if template.check_in_days >= 14 else "7",
            template=template.id,
        )
    else:
        draft = GoalDraft(metric=SELF_REPORTED, due=default_due(today, 28).isoformat())
    return _form_page(draft, goal=None, checked=False, status=200)


def _param_fields() -> list[str]:
    return [param_field(m.key, p.name) for m in metric_choices() for p in m.parameters]


def _goal_form(token: str) -> tuple[GoalDraft, dict[str, Any]]:
    """The new-goal form read and checked, with the measure's parameters."""
    form = require_form(
        token, allowed=(*GOAL_FIELDS, "action", *_param_fields()), max_length=MAX_FORM_VALUE
    )
    metrics = {m.key for m in metric_choices()}
    template_id = form.get("template", "")
    fields = form.to_dict()
    if template_id:
        if catalog().get_goal_template(template_id) is None:
            raise BadFormError(_("The form named a goal template CX Academy does not have."))
        # A template's goal is measured the template's way, whatever the form says.
        metric, params = template_metric(template_id)
        fields["metric"] = metric
    draft = read_goal(fields, today=utcnow().date(), metrics=metrics, skills=set(_skills()))
    if not template_id:
        params, problem = read_params(draft.metric, form)
        if problem:
            draft.errors["metric"] = _(
                "The measure's settings do not fit: %(problem)s.", problem=problem
            )
    draft.params = params
    return draft, params


@bp.post("/s/<token>/goals/new")
def create(token: str) -> Response | tuple[str, int]:
    visit = open_visit(token)
    draft, params = _goal_form(token)
    checked = request.form.get("action") == "check"
    if draft.errors:
        return _form_page(draft, goal=None, checked=True, status=400)
    if checked:
        return _form_page(draft, goal=None, checked=True, status=200)
    session = db()
    now = utcnow()
    goal = store.add_goal(
        session,
        visit.learner,
        template_id=draft.template or None,
        skill=draft.skill or None,
        title=draft.title,
        specific=draft.specific,
        relevance=draft.relevance,
        metric_key=draft.metric,
        metric_params=params,
        target=draft.target_value,
        unit=draft.unit,
        visibility=GoalVisibility(draft.visibility),
        check_in_days=int(draft.check_in_days),
        due_at=_due_at(draft.due_date),
        context_id=visit.launch.context_id,
        now=now,
    )
    record_goal_change(session, visit, goal, "set", now)
    commit()
    return redirect(url_for("goals.goal_page", goal_id=goal.public_id, done="set"), code=303)


@bp.get("/s/<token>/goals/<uuid:goal_id>")
def goal_page(token: str, goal_id: uuid.UUID) -> str:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    return _goal_page(visit, goal, CheckInDraft(), progress_error=None)[0]


def _goal_page(
    visit: Visit,
    goal: Goal,
    check_in: CheckInDraft,
    *,
    progress_error: str | None,
    status: int = 200,
) -> tuple[str, int]:
    session = db()
    check_ins = store.list_check_ins(session, goal)
    now = utcnow()
    due = store.check_in_due(goal, check_ins[0].created_at if check_ins else None, now)
    return (
        render_template(
            "goals/goal.html",
            goal=goal,
            fraction=_fraction(goal),
            check_ins=check_ins,
            check_in_due=due,
            draft=check_in,
            progress_error=progress_error,
            self_reported=goal.metric_key == SELF_REPORTED,
            measure_text=describe(goal.metric_key, goal.metric_params, goal.target, goal.unit),
            template=catalog().get_goal_template(goal.template_id) if goal.template_id else None,
            skills=_skills(),
            done=request.args.get("done", "")[:40],
        ),
        status,
    )


@bp.get("/s/<token>/goals/<uuid:goal_id>/edit")
def edit_page(token: str, goal_id: uuid.UUID) -> tuple[str, int]:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    _require_open(goal)
    draft = GoalDraft(
        title=goal.title,
        specific=goal.specific,
        relevance=goal.relevance,
        metric=goal.metric_key,
        target=_num(goal.target),
        unit=goal.unit,
        due=goal.due_at.date().isoformat(),
        skill=goal.skill or "",
        visibility=goal.visibility.value,
        check_in_days=str(goal.check_in_days),
        template=goal.template_id or "",
        params=dict(goal.metric_params),
    )
    return _form_page(draft, goal=goal, checked=False, status=200)


def _require_open(goal: Goal) -> None:
    if goal.status not in store.LIVE:
        raise BadFormError(_("This goal has ended; set a new one instead."))


@bp.post("/s/<token>/goals/<uuid:goal_id>/edit")
def edit(token: str, goal_id: uuid.UUID) -> Response | tuple[str, int]:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    _require_open(goal)
    form = require_form(token, allowed=(*GOAL_FIELDS, "action"), max_length=MAX_FORM_VALUE)
    # The measure stays what it was set with: the engine's count is about that metric.
    fields = {**form.to_dict(), "metric": goal.metric_key, "template": goal.template_id or ""}
    draft = read_goal(
        fields, today=utcnow().date(), metrics={goal.metric_key}, skills=set(_skills())
    )
    draft.params = dict(goal.metric_params)
    # A goal set a while ago may keep its deadline even though it is now under a week away.
    if draft.errors.get("due") and draft.due == goal.due_at.date().isoformat():
        draft.errors.pop("due")
    if draft.errors or form.get("action") == "check":
        return _form_page(draft, goal=goal, checked=True, status=400 if draft.errors else 200)
    session = db()
    now = utcnow()
    goal.title = draft.title
    goal.specific = draft.specific
    goal.relevance = draft.relevance
    goal.target = draft.target_value
    goal.unit = draft.unit
    goal.skill = draft.skill or None
    goal.visibility = GoalVisibility(draft.visibility)
    goal.check_in_days = int(draft.check_in_days)
    goal.due_at = _due_at(draft.due_date)
    goal.updated_at = now
    session.flush()
    record_goal_change(session, visit, goal, "updated", now)
    # A lower target may now be met by what the learner already reported.
    settle_self_reported(session, visit, goal, before=goal.progress, now=now, reported=False)
    commit()
    return redirect(url_for("goals.goal_page", goal_id=goal.public_id, done="updated"), code=303)


_TRANSITIONS = {
    "pause": (GoalStatus.ACTIVE, GoalStatus.PAUSED, "paused"),
    "resume": (GoalStatus.PAUSED, GoalStatus.ACTIVE, "resumed"),
    "abandon": (None, GoalStatus.ABANDONED, "abandoned"),
}


@bp.post("/s/<token>/goals/<uuid:goal_id>/status")
def change_status(token: str, goal_id: uuid.UUID) -> Response:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    form = require_form(token, allowed=("action",))
    transition = _TRANSITIONS.get(form.get("action", ""))
    if transition is None:
        raise BadFormError(_("The form named no action CX Academy knows."))
    source, target, done = transition
    if goal.status not in store.LIVE or (source is not None and goal.status is not source):
        raise BadFormError(_("This goal cannot be changed that way in its current state."))
    session = db()
    now = utcnow()
    store.set_status(session, goal, target, now=now)
    record_goal_change(
        session, visit, goal, "abandoned" if target is GoalStatus.ABANDONED else "updated", now
    )
    commit()
    return redirect(url_for("goals.goal_page", goal_id=goal.public_id, done=done), code=303)


@bp.post("/s/<token>/goals/<uuid:goal_id>/check-ins")
def check_in(token: str, goal_id: uuid.UUID) -> Response | tuple[str, int]:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    _require_open(goal)
    form = require_form(token, allowed=("did", "learned", "confidence"), max_length=MAX_FORM_VALUE)
    draft = read_check_in(form)
    if draft.errors:
        return _goal_page(visit, goal, draft, progress_error=None, status=400)
    session = db()
    now = utcnow()
    entry = store.add_check_in(
        session,
        goal,
        did=draft.did,
        learned=draft.learned,
        confidence=int(draft.confidence),
        now=now,
    )
    record_check_in(session, visit, goal, entry, now)
    commit()
    return redirect(url_for("goals.goal_page", goal_id=goal.public_id, done="checked-in"), code=303)


@bp.post("/s/<token>/goals/<uuid:goal_id>/progress")
def update_progress(token: str, goal_id: uuid.UUID) -> Response | tuple[str, int]:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    if goal.metric_key != SELF_REPORTED:
        raise BadFormError(_("CX Academy counts this goal's progress for you."))
    if goal.status is not GoalStatus.ACTIVE:
        raise BadFormError(_("Resume the goal before updating its progress."))
    form = require_form(token, allowed=("progress",))
    value, error = read_progress(form.get("progress", ""))
    if value is None:
        return _goal_page(visit, goal, CheckInDraft(), progress_error=error, status=400)
    session = db()
    now = utcnow()
    before = goal.progress
    goal.progress = value
    goal.updated_at = now
    session.flush()
    milestone = settle_self_reported(session, visit, goal, before=before, now=now, reported=True)
    commit()
    if milestone is not None:
        return redirect(url_for("goals.celebrate", goal_id=goal.public_id), code=303)
    return redirect(url_for("goals.goal_page", goal_id=goal.public_id, done="progressed"), code=303)


def settle_self_reported(
    session: Session, visit: Visit, goal: Goal, *, before: float, now: datetime, reported: bool
) -> float | None:
    """Record a self-reported goal's progress (when the learner ``reported`` a number) and
    achieve it once the target is reached; returns the milestone crossed, if any.

    Self-reported goals only: the goal engine settles the goals it counts itself, with the
    same statements and milestones (lti_tool/goal_events.py).
    """
    if goal.metric_key != SELF_REPORTED or goal.status is not GoalStatus.ACTIVE:
        return None
    crossed = crossed_milestones(before, goal.progress, goal.target)
    milestone = crossed[-1] if crossed else None
    if reported:
        record_progress(session, visit, goal, now, milestone)
    if goal.progress >= goal.target:
        store.set_status(session, goal, GoalStatus.ACHIEVED, now=now)
        record_achieved(session, visit, goal, now)
        # The same award the goal engine makes for the goals it counts (on_goal_achieved).
        issue_for_goal(session, goal, now=now)
    return milestone


@bp.get("/s/<token>/goals/<uuid:goal_id>/celebrate")
def celebrate(token: str, goal_id: uuid.UUID) -> str:
    visit = open_visit(token)
    goal = _require_goal(visit, goal_id)
    fraction = _fraction(goal)
    if fraction < 0.5:
        raise PageNotFoundError(_("This goal has no milestone to celebrate yet."))
    session = db()
    taken = {g.template_id for g in store.list_goals(session, visit.learner) if g.template_id}
    taken.add(goal.template_id or "")
    suggestions = suggest_goals(session, visit, taken)
    if goal.skill:
        # The same skill first: the natural next step after a goal is a harder one of its kind.
        same = [
            Suggestion(t, _("It builds on the goal you just reached."))
            for t in catalog().list_goal_templates(goal.skill)
            if t.id not in taken
        ]
        suggestions = same[:1] + suggestions
    achieved = goal.status is GoalStatus.ACHIEVED or fraction >= 1.0
    return render_template(
        "goals/celebrate.html",
        goal=goal,
        achieved=achieved,
        next_goal=suggestions[0] if suggestions else None,
        skills=_skills(),
        badges_page=url_for(BADGES_PAGE)
        if achieved and BADGES_PAGE in current_app.view_functions
        else None,
    )


# --- practice log ---------------------------------------------------------------------------


def _practice_page(visit: Visit, draft: PracticeDraft, status: int) -> tuple[str, int]:
    return (
        render_template(
            "goals/practice.html",
            draft=draft,
            kinds=practice_kinds(),
            entries=store.list_practice_entries(db(), visit.learner),
            today=utcnow().date(),
            done=request.args.get("done", "")[:40],
        ),
        status,
    )


@bp.get("/s/<token>/practice")
def practice_page(token: str) -> tuple[str, int]:
    visit = open_visit(token)
    kind = request.args.get("kind", "")[:60]
    draft = PracticeDraft(kind=kind if kind in practice_kinds() else "")
    draft.happened_on = utcnow().date().isoformat()
    return _practice_page(visit, draft, 200)


@bp.post("/s/<token>/practice")
def log_practice(token: str) -> Response | tuple[str, int]:
    visit = open_visit(token)
    form = require_form(
        token,
        allowed=("kind", "happened_on", "note", "link", "share_note"),
        max_length=MAX_FORM_VALUE,
    )
    draft = read_practice(form, today=utcnow().date(), kinds=set(practice_kinds()))
    if draft.errors:
        return _practice_page(visit, draft, 400)
    session = db()
    now = utcnow()
    entry = store.add_practice_entry(
        session,
        visit.learner,
        kind=draft.kind,
        happened_on=date.fromisoformat(draft.happened_on),
        note=draft.note,
        link=draft.link or None,
        share_note=draft.share_note,
        now=now,
    )
    record_practice(session, visit, entry, now)
    commit()
    return redirect(url_for("goals.practice_page", done="logged"), code=303)


# --- the reminder after a launch --------------------------------------------------------------


@bp.app_context_processor
def _reminder() -> dict[str, Any]:
    def goal_reminder() -> list[Goal]:
        """Goals due a check-in, on the pages of a fresh launch (empty otherwise)."""
        launch = g.get("cxa_launch")
        if launch is None or utcnow() - launch.created_at > REMINDER_WINDOW:
            return []
        if request.endpoint and request.endpoint.startswith("goals."):
            return []  # the goal pages say it themselves
        loaded = g.get(LEARNER_GOALS)
        if loaded is not None:
            # The page already read every goal of this learner's: filter those.
            return store.select_due_check_ins(db(), loaded, utcnow())
        return store.list_due_check_ins(db(), LearnerKey.of(launch), utcnow())

    return {"goal_reminder": goal_reminder}
