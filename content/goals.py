"""Personal goals: the metric catalogue, deadlines, check-in dates and milestone progress.

The metrics themselves are content (``goals.yaml``); this module owns what code needs of
them: the keys the goal engine implements, checking a goal's parameters against its metric,
and saying a goal's measure in words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

from content.catalog import Catalog
from content.errors import MetricParamsError
from content.schema import GoalTemplate, Metric, MetricParameter, Milestone, ParamValue

SELF_REPORTED = "self_reported"
"""The metric of a goal the learner counts by hand; the engine never touches it."""

METRIC_KEYS: frozenset[str] = frozenset(
    {
        "lessons_experienced",
        "quizzes_passed",
        "roleplays_finished",
        "courses_completed",
        "practice_logged",
        "skill_rated",
        "external_statements",
        SELF_REPORTED,
    }
)
"""Every metric key the goal engine implements; goals.yaml must define exactly these."""

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


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


# --- the metric catalogue ------------------------------------------------------------------


def list_metrics(catalog: Catalog, *, automatic: bool | None = None) -> list[Metric]:
    """The metrics a goal can use, in authored order; ``automatic`` filters by who counts."""
    return [m for m in catalog.list_metrics() if automatic is None or m.automatic == automatic]


def get_metric(catalog: Catalog, key: str) -> Metric | None:
    return catalog.get_metric(key)


def require_metric(catalog: Catalog, key: str) -> Metric:
    """The metric ``key``; :class:`~content.errors.ContentNotFoundError` if there is none."""
    return catalog.require_metric(key)


def list_param_problems(
    catalog: Catalog, metric: Metric, params: Mapping[str, object]
) -> list[str]:
    """Every reason ``params`` do not fit ``metric`` (empty when they do)."""
    known = {parameter.name: parameter for parameter in metric.parameters}
    problems = [f"unknown parameter {name!r}" for name in sorted(set(params) - set(known))]
    for parameter in metric.parameters:
        value = params.get(parameter.name)
        if value is None or value == "":
            if parameter.required:
                problems.append(f"{parameter.name}: a value is required")
            continue
        problem = _param_problem(catalog, parameter, value)
        if problem:
            problems.append(f"{parameter.name}: {problem}")
    return problems


def validate_params(
    catalog: Catalog, key: str, params: Mapping[str, object]
) -> dict[str, ParamValue]:
    """``params`` checked against metric ``key`` and normalised (numbers as numbers, blanks
    of optional parameters dropped), ready to store with the goal.

    Raises :class:`~content.errors.MetricParamsError` naming every problem, including an
    unknown metric, a skill, course or practice kind that does not exist, a value out of range.
    """
    metric = catalog.get_metric(key)
    if metric is None:
        raise MetricParamsError(key, ["unknown metric"])
    problems = list_param_problems(catalog, metric, params)
    if problems:
        raise MetricParamsError(key, problems)
    clean: dict[str, ParamValue] = {}
    for parameter in metric.parameters:
        value = params.get(parameter.name)
        if value is None or value == "":
            continue
        clean[parameter.name] = _normalise(parameter, value)
    return clean


def describe_measure(
    catalog: Catalog, key: str, params: Mapping[str, object], target: float, unit: str = ""
) -> str:
    """A goal's measure in words, e.g. "Lessons on Empathy experienced in CX Academy:
    target 5 lessons". ``unit`` is the goal's own unit; the metric's is used without it.

    Never raises for a stored goal whose content has since changed: an unknown metric or
    parameter is shown as it is.
    """
    metric = catalog.get_metric(key)
    if metric is None:
        return f"{key}: target {_number(target)} {unit}".rstrip()
    parameters = {parameter.name: parameter for parameter in metric.parameters}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        parameter = parameters.get(name)
        value = params.get(name)
        if parameter is None:
            return match.group(0)
        return _display(catalog, parameter, value)

    words = _PLACEHOLDER.sub(fill, metric.measure)
    shown_unit = unit or metric.unit
    return f"{words}: target {_number(target)} {shown_unit}".rstrip()


def _param_problem(catalog: Catalog, parameter: MetricParameter, value: object) -> str | None:
    kind = parameter.type
    if kind in ("number", "integer"):
        number = _as_number(value, integer=kind == "integer")
        if number is None:
            return f"{value!r} is not {'a whole number' if kind == 'integer' else 'a number'}"
        if parameter.min is not None and number < parameter.min:
            return f"{_number(number)} is below the minimum {_number(parameter.min)}"
        if parameter.max is not None and number > parameter.max:
            return f"{_number(number)} is above the maximum {_number(parameter.max)}"
        return None
    if not isinstance(value, str):
        return f"{value!r} is not text"
    if kind == "skill" and catalog.get_skill(value) is None:
        return f"unknown skill {value!r}"
    if kind == "course" and catalog.get_course(value) is None:
        return f"unknown course {value!r}"
    if kind == "practice_kind" and catalog.get_practice_kind(value) is None:
        return f"unknown practice kind {value!r}"
    if kind == "iri" and not _is_absolute_iri(value):
        return f"{value!r} is not an absolute IRI"
    return None


def _as_number(value: object, *, integer: bool) -> float | None:
    # bool is an int in Python, and "true" is never a sensible score.
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if integer and not number.is_integer():
        return None
    return number


def _normalise(parameter: MetricParameter, value: object) -> ParamValue:
    if parameter.type in ("number", "integer"):
        number = _as_number(value, integer=parameter.type == "integer")
        assert number is not None  # checked by list_param_problems
        return int(number) if parameter.type == "integer" or number.is_integer() else number
    return str(value).strip()


def _is_absolute_iri(value: str) -> bool:
    # xAPI 1.0.3 Part Two, 2.4.3 / 2.4.4.1: verb ids and activity types are IRIs; a scheme
    # and something after it is what every LRS checks.
    parts = urlsplit(value)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and " " not in value


def _display(catalog: Catalog, parameter: MetricParameter, value: object) -> str:
    if value is None or value == "":
        return "any course" if parameter.type == "course" else "(not set)"
    if parameter.type == "skill":
        skill = catalog.get_skill(str(value))
        return skill.name if skill else str(value)
    if parameter.type == "course":
        course = catalog.get_course(str(value))
        return course.title if course else str(value)
    if parameter.type == "practice_kind":
        kind = catalog.get_practice_kind(str(value))
        return kind.label if kind else str(value)
    if parameter.type in ("number", "integer"):
        number = _as_number(value, integer=False)
        if number is None:
            return str(value)
        return f"{_number(number * 100)}%" if parameter.percent else _number(number)
    return str(value)


def _number(value: float) -> str:
    return f"{value:g}"


def list_placeholders(metric: Metric) -> list[str]:
    """The parameter names ``metric.measure`` refers to, in order."""
    return _PLACEHOLDER.findall(metric.measure)
