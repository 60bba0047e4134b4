"""Personal goals built from templates: deadlines, check-in dates and milestone progress."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from content.schema import GoalTemplate, Milestone


@dataclass(frozen=True)
class GoalProgress:
    """How far a learner is towards a goal's target and which milestones they have passed."""

    achieved: float
    target: float
    fraction: float
    reached: tuple[Milestone, ...]
    next_milestone: Milestone | None

    @property
    def complete(self) -> bool:
        return self.fraction >= 1.0


def due_date(template: GoalTemplate, start: date) -> date:
    return start + timedelta(days=template.timeframe_days)


def list_check_in_dates(template: GoalTemplate, start: date) -> list[date]:
    """Every check-in from the first interval up to and including the due date.

    The due date is always a check-in, even when the interval does not divide the time
    frame, because the final self-assessment is the one that matters most.
    """
    end = due_date(template, start)
    dates = [
        start + timedelta(days=day)
        for day in range(template.check_in_days, template.timeframe_days, template.check_in_days)
    ]
    return [*dates, end]


def measure_progress(
    template: GoalTemplate, achieved: float, target: float | None = None
) -> GoalProgress:
    """Compare ``achieved`` with the target (the template's, or the learner's own).

    Learners may adjust the number when they adopt a template; milestones stay fractions
    of whatever target they chose, so "halfway" still means halfway.
    """
    goal = template.target if target is None else target
    if goal <= 0:
        raise ValueError("target must be positive")
    fraction = min(1.0, max(0.0, achieved / goal))
    reached = tuple(m for m in template.milestones if fraction >= m.at)
    upcoming = next((m for m in template.milestones if fraction < m.at), None)
    return GoalProgress(achieved, goal, fraction, reached, upcoming)


def list_new_milestones(
    template: GoalTemplate, before: float, after: float, target: float | None = None
) -> list[Milestone]:
    """Milestones crossed between two progress readings: the moments to celebrate."""
    already = set(measure_progress(template, before, target).reached)
    return [m for m in measure_progress(template, after, target).reached if m not in already]
