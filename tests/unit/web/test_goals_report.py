"""The L&D figures: outcomes per skill and course, the median time to achieve and
self-assessment movement, counted by the database (SQLite here; PostgreSQL in
tests/integration/test_goals_overview_postgres.py); the CSV (counts only, formula-safe),
the bar geometry, and who counts as L&D."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from lti_tool.lti.roles import is_insight_role
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.goals import (
    Goal,
    GoalStatus,
    GoalVisibility,
    PracticeEntry,
    list_context_titles,
)
from lti_tool.store.launches import add_launch
from lti_tool.store.learning import SelfAssessmentRecord
from lti_tool.store.models import Platform
from lti_tool.store.platforms import PlatformSpec, add_platform
from lti_tool.web.goals.measures import crossed_milestones
from lti_tool.web.goals.report import (
    Insights,
    Movement,
    Outcomes,
    bar_chart,
    insights_csv,
    summarise,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = {"skill_names": {"empathy": "Empathy", "listening": "Listening"}}


class Organisation:
    """One platform's goals, practice entries and self-assessments, written as rows."""

    def __init__(self, session: Session, name: str) -> None:
        self.session = session
        self.platform: Platform = add_platform(
            session,
            PlatformSpec(
                name=name,
                issuer=f"https://{name}.example",
                client_id=name,
                auth_login_url=f"https://{name}.example/auth",
                auth_token_url=f"https://{name}.example/token",
                key_set_url=f"https://{name}.example/jwks",
                deployment_ids=("deployment-1",),
            ),
        )
        self.launch = add_launch(
            session,
            self.platform,
            deployment_id="deployment-1",
            sub="someone",
            message_type="LtiResourceLinkRequest",
            roles=[],
            claims={},
        )
        # The assessments below name the launch by id alone (no relationship to order by).
        session.flush()

    def goal(
        self,
        status: GoalStatus,
        *,
        skill: str | None = "empathy",
        days: float | None = 0,
        context: str | None = "c1",
        visibility: GoalVisibility = GoalVisibility.PROGRESS,
    ) -> None:
        ends = status not in (GoalStatus.ACTIVE, GoalStatus.PAUSED) and days is not None
        self.session.add(
            Goal(
                platform_id=self.platform.id,
                sub="learner",
                skill=skill,
                title="A goal",
                metric_key="self_reported",
                target=1.0,
                status=status,
                visibility=visibility,
                starts_at=START,
                due_at=START + timedelta(days=90),
                context_id=context,
                ended_at=START + timedelta(days=days or 0) if ends else None,
            )
        )

    def practice(self, kind: str, times: int = 1) -> None:
        for _ in range(times):
            self.session.add(
                PracticeEntry(
                    platform_id=self.platform.id, sub="learner", kind=kind, happened_on=START.date()
                )
            )

    def assessment(self, sub: str, day: int, averages: dict[str, float]) -> None:
        self.session.add(
            SelfAssessmentRecord(
                platform_id=self.platform.id,
                sub=sub,
                launch_id=self.launch.id,
                assessment_id="self-assessment",
                content_version="1.0.0",
                ratings={},
                averages=averages,
                modules=[],
                created_at=START + timedelta(days=day),
            )
        )

    def insights(self, **names: Any) -> Insights:
        self.session.flush()
        values = {"course_titles": {}, "practice_names": {}, **NAMES, **names}
        return summarise(self.session, self.platform.id, **values)


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    with transaction(services.sessions) as session:
        yield session


@pytest.fixture
def org(session: Session) -> Organisation:
    return Organisation(session, "acme")


def test_outcomes_count_each_status_and_the_median_days_to_achieve(org: Organisation) -> None:
    for days in (4, 10, 30):
        org.goal(GoalStatus.ACHIEVED, days=days)
    org.goal(GoalStatus.MISSED, days=40)
    org.goal(GoalStatus.ACTIVE, skill=None, context=None)
    org.practice("kb-article", 2)
    org.practice("mentoring-given", 5)
    insights = org.insights(
        course_titles={"c1": "Course one"}, practice_names={"mentoring-given": "Mentoring given"}
    )
    empathy, other = insights.by_skill
    assert (empathy.label, empathy.set, empathy.achieved, empathy.missed) == ("Empathy", 4, 3, 1)
    assert empathy.median_days == 10
    assert (other.label, other.active, other.median_days) == ("-", 1, None)
    assert [o.label for o in insights.by_course] == ["Course one", "-"]
    assert insights.total.set == 5
    # Most practised first; a kind the catalogue no longer has keeps its id.
    assert insights.practice == [("Mentoring given", 5), ("kb-article", 2)]


def test_movement_compares_each_learners_first_and_latest_rating(org: Organisation) -> None:
    org.assessment("a", 0, {"empathy": 2.0, "listening": 3.0})
    org.assessment("b", 0, {"empathy": 3.0})
    org.assessment("a", 1, {"empathy": 3.0})
    org.assessment("a", 2, {"empathy": 4.0})
    org.assessment("b", 1, {"empathy": 4.0})
    # listening was rated once only: no movement to show.
    (empathy,) = org.insights().movement
    assert (empathy.skill, empathy.learners, empathy.first, empathy.latest) == (
        "Empathy",
        2,
        2.5,
        4.0,
    )
    assert empathy.change == 1.5


def test_the_overview_of_a_hand_counted_organisation(session: Session) -> None:
    acme, other = Organisation(session, "acme"), Organisation(session, "other")
    # acme, course c1, empathy: three achieved (6 hours is 0.25 days, shown as 0.2), one
    # missed, one paused, one abandoned; an achieved goal kept private is never counted.
    for days in (4, 10, 0.25):
        acme.goal(GoalStatus.ACHIEVED, days=days)
    acme.goal(GoalStatus.MISSED, days=40)
    acme.goal(GoalStatus.PAUSED)
    acme.goal(GoalStatus.ABANDONED, days=2)
    acme.goal(GoalStatus.ACHIEVED, days=1, visibility=GoalVisibility.PRIVATE)
    # Course c2: goals with no skill, one shared with its text.
    acme.goal(GoalStatus.ACTIVE, skill=None, context="c2")
    acme.goal(
        GoalStatus.ACHIEVED, skill=None, context="c2", days=1, visibility=GoalVisibility.CONTENT
    )
    # No course: listening, two achieved (an even count: the median is between them) and
    # one achieved with no end recorded (counted, but no time to achieve).
    acme.goal(GoalStatus.ACHIEVED, skill="listening", context=None, days=3)
    acme.goal(GoalStatus.ACHIEVED, skill="listening", context=None, days=5)
    acme.goal(GoalStatus.ACHIEVED, skill="listening", context=None, days=None)
    acme.practice("mentoring-given", 2)
    acme.practice("kb-article")
    acme.assessment("a", 0, {"empathy": 2.0, "listening": 3.0})
    acme.assessment("a", 1, {"empathy": 3.0})
    acme.assessment("a", 2, {"empathy": 4.0})
    acme.assessment("b", 0, {"empathy": 3.0})
    acme.assessment("b", 1, {"empathy": 4.5})
    # The other platform uses the same skills and course ids: none of it reaches acme's view.
    other.goal(GoalStatus.ACHIEVED, days=100)
    other.goal(GoalStatus.MISSED, skill="listening", context="c2", days=1)
    other.practice("kb-article", 5)
    other.assessment("a", 0, {"empathy": 1.0})
    other.assessment("a", 1, {"empathy": 5.0})

    insights = acme.insights(
        course_titles={"c1": "Course one", "c2": "Course two"},
        practice_names={"mentoring-given": "Mentoring given"},
    )

    assert insights == Insights(
        by_skill=[
            Outcomes("Empathy", paused=1, achieved=3, missed=1, abandoned=1, median_days=4.0),
            Outcomes("Listening", achieved=3, median_days=4.0),
            Outcomes("-", active=1, achieved=1, median_days=1.0),
        ],
        by_course=[
            Outcomes("Course one", paused=1, achieved=3, missed=1, abandoned=1, median_days=4.0),
            Outcomes("-", achieved=3, median_days=4.0),
            Outcomes("Course two", active=1, achieved=1, median_days=1.0),
        ],
        practice=[("Mentoring given", 2), ("kb-article", 1)],
        movement=[Movement("Empathy", 2, 2.5, 4.25)],
        # Days of the six timed achievements: 0.2, 1, 3, 4, 5, 10.
        total=Outcomes("all", 1, 1, 7, 1, 1, median_days=3.5),
    )
    assert other.insights() == Insights(
        by_skill=[
            Outcomes("Empathy", achieved=1, median_days=100.0),
            Outcomes("Listening", missed=1),
        ],
        by_course=[Outcomes("c1", achieved=1, median_days=100.0), Outcomes("c2", missed=1)],
        practice=[("kb-article", 5)],
        movement=[Movement("Empathy", 1, 1.0, 5.0)],
        total=Outcomes("all", achieved=1, missed=1, median_days=100.0),
    )


def test_course_titles_are_the_latest_each_course_was_sent(session: Session) -> None:
    acme, other = Organisation(session, "acme"), Organisation(session, "other")
    sent = [
        # Sent in this order, but the newer launch is the one dated later.
        (acme, "c1", "New title", 1),
        (acme, "c1", "Old title", 0),
        (acme, "c1", None, 2),  # a later launch without a title keeps the last one
        (acme, "c1", "", 3),
        (acme, "c2", "Course two", 0),
        (acme, None, "No course", 4),
        (other, "c1", "Another LMS's title", 5),
    ]
    for org, context, title, day in sent:
        launch = add_launch(
            session,
            org.platform,
            deployment_id="deployment-1",
            sub="someone",
            message_type="LtiResourceLinkRequest",
            roles=[],
            claims={},
            context_id=context,
            context_title=title,
        )
        launch.created_at = START + timedelta(days=day)
    session.flush()
    assert list_context_titles(session, acme.platform.id) == {
        "c1": "New title",
        "c2": "Course two",
    }


def test_the_csv_has_counts_only_and_defuses_formulas(org: Organisation) -> None:
    org.goal(GoalStatus.ACHIEVED, days=2)
    body = insights_csv(org.insights(skill_names={"empathy": '=HYPERLINK("x")'}))
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
