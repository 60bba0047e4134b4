"""xAPI events for a learner's personal goals: set, updated, progressed, achieved, missed,
abandoned, checked in on, and practice logged.

Kept apart from recording.py, which owns course learning; this module reuses its building
blocks (the learner as actor) so goal statements line up with the rest of the learner's
record. Every goal statement names the goal by an opaque IRI made from its ``public_id``,
says in its description how the goal is measured and by when, and sits in the grouping of
the learner's goals activity, so an LRS dashboard can list a learner's goals in one filter.

Privacy: no statement carries what the learner wrote about a goal (the "specific" and
"relevance" text, check-in reflections, practice notes). The goal's title is what the
learner wrote too, so it names the activity only when the learner shares the goal's content
(``GoalVisibility.CONTENT``) or when it is a template's title left unchanged; otherwise the
activity is called after its metric. The statement never says more than an instructor may
see in the tool.

Web-side events (set, updated, abandoned, checked in, practice logged) take the request's
launch. The goal engine has no request: it passes the learner's latest launch
(``lti_tool.store.goal_ledger.get_latest_launch``), which gives the platform's actor
format and the email an mbox actor needs, as the learner's most recent visit left them.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from content.catalog import Catalog
from content.goals import describe_measure
from lti_tool.lti.roles import is_instructor_type
from lti_tool.recording import STAFF_CATEGORY, learner_of
from lti_tool.store.goals import Goal, GoalCheckIn, GoalVisibility, PracticeEntry
from lti_tool.store.models import Launch
from xapi import vocabulary
from xapi.events import Activity, LearningEvent, Result
from xapi.statements import source_id

# Namespace of the learner-goals activity ids: changing it splits every learner's goals
# into a new grouping activity in the LRS.
_LEARNER_GOALS_NAMESPACE = uuid.UUID("c2f4a7d1-8e3b-4c56-9a1f-6b0d2e8f4a37")

MILESTONES: tuple[float, ...] = (0.5, 1.0)
"""Fractions of the target the engine marks in progressed statements (halfway, reached)."""


# Every source_id below follows the recipe in xapi/statements.py (read its WARNING): only
# globally unique facts (the goal's, check-in's or entry's public UUID, a statement id,
# the learner's issuer/client/sub), never a row id; changing one changes that kind's ids.
# tests/data/goal_statements/ pins them through the golden statements' ids.


def goal_iri(goal: Goal) -> str:
    """The goal's activity id: opaque (its public UUID), under our base, which
    ``build_statement`` moves under the operator's IRI base. Never resolvable to content:
    the tool serves curriculum activities only."""
    return vocabulary.CX_BASE + f"goals/{goal.public_id}"


def learner_goals_activity(launch: Launch) -> Activity:
    """All of one learner's goals: one id per (issuer, client id, sub), opaque outside."""
    key = source_id("learner-goals", launch.platform.issuer, launch.platform.client_id, launch.sub)
    return Activity(
        id=vocabulary.CX_BASE + f"learner-goals/{uuid.uuid5(_LEARNER_GOALS_NAMESPACE, key)}",
        type=vocabulary.LEARNER_GOALS,
        name="Personal goals",
    )


def goal_name(goal: Goal, catalog: Catalog) -> str:
    """The activity name: the title when the learner shares it (see the module docstring)."""
    if goal.visibility is GoalVisibility.CONTENT:
        return goal.title
    template = catalog.get_goal_template(goal.template_id) if goal.template_id else None
    if (
        goal.visibility is GoalVisibility.PROGRESS
        and template is not None
        and template.title == goal.title
    ):
        return goal.title
    metric = catalog.get_metric(goal.metric_key)
    return f"Personal goal: {metric.label}" if metric else "Personal goal"


def goal_description(goal: Goal, catalog: Catalog) -> str:
    """The measure, target and deadline in words, e.g. "Lessons on Empathy experienced in
    CX Academy: target 5 lessons, due 2026-12-31"."""
    measure = describe_measure(catalog, goal.metric_key, goal.metric_params, goal.target, goal.unit)
    return f"{measure}, due {goal.due_at.date().isoformat()}"


def goal_activity(goal: Goal, catalog: Catalog) -> Activity:
    return Activity(
        id=goal_iri(goal),
        type=vocabulary.GOAL,
        name=goal_name(goal, catalog),
        description=goal_description(goal, catalog),
    )


def practice_activity(kind: str, catalog: Catalog) -> Activity:
    """One activity per kind of practice, so an LRS counts entries by kind."""
    found = catalog.get_practice_kind(kind)
    return Activity(
        id=vocabulary.activity_iri(vocabulary.CX_BASE + "practice", kind),
        type=vocabulary.PRACTICE,
        name=found.label if found else kind,
    )


def _progress_result(goal: Goal, **fields: Any) -> Result:
    extensions: dict[str, Any] = {
        # cmi5's progress is an integer percentage (cmi5 9.6.2.5), so dashboards that know
        # cmi5 draw a bar without our profile; our two extensions keep the exact numbers.
        vocabulary.PROGRESS: _percent(goal.progress, goal.target),
        vocabulary.GOAL_PROGRESS: goal.progress,
        vocabulary.GOAL_TARGET: goal.target,
    }
    extensions.update(fields.pop("extensions", {}))
    return Result(extensions=extensions, **fields)


def _percent(progress: float, target: float) -> int:
    if target <= 0:
        return 0
    return max(0, min(100, int(progress * 100 // target)))


def _goal_event(
    launch: Launch,
    goal: Goal,
    catalog: Catalog,
    *,
    source: str,
    verb: vocabulary.Verb,
    at: datetime,
    result: Result | None = None,
) -> LearningEvent:
    extensions: dict[str, Any] = {
        vocabulary.GOAL_METRIC: {"key": goal.metric_key, "params": dict(goal.metric_params)},
        vocabulary.GOAL_DUE: _rfc3339(goal.due_at),
    }
    if goal.context_id:
        extensions[vocabulary.LTI_CONTEXT_ID] = goal.context_id
    return LearningEvent(
        source_id=source,
        verb=verb,
        learner=learner_of(launch),
        object=goal_activity(goal, catalog),
        timestamp=at,
        grouping=(learner_goals_activity(launch),),
        categories=(STAFF_CATEGORY,) if is_instructor_type(launch.roles) else (),
        result=result,
        language=launch.locale,
        extensions=extensions,
    )


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def goal_set_event(launch: Launch, goal: Goal, catalog: Catalog, at: datetime) -> LearningEvent:
    """The learner committed to a goal; once per goal."""
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-set", goal.public_id),
        verb=vocabulary.SET_GOAL,
        at=at,
        result=Result(extensions={vocabulary.GOAL_TARGET: goal.target}),
    )


def goal_updated_event(launch: Launch, goal: Goal, catalog: Catalog, at: datetime) -> LearningEvent:
    """The learner changed the goal; one statement per saved change (its time names it)."""
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-updated", goal.public_id, at.isoformat()),
        verb=vocabulary.UPDATED,
        at=at,
        result=_progress_result(goal),
    )


def goal_progressed_event(
    launch: Launch,
    goal: Goal,
    catalog: Catalog,
    *,
    trigger: str,
    at: datetime,
    milestone: float | None = None,
) -> LearningEvent:
    """The goal engine counted learning towards the goal; ``goal.progress`` is the new value.

    ``trigger`` is the id of the statement whose counting moved the progress, so the same
    change redelivered gets the same id, while a later change back to an earlier value (a
    statement voided, then another counted) gets its own.
    """
    extensions = {vocabulary.GOAL_MILESTONE: milestone} if milestone is not None else {}
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-progressed", goal.public_id, f"{goal.progress:g}", trigger),
        verb=vocabulary.PROGRESSED,
        at=at,
        result=_progress_result(goal, extensions=extensions),
    )


def goal_achieved_event(
    launch: Launch, goal: Goal, catalog: Catalog, at: datetime
) -> LearningEvent:
    """The progress reached the target; once per goal (achievement is final)."""
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-achieved", goal.public_id),
        verb=vocabulary.ACHIEVED_GOAL,
        at=at,
        result=_progress_result(goal, success=True, completion=True),
    )


def goal_missed_event(launch: Launch, goal: Goal, catalog: Catalog, at: datetime) -> LearningEvent:
    """The deadline passed with the target not reached; once per goal."""
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-missed", goal.public_id),
        verb=vocabulary.MISSED_GOAL,
        at=at,
        result=_progress_result(goal, success=False, completion=False),
    )


def goal_abandoned_event(
    launch: Launch, goal: Goal, catalog: Catalog, at: datetime
) -> LearningEvent:
    """The learner gave the goal up; once per goal."""
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-abandoned", goal.public_id),
        verb=vocabulary.ABANDONED_GOAL,
        at=at,
        result=_progress_result(goal, completion=False),
    )


def checked_in_event(
    launch: Launch, goal: Goal, check_in: GoalCheckIn, catalog: Catalog, at: datetime
) -> LearningEvent:
    """A check-in on the goal: the confidence and progress travel, the reflection does not."""
    return _goal_event(
        launch,
        goal,
        catalog,
        source=source_id("goal-checked-in", check_in.public_id),
        verb=vocabulary.CHECKED_IN,
        at=at,
        result=_progress_result(goal, extensions={vocabulary.CONFIDENCE: check_in.confidence}),
    )


def practice_logged_event(
    launch: Launch, entry: PracticeEntry, catalog: Catalog, at: datetime
) -> LearningEvent:
    """A practice-log entry: its kind and day, never its note or link.

    The timestamp is when it was logged; the day it happened travels in the practice-date
    extension, which is what the goal engine compares with a goal's start.
    """
    return LearningEvent(
        source_id=source_id("practice-logged", entry.public_id),
        verb=vocabulary.LOGGED,
        learner=learner_of(launch),
        object=practice_activity(entry.kind, catalog),
        timestamp=at,
        grouping=(learner_goals_activity(launch),),
        categories=(STAFF_CATEGORY,) if is_instructor_type(launch.roles) else (),
        language=launch.locale,
        extensions={vocabulary.PRACTICE_DATE: entry.happened_on.isoformat()},
    )
