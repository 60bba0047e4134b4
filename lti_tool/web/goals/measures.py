"""What the goal pages take from the content's metric catalogue (content/goals.yaml through
content.goals): the metrics a goal may use, their parameter fields, template metrics, the
practice kinds, and the milestones every goal celebrates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from content import goals as catalogue
from content.errors import MetricParamsError
from content.goals import SELF_REPORTED
from content.schema import Metric
from lti_tool.web.learner import catalog

__all__ = ["MILESTONES", "SELF_REPORTED"]

#: Milestones every goal celebrates, as fractions of its target (issue 9: 50% and 100%).
MILESTONES = (0.5, 1.0)


def metric_choices() -> list[Metric]:
    """Metrics a learner may pick for a goal written from scratch, in authored order."""
    return catalogue.list_metrics(catalog())


def param_field(metric: str, name: str) -> str:
    """The form field of one metric's parameter: every metric has its own fields, so only
    the chosen one's are read."""
    return f"p.{metric}.{name}"


def read_params(metric_key: str, form: Mapping[str, str]) -> tuple[dict[str, Any], str | None]:
    """The chosen metric's parameters from the form, checked against the catalogue; with the
    problem in words when they do not fit."""
    metric = catalog().get_metric(metric_key)
    if metric is None:
        return {}, None  # read_goal reports the unknown metric on its own field
    raw = {p.name: form.get(param_field(metric.key, p.name), "").strip() for p in metric.parameters}
    try:
        return dict(catalogue.validate_params(catalog(), metric.key, raw)), None
    except MetricParamsError as err:
        return {}, "; ".join(err.problems)


def template_metric(template_id: str) -> tuple[str, dict[str, Any]]:
    """The metric (and its parameters) a template's goals are measured by."""
    template = catalog().require_goal_template(template_id)
    return template.metric, dict(template.metric_params)


def describe(metric_key: str, params: Mapping[str, Any], target: float, unit: str) -> str:
    return catalogue.describe_measure(catalog(), metric_key, params, target, unit)


def practice_kinds() -> dict[str, str]:
    """Practice-log kinds by id, with the label the form shows."""
    return {kind.id: kind.label for kind in catalog().list_practice_kinds()}


def automatic(metric_key: str) -> bool:
    metric = catalog().get_metric(metric_key)
    return metric is not None and metric.automatic


def crossed_milestones(before: float, after: float, target: float) -> list[float]:
    """The milestones passed when progress moves from ``before`` to ``after``."""
    if target <= 0:
        return []
    return [m for m in MILESTONES if before / target < m <= after / target]
