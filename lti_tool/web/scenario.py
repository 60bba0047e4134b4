"""The role-play player: one decision at a time, feedback on each choice, a debrief at the end."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from content.debrief import review_path
from content.errors import ResponseError
from content.schema import Choice, Course, DecisionNode, EndingNode, Scenario
from content.scoring import ScenarioResult, score_scenario_path
from lti_tool.grading import activity_id, publish_scenario_grade, scenario_score
from lti_tool.recording import record_event, scenario_choice_event, scenario_completed_event
from lti_tool.store.learning import (
    RunStatus,
    ScenarioRun,
    add_run,
    append_choice,
    get_run,
    list_runs,
    placement_of,
)
from lti_tool.store.models import Launch, utcnow
from lti_tool.web.db import commit, db
from lti_tool.web.learner import Visit, catalog, open_visit, require_course, require_form
from lti_tool.web.learning_errors import (
    AlreadyFinishedError,
    BadFormError,
    NoAttemptsLeftError,
    PageNotFoundError,
)
from lti_tool.web.placement import placed_options

bp = Blueprint("scenario", __name__)


@dataclass(frozen=True)
class Turn:
    """One exchange so far: what the customer said, what the learner chose, and why it mattered."""

    customer: str
    narration: str | None
    choice: Choice


def _require_scenario(course: Course, scenario_id: str) -> Scenario:
    if scenario_id not in course.scenarios:
        raise PageNotFoundError(_("This course has no such role-play."))
    return catalog().require_scenario(scenario_id)


def walk(scenario: Scenario, choices: list[str]) -> tuple[list[Turn], DecisionNode | EndingNode]:
    turns: list[Turn] = []
    node = scenario.node(scenario.start)
    for choice_id in choices:
        assert isinstance(node, DecisionNode)  # stored paths were validated when chosen
        choice = next(c for c in node.choices if c.id == choice_id)
        turns.append(Turn(node.customer, node.narration, choice))
        node = scenario.node(choice.next)
    assert node is not None
    return turns, node


def offered_choices(run_id: uuid.UUID, node: DecisionNode) -> list[Choice]:
    """The node's replies in this run's order.

    Content lists the strongest reply first more often than not, so the page shuffles them.
    The order is a hash of the run and the reply, not a random draw: it needs no storage,
    a resumed or reloaded run shows the same order, and another run gets another one.
    """
    return sorted(
        node.choices,
        key=lambda c: hashlib.sha256(f"{run_id}/{node.id}/{c.id}".encode()).digest(),
    )


def choice_by_position(run_id: uuid.UUID, node: DecisionNode, value: str) -> Choice | None:
    """The reply a form value names. Values are positions in the run's order ("1", "2", ...)
    so the page never shows content ids, some of which name the reply's quality."""
    offered = offered_choices(run_id, node)
    if not value.isdigit() or not 1 <= int(value) <= len(offered):
        return None
    return offered[int(value) - 1]


@dataclass(frozen=True)
class RunRules:
    """The rules a role-play runs by in one placement."""

    #: Scaled points (0..1) needed to pass; None where the role-play is practice.
    pass_mark: float | None
    #: Play-throughs allowed; None for as many as the learner likes.
    attempts: int | None
    #: The gradebook column (store.learning.placement_key) runs count towards.
    placement: str

    def passed(self, skill_scores: Mapping[str, Any]) -> bool | None:
        if self.pass_mark is None:
            return None
        given, maximum = scenario_score(skill_scores)
        return maximum > 0 and given / maximum >= self.pass_mark

    def remaining(self, runs_used: int) -> int | None:
        return None if self.attempts is None else max(0, self.attempts - runs_used)


def run_rules(launch: Launch, scenario: Scenario) -> RunRules:
    """The instructor's pass mark and attempts where the launch is a graded placement of this
    role-play (Deep Linking custom parameters); elsewhere role-plays are open practice."""
    options = placed_options(launch.claims, activity_id(scenario))
    placement = placement_of(launch)
    if options is None or not options.graded:
        return RunRules(None, None, placement)
    return RunRules(options.pass_mark, options.attempts, placement)


@bp.get("/s/<token>/courses/<course_id>/scenarios/<scenario_id>")
def intro(token: str, course_id: str, scenario_id: str) -> str:
    visit = open_visit(token)
    course = require_course(course_id)
    scenario = _require_scenario(course, scenario_id)
    rules = run_rules(visit.launch, scenario)
    runs = list_runs(db(), visit.learner, scenario.id, placement=rules.placement)
    return render_template(
        "scenario_intro.html",
        course=course,
        scenario=scenario,
        rules=rules,
        remaining=rules.remaining(len(runs)),
        finished=[r for r in runs if r.status == RunStatus.FINISHED],
        open_run=next((r for r in runs if r.status == RunStatus.IN_PROGRESS), None),
        skills={s.id: s for s in catalog().list_skills()},
    )


@bp.post("/s/<token>/courses/<course_id>/scenarios/<scenario_id>/runs")
def start(token: str, course_id: str, scenario_id: str) -> Response:
    visit = open_visit(token)
    course = require_course(course_id)
    scenario = _require_scenario(course, scenario_id)
    require_form(token)
    session = db()
    rules = run_rules(visit.launch, scenario)
    runs = list_runs(session, visit.learner, scenario.id, placement=rules.placement)
    # Resume an unfinished run first; replay freely unless the placement limits attempts.
    run = next((r for r in runs if r.status == RunStatus.IN_PROGRESS), None)
    if run is None:
        if rules.remaining(len(runs)) == 0:
            raise NoAttemptsLeftError(
                ngettext(
                    "You have used your only attempt at this role-play.",
                    "You have used all %(num)d attempts at this role-play.",
                    rules.attempts or 0,
                )
            )
        run = add_run(
            session,
            visit.learner,
            launch_id=visit.launch.id,
            placement=rules.placement,
            course_id=course.id,
            scenario_id=scenario.id,
            content_version=scenario.content_version,
        )
        commit()
    return redirect(url_for("scenario.run_page", run_id=run.id), code=303)


def _require_run(visit: Visit, run_id: uuid.UUID) -> tuple[Course, Scenario, Launch, ScenarioRun]:
    """The learner's run and the launch it was started in: a run is judged, and its grade
    sent, by the link it belongs to."""
    session = db()
    run = get_run(session, visit.learner, run_id)
    if run is None:
        raise PageNotFoundError(_("There is no role-play of yours at this address."))
    course = require_course(run.course_id)
    launch = session.get(Launch, run.launch_id) or visit.launch
    return course, _require_scenario(course, run.scenario_id), launch, run


@bp.get("/s/<token>/runs/<uuid:run_id>")
def run_page(token: str, run_id: uuid.UUID) -> str:
    visit = open_visit(token)
    course, scenario, launch, run = _require_run(visit, run_id)
    turns, node = walk(scenario, run.choices)
    result: ScenarioResult | None = None
    if isinstance(node, EndingNode):
        result = score_scenario_path(scenario, run.choices)
    rules = run_rules(launch, scenario)
    reviews = review_path(scenario, run.choices) if result else ()
    return render_template(
        "scenario_run.html",
        rules=rules,
        passed=rules.passed(run.skill_scores or {}) if result else None,
        course=course,
        scenario=scenario,
        run=run,
        turns=turns,
        node=node,
        offered=offered_choices(run.id, node) if isinstance(node, DecisionNode) else [],
        result=result,
        better=[r for r in reviews if r.improvable],
        best_count=sum(1 for r in reviews if not r.improvable),
        skills={s.id: s for s in catalog().list_skills()},
    )


@bp.post("/s/<token>/runs/<uuid:run_id>")
def choose(token: str, run_id: uuid.UUID) -> Response:
    visit = open_visit(token)
    course, scenario, launch, run = _require_run(visit, run_id)
    form = require_form(token, allowed=("step", "choice"))
    step_raw, choice_id = form.get("step", ""), form.get("choice", "")
    if not step_raw.isdigit():
        raise BadFormError(_("The form was not one of ours."))
    if run.status != RunStatus.IN_PROGRESS or int(step_raw) != run.steps:
        # The same step sent twice (double click, back button): the first one counted.
        raise AlreadyFinishedError(
            _("That step of the conversation was already answered. Continue from where you are.")
        )
    _turns, node = walk(scenario, run.choices)
    assert isinstance(node, DecisionNode)  # an in-progress run always stands at a decision
    choice = choice_by_position(run.id, node, choice_id)
    if choice is None:
        raise BadFormError(_("Choose one of the replies offered."))
    path = [*run.choices, choice.id]
    try:
        result = score_scenario_path(scenario, path)
    except ResponseError as err:
        raise BadFormError(_("Choose one of the replies offered.")) from err
    session = db()
    now = utcnow()
    ending = result.ending
    scores = {
        skill: {"raw": s.raw, "max": s.max, "scaled": s.scaled}
        for skill, s in result.skills.items()
    }
    if not append_choice(
        session,
        run,
        choices_before=len(path) - 1,
        choice_id=choice.id,
        ending_id=ending.id if ending else None,
        skill_scores=scores if ending else None,
        now=now,
    ):
        session.rollback()
        raise AlreadyFinishedError(
            _("That step of the conversation was already answered. Continue from where you are.")
        )
    record_event(
        session,
        scenario_choice_event(visit.launch, course, scenario, node, choice, run.id, len(path), now),
        owner=visit.learner,
    )
    if ending is not None:
        duration = max(now - run.started_at, timedelta(0))
        record_event(
            session,
            scenario_completed_event(visit.launch, course, scenario, result, run.id, duration, now),
            owner=visit.learner,
        )
        publish_scenario_grade(
            session,
            launch,
            scenario,
            list_runs(session, visit.learner, scenario.id, placement=run.placement),
            source_id=f"scenario-run:{run.id}",
            at=now,
        )
    commit()
    # The page lands on what the learner needs next: the debrief once the conversation has
    # ended, otherwise the coach's word on the reply just given.
    anchor = "debrief" if ending is not None else "latest"
    return redirect(url_for("scenario.run_page", run_id=run.id, _anchor=anchor), code=303)
