"""The goal pages' statements: which lifecycle event records what, through the goal
engine's statement builders (lti_tool/goal_events.py). No statement carries text the learner
typed unless they shared the goal's content (docs/decisions/0016-goal-privacy.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from lti_tool.store.goals import Goal, PracticeEntry
from lti_tool.web.learner import Visit


def record_goal_event(
    session: Session, visit: Visit, goal: Goal, kind: str, at: datetime, **detail: Any
) -> None:
    """Queue the statement for one change to a goal (set, updated, paused...)."""


def record_practice_event(
    session: Session, visit: Visit, entry: PracticeEntry, at: datetime
) -> None:
    """Queue the statement for a practice-log entry."""
