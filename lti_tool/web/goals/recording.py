"""The goal pages' statements: which change records what, through the goal statement
builders (lti_tool/goal_events.py). No statement carries what the learner wrote unless they
shared the goal's content (docs/decisions/0016-goal-pages-and-privacy.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from lti_tool import goal_events
from lti_tool.recording import record_event
from lti_tool.store.goals import Goal, GoalCheckIn, PracticeEntry
from lti_tool.web.learner import Visit, catalog

#: A change the learner made on the goal pages. Pausing and resuming are updates of the
#: goal (its status), as the xAPI goal vocabulary has no verb of their own.
GoalChange = Literal["set", "updated", "abandoned"]


def record_goal_change(
    session: Session, visit: Visit, goal: Goal, change: GoalChange, at: datetime
) -> None:
    """Queue the statement for a goal set, changed (edited, paused, resumed) or abandoned."""
    builders = {
        "set": goal_events.goal_set_event,
        "updated": goal_events.goal_updated_event,
        "abandoned": goal_events.goal_abandoned_event,
    }
    event = builders[change](visit.launch, goal, catalog(), at)
    record_event(session, event, owner=visit.learner)


def record_check_in(
    session: Session, visit: Visit, goal: Goal, check_in: GoalCheckIn, at: datetime
) -> None:
    event = goal_events.checked_in_event(visit.launch, goal, check_in, catalog(), at)
    record_event(session, event, owner=visit.learner)


def record_progress(
    session: Session, visit: Visit, goal: Goal, at: datetime, milestone: float | None
) -> None:
    """A self-reported progress update (the engine records the progress it counts itself).

    Its trigger is the moment of the update: every update the learner saves is its own
    statement, while the same request replayed maps to the same id.
    """
    event = goal_events.goal_progressed_event(
        visit.launch,
        goal,
        catalog(),
        trigger=f"self-reported:{at.isoformat()}",
        at=at,
        milestone=milestone,
    )
    record_event(session, event, owner=visit.learner)


def record_achieved(session: Session, visit: Visit, goal: Goal, at: datetime) -> None:
    event = goal_events.goal_achieved_event(visit.launch, goal, catalog(), at)
    record_event(session, event, owner=visit.learner)


def record_practice(session: Session, visit: Visit, entry: PracticeEntry, at: datetime) -> None:
    """A practice-log entry: its kind and day travel, never its note or link."""
    event = goal_events.practice_logged_event(visit.launch, entry, catalog(), at)
    record_event(session, event, owner=visit.learner)
