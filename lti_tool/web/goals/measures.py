"""What the goal pages offer from the content's metric catalogue and practice kinds, in the
shape the forms and templates use. The catalogue itself lives in content/goals.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The metric a learner counts by hand (the "update progress" form sets it).
SELF_REPORTED = "self_reported"

#: Milestones every goal celebrates, as fractions of its target (issue 9: 50% and 100%).
MILESTONES = (0.5, 1.0)


@dataclass(frozen=True)
class MetricChoice:
    key: str
    label: str
    description: str
    #: Parameters the goal stores with the metric (a template's, or none from scratch).
    params: dict[str, Any]


def metric_choices() -> list[MetricChoice]:
    """Metrics a learner may pick for a goal written from scratch."""
    return [MetricChoice(SELF_REPORTED, "I count it myself", "", {})]


def template_metric(template_id: str) -> tuple[str, dict[str, Any]]:
    """The metric (and its parameters) a template's goals are measured by."""
    return SELF_REPORTED, {}


def practice_kinds() -> dict[str, str]:
    """Practice-log kinds by key, with the label the form shows."""
    return {}


def crossed_milestones(before: float, after: float, target: float) -> list[float]:
    """The milestones passed when progress moves from ``before`` to ``after``."""
    if target <= 0:
        return []
    return [m for m in MILESTONES if before / target < m <= after / target]
