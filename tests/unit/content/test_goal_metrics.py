"""The goal metric catalogue: what the web lists, checks and says about a goal's measure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from content.errors import ContentNotFoundError, MetricParamsError
from content.goals import (
    METRIC_KEYS,
    SELF_REPORTED,
    describe_measure,
    get_metric,
    list_metrics,
    require_metric,
    validate_params,
)
from content.loader import load_catalog
from content.validation import validate_path
from tests.unit.content.conftest import edit_yaml

CATALOG = load_catalog()


def test_catalogue_defines_exactly_the_metrics_the_engine_counts() -> None:
    keys = [metric.key for metric in list_metrics(CATALOG)]
    assert sorted(keys) == sorted(METRIC_KEYS)
    assert [m.key for m in list_metrics(CATALOG, automatic=False)] == [SELF_REPORTED]
    assert all(m.label and m.unit for m in list_metrics(CATALOG))


def test_get_and_require_metric() -> None:
    assert get_metric(CATALOG, "lessons_experienced") is not None
    assert get_metric(CATALOG, "vibes") is None
    with pytest.raises(ContentNotFoundError, match="vibes"):
        require_metric(CATALOG, "vibes")


def test_the_seven_practice_kinds_each_build_a_skill() -> None:
    kinds = {kind.id: kind for kind in CATALOG.list_practice_kinds()}
    assert set(kinds) == {
        "mentoring-given",
        "mentoring-received",
        "kb-article",
        "team-tip",
        "cross-training-day",
        "customer-feedback-acted-on",
        "workshop-attended",
    }
    assert all(CATALOG.get_skill(kind.skill) for kind in kinds.values())


def test_every_template_names_a_metric_and_some_are_counted_automatically() -> None:
    templates = CATALOG.list_goal_templates()
    assert len(templates) >= 24
    automatic = [t for t in templates if require_metric(CATALOG, t.metric).automatic]
    assert len(automatic) >= 8
    assert CATALOG.require_goal_template("goal-peer-mentor").metric_params == {
        "kind": "mentoring-given"
    }
    assert CATALOG.require_goal_template("goal-complete-course").metric == "courses_completed"


def test_validate_params_normalises_numbers_and_drops_blank_optionals() -> None:
    assert validate_params(
        CATALOG, "roleplays_finished", {"skill": "empathy", "min_percent": "70"}
    ) == {"skill": "empathy", "min_percent": 70}
    assert validate_params(CATALOG, "quizzes_passed", {"min_score": 0.85}) == {"min_score": 0.85}
    assert validate_params(CATALOG, "courses_completed", {"course": ""}) == {}
    assert validate_params(CATALOG, SELF_REPORTED, {}) == {}


@pytest.mark.parametrize(
    ("key", "params", "problem"),
    [
        ("vibes", {}, "unknown metric"),
        ("lessons_experienced", {}, "skill: a value is required"),
        ("lessons_experienced", {"skill": "juggling"}, "unknown skill 'juggling'"),
        ("lessons_experienced", {"skill": "empathy", "extra": 1}, "unknown parameter 'extra'"),
        ("quizzes_passed", {"min_score": 1.5}, "above the maximum 1"),
        ("quizzes_passed", {"min_score": -0.1}, "below the minimum 0"),
        ("quizzes_passed", {"min_score": "lots"}, "is not a number"),
        ("quizzes_passed", {"min_score": True}, "is not a number"),
        ("quizzes_passed", {"min_score": "nan"}, "is not a number"),
        ("courses_completed", {"course": "underwater-basketry"}, "unknown course"),
        ("practice_logged", {"kind": "napping"}, "unknown practice kind 'napping'"),
        ("skill_rated", {"skill": "empathy", "min_rating": 6}, "above the maximum 5"),
        (
            "external_statements",
            {"verb": "not an iri", "activity_type": "http://adlnet.gov/expapi/activities/course"},
            "verb: 'not an iri' is not an absolute IRI",
        ),
    ],
)
def test_validate_params_refuses_what_does_not_fit(
    key: str, params: dict[str, Any], problem: str
) -> None:
    with pytest.raises(MetricParamsError) as caught:
        validate_params(CATALOG, key, params)
    assert any(problem in p for p in caught.value.problems), caught.value.problems
    assert isinstance(caught.value, ValueError)


def test_describe_measure_names_skills_courses_kinds_and_percentages() -> None:
    assert (
        describe_measure(CATALOG, "lessons_experienced", {"skill": "empathy"}, 5)
        == "Lessons on Empathy experienced in CX Academy: target 5 lessons"
    )
    assert describe_measure(CATALOG, "quizzes_passed", {"min_score": 0.8}, 3) == (
        "Quizzes passed with a score of at least 80%: target 3 quizzes"
    )
    kb = describe_measure(CATALOG, "practice_logged", {"kind": "kb-article"}, 4, "articles")
    assert kb == (
        "Practice-log entries: Knowledge-base article written or improved: target 4 articles"
    )
    assert describe_measure(CATALOG, "courses_completed", {}, 1, "course").startswith(
        "Courses completed: any course"
    )
    # A goal stored before its metric left the content still reads.
    assert describe_measure(CATALOG, "retired_metric", {}, 2, "things") == (
        "retired_metric: target 2 things"
    )


def _problems(root: Path) -> list[str]:
    return [str(problem) for problem in validate_path(root).problems]


def _set_template(field: str, value: Any) -> Callable[[Any], None]:
    return lambda goals: goals["templates"][0].__setitem__(field, value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_set_template("metric", "vibes"), "templates[0].metric: unknown metric 'vibes'"),
        (
            lambda g: g["templates"][0].update(
                metric="lessons_experienced", metric_params={"skill": "juggling"}
            ),
            "templates[0].metric_params: skill: unknown skill 'juggling'",
        ),
        (
            lambda g: g["templates"][0].update(
                metric="quizzes_passed", metric_params={"min_score": 3}
            ),
            "templates[0].metric_params: min_score: 3 is above the maximum 1",
        ),
        (
            lambda g: g["metrics"][0].__setitem__("key", "telepathy_sessions"),
            "metrics[0].key: the goal engine has no rule for 'telepathy_sessions'",
        ),
        (
            lambda g: g["metrics"][0].__setitem__("key", "telepathy_sessions"),
            "metrics: metric 'lessons_experienced' is missing",
        ),
        (
            lambda g: g["metrics"][0].__setitem__("measure", "Lessons on {topic}"),
            "metrics[0].measure: {topic} names no parameter",
        ),
        (
            lambda g: g["metrics"][0]["parameters"][0].__setitem__("min", 1),
            "metrics[0].parameters[0]: min and max apply to numbers, not to a skill",
        ),
        (
            lambda g: g["practice_kinds"][0].__setitem__("skill", "juggling"),
            "practice_kinds[0].skill: unknown skill 'juggling'",
        ),
        (
            lambda g: g["practice_kinds"].append(dict(g["practice_kinds"][0])),
            "practice_kinds: kind 'mentoring-given' appears 2 times",
        ),
    ],
)
def test_validator_names_metric_problems(
    content_copy: Path, change: Callable[[Any], None], expected: str
) -> None:
    edit_yaml(content_copy / "goals.yaml", change)
    found = _problems(content_copy)
    assert f"content/goals.yaml: {expected}" in found, found


def test_validator_accepts_the_shipped_metrics() -> None:
    assert not [p for p in _problems(CATALOG.root) if "goals.yaml" in p]
