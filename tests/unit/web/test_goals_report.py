"""The L&D figures as pure functions: outcomes per skill and course, the median time to
achieve, self-assessment movement, the CSV (counts only, formula-safe) and the bar geometry;
and who counts as L&D."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from lti_tool.lti.roles import is_insight_role
from lti_tool.store.goals import GoalOutcome, GoalStatus
from lti_tool.web.goals.measures import crossed_milestones
from lti_tool.web.goals.report import bar_chart, insights_csv, summarise

START = datetime(2026, 1, 1, tzinfo=UTC)


def goal(
    status: GoalStatus,
    *,
    skill: str | None = "empathy",
    days: float = 0,
    context: str | None = "c1",
) -> GoalOutcome:
    ended = START + timedelta(days=days) if status is not GoalStatus.ACTIVE else None
    return GoalOutcome(skill, context, status, START, ended)


def test_outcomes_count_each_status_and_the_median_days_to_achieve() -> None:
    insights = summarise(
        [
            goal(GoalStatus.ACHIEVED, days=4),
            goal(GoalStatus.ACHIEVED, days=10),
            goal(GoalStatus.ACHIEVED, days=30),
            goal(GoalStatus.MISSED, days=40),
            goal(GoalStatus.ACTIVE, skill=None, context=None),
        ],
        skill_names={"empathy": "Empathy"},
        course_titles={"c1": "Course one"},
        practice_counts={"kb-article": 2, "mentoring-given": 5},
        practice_names={"mentoring-given": "Mentoring given"},
        assessments=[],
    )
    empathy, other = insights.by_skill
    assert (empathy.label, empathy.set, empathy.achieved, empathy.missed) == ("Empathy", 4, 3, 1)
    assert empathy.median_days == 10
    assert (other.label, other.active, other.median_days) == ("-", 1, None)
    assert [o.label for o in insights.by_course] == ["Course one", "-"]
    assert insights.total.set == 5
    # Most practised first; a kind the catalogue no longer has keeps its id.
    assert insights.practice == [("Mentoring given", 5), ("kb-article", 2)]


def test_movement_compares_each_learners_first_and_latest_rating() -> None:
    day = timedelta(days=1)
    insights = summarise(
        [],
        skill_names={"empathy": "Empathy"},
        course_titles={},
        practice_counts={},
        practice_names={},
        assessments=[
            ("a", START, {"empathy": 2.0, "listening": 3.0}),
            ("b", START, {"empathy": 3.0}),
            ("a", START + day, {"empathy": 3.0}),
            ("a", START + 2 * day, {"empathy": 4.0}),
            ("b", START + day, {"empathy": 4.0}),
        ],
    )
    # listening was rated once only: no movement to show.
    (empathy,) = insights.movement
    assert (empathy.skill, empathy.learners, empathy.first, empathy.latest) == (
        "Empathy",
        2,
        2.5,
        4.0,
    )
    assert empathy.change == 1.5


def test_the_csv_has_counts_only_and_defuses_formulas() -> None:
    insights = summarise(
        [goal(GoalStatus.ACHIEVED, days=2)],
        skill_names={"empathy": '=HYPERLINK("x")'},
        course_titles={},
        practice_counts={},
        practice_names={},
        assessments=[],
    )
    body = insights_csv(insights)
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][:3] == ["skill", '\'=HYPERLINK("x")', "1"]


def test_bars_scale_to_the_largest_value() -> None:
    chart = bar_chart([("a", 4), ("b", 2), ("c", 0)])
    assert [b.width for b in chart.bars] == [chart.plot_width, chart.plot_width / 2, 0]
    assert [b.y for b in chart.bars] == [0, chart.row, 2 * chart.row]
    assert bar_chart([]).bars == []


def test_milestones_are_crossed_once_at_half_and_full() -> None:
    assert crossed_milestones(0, 2, 6) == []
    assert crossed_milestones(2, 3, 6) == [0.5]
    assert crossed_milestones(3, 6, 6) == [1.0]
    assert crossed_milestones(0, 7, 6) == [0.5, 1.0]
    assert crossed_milestones(4, 5, 6) == []


def test_l_and_d_is_an_organisation_administrator_or_a_configured_role() -> None:
    person = "http://purl.imsglobal.org/vocab/lis/v2/{}/person#Administrator"
    assert is_insight_role([person.format("institution")])
    assert is_insight_role([person.format("system")])
    assert not is_insight_role(["http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"])
    assert not is_insight_role(["Administrator", "Instructor"])
    assert is_insight_role(["urn:lnd"], configured=["urn:lnd"])
    assert not is_insight_role(["urn:lnd-other"], configured=["urn:lnd"])
