"""Staff views of goals: instructors see their own course's goals as each learner allowed,
L&D see figures across their own platform only; private goals and learners' words never
reach staff, the CSV, or another course or platform. Plus the goals page as a placeable
Deep Linking activity."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.goals import Goal, GoalStatus, GoalVisibility
from lti_tool.store.keys import public_jwks
from lti_tool.store.models import utcnow
from lti_tool.store.platforms import add_platform
from tests.conftest import embedded_settings
from tests.fixtures.platform import CLAIM, TestPlatform
from tests.unit.web.conftest import LearnerBrowser
from tests.unit.web.instructor.conftest import DL_CLAIM, open_picker, returned
from tests.unit.web.test_goals_pages import goal_fields, goal_row, set_goal, text
from tests.unit.web.test_grade_publishing import launch_with

UNLIMITED = "100000/minute"
INSTITUTION_ADMIN = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"
LND_ROLE = "http://lms.example.test/roles#LearningAndDevelopment"


@pytest.fixture(name="settings")
def staff_settings(tmp_path: Path) -> Settings:
    # Many launches from one test client: the rate limits have tests of their own.
    return embedded_settings(
        tmp_path,
        rate_limit_per_client=UNLIMITED,
        rate_limit_per_platform=UNLIMITED,
        goals_insight_roles=(LND_ROLE,),
    )


def in_course(
    client: FlaskClient, platform: TestPlatform, context: str, *, sub: str, role: str = "Learner"
) -> LearnerBrowser:
    claims = {CLAIM + "context": {"id": context, "title": f"Course {context}"}}
    return launch_with(client, platform, claims, role=role, sub=sub)


def with_roles(client: FlaskClient, platform: TestPlatform, roles: list[str]) -> LearnerBrowser:
    return launch_with(client, platform, {CLAIM + "roles": roles}, sub="lnd-1")


@pytest.fixture
def course_goals(app: Any, registered: TestPlatform) -> dict[str, str]:
    """Three learners of course-7 with a goal each (one per visibility) and one of course-8."""
    ids = {}
    for visibility in ("progress", "content", "private"):
        learner = in_course(app.test_client(), registered, "course-7", sub=f"l-{visibility}")
        ids[visibility] = set_goal(
            learner,
            title=f"Secret title {visibility}",
            specific=f"Secret plan {visibility} in words",
            relevance=f"Secret reason {visibility}",
            visibility=visibility,
        )
        learner.post(
            f"goals/{ids[visibility]}/check-ins",
            {"did": f"Secret reflection {visibility}", "confidence": "4"},
        )
    elsewhere = in_course(app.test_client(), registered, "course-8", sub="l-elsewhere")
    ids["elsewhere"] = set_goal(elsewhere, title="Secret title elsewhere", visibility="content")
    return ids


# --- instructors --------------------------------------------------------------------------------


def test_instructors_see_their_courses_goals_as_each_learner_allowed(
    client: FlaskClient, registered: TestPlatform, course_goals: dict[str, str]
) -> None:
    teacher = in_course(client, registered, "course-7", sub="teacher-7", role="Instructor")
    page = teacher.get("instructor/goals")
    assert page.status_code == 200
    body = text(page)
    # Shared content: the goal's words and the latest check-in.
    assert "Secret title content" in body
    assert "Secret plan content" in body
    assert "Secret reflection content" in body
    # Progress only: the row is there, the words are not.
    assert body.count("Not shared") >= 2
    for secret in ("Secret title progress", "Secret plan progress", "Secret reflection progress"):
        assert secret not in body
    # Private: nothing at all. Another course: nothing at all.
    assert "private" not in body.lower().replace("private goals are not shown", "")
    assert "elsewhere" not in body
    assert "Goals (2)" in body
    # The class view links the page.
    assert "instructor/goals" in text(teacher.get("instructor/class"))


def test_an_instructor_of_another_course_sees_none_of_these_goals(
    client: FlaskClient, registered: TestPlatform, course_goals: dict[str, str]
) -> None:
    teacher = in_course(client, registered, "course-9", sub="teacher-9", role="Instructor")
    body = text(teacher.get("instructor/goals"))
    assert "Secret" not in body
    assert "Goals (0)" in body


def test_learners_cannot_reach_the_staff_views(learner: LearnerBrowser) -> None:
    set_goal(learner)
    for path in ("instructor/goals", "insights/goals", "insights/goals.csv"):
        response = learner.get(path)
        assert response.status_code == 403, path
        assert "Share tips" not in text(response)


def test_a_course_administrator_is_not_l_and_d(
    client: FlaskClient, registered: TestPlatform
) -> None:
    course_admin = in_course(client, registered, "course-7", sub="admin-7", role="Administrator")
    assert course_admin.get("insights/goals").status_code == 403


# --- L&D ----------------------------------------------------------------------------------------


def test_l_and_d_sees_counts_per_skill_and_course_without_private_goals_or_words(
    client: FlaskClient,
    registered: TestPlatform,
    course_goals: dict[str, str],
    services: Services,
) -> None:
    with transaction(services.sessions) as session:
        achieved = goal_row(session, course_goals["progress"])
        achieved.status = GoalStatus.ACHIEVED
        achieved.ended_at = achieved.starts_at + timedelta(days=10)
    lnd = with_roles(client, registered, [INSTITUTION_ADMIN])
    page = lnd.get("insights/goals")
    assert page.status_code == 200
    body = text(page)
    assert "Secret" not in body
    assert "<svg" in body and 'role="img"' in body
    # Courses by the latest title their LMS sent (the L&D launch renamed course-7).
    assert "Support Team Basics" in body and "Course course-8" in body
    # Three shared goals (course-7 progress and content, course-8 content); private left out.
    assert "<dt>Goals set</dt><dd>3</dd>" in body
    assert "<dt>Achieved</dt><dd>1</dd>" in body
    assert "<dt>Median days to achieve</dt><dd>10</dd>" in body

    export = lnd.get("insights/goals.csv")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("text/csv")
    assert "Secret" not in text(export)
    rows = list(csv.reader(io.StringIO(text(export))))
    course_rows = {r[1]: r for r in rows if r and r[0] == "course"}
    assert course_rows["Support Team Basics"][2] == "2"  # set: the private goal is left out
    assert course_rows["Support Team Basics"][5] == "1"  # achieved
    assert course_rows["Support Team Basics"][8] == "10"  # median days to achieve


def test_a_configured_role_is_l_and_d_too(client: FlaskClient, registered: TestPlatform) -> None:
    assert with_roles(client, registered, [LND_ROLE]).get("insights/goals").status_code == 200
    home = with_roles(client, registered, [LND_ROLE]).get("")
    assert "insights/goals" in text(home)


def test_l_and_d_never_sees_another_platforms_goals(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    with transaction(services.sessions) as session:
        other = add_platform(
            session, registered.spec(issuer="https://other-lms.example.test", client_id="other")
        )
        now = utcnow()
        session.add(
            Goal(
                platform_id=other.id,
                sub="someone",
                title="Other platform goal",
                metric_key="self_reported",
                target=3,
                skill="empathy",
                due_at=now + timedelta(days=20),
                status=GoalStatus.ACHIEVED,
                visibility=GoalVisibility.CONTENT,
                context_id="course-7",
                ended_at=now,
            )
        )
    lnd = with_roles(client, registered, [INSTITUTION_ADMIN])
    body = text(lnd.get("insights/goals"))
    assert "<dt>Goals set</dt><dd>0</dd>" in body
    rows = list(csv.reader(io.StringIO(text(lnd.get("insights/goals.csv")))))
    assert not [r for r in rows if r and r[0] in ("skill", "course")]


def test_practice_counts_reach_l_and_d_but_notes_do_not(
    client: FlaskClient, registered: TestPlatform, learner: LearnerBrowser
) -> None:
    today = utcnow().date().isoformat()
    for note in ("Secret note one", "Secret note two"):
        response = learner.post(
            "practice",
            {"kind": "mentoring-given", "happened_on": today, "note": note, "share_note": "yes"},
        )
        assert response.status_code == 303
    lnd = with_roles(client, registered, [INSTITUTION_ADMIN])
    body = text(lnd.get("insights/goals"))
    assert "Mentoring session given</th><td>2</td>" in body
    csv_text = text(lnd.get("insights/goals.csv"))
    assert "Mentoring session given,2" in csv_text
    assert "Secret" not in body + csv_text


def test_self_assessment_movement_compares_first_and_latest(
    client: FlaskClient, registered: TestPlatform, learner: LearnerBrowser
) -> None:
    from content import load_catalog

    statements = load_catalog().require_self_assessment().statements
    skill = statements[0].skill
    for value in ("2", "4"):
        ratings = {f"q.{s.id}": value for s in statements if s.skill == skill}
        assert learner.post("self-assessment", ratings).status_code == 303
    body = text(with_roles(client, registered, [INSTITUTION_ADMIN]).get("insights/goals"))
    assert "<td>1</td><td>2.0</td><td>4.0</td><td>+2</td>" in body


# --- privacy on the learner's side --------------------------------------------------------------


def test_the_goals_page_says_who_sees_what(learner: LearnerBrowser) -> None:
    body = text(learner.get("goals"))
    assert "by default they see how far you are, never what you wrote" in body
    form = text(learner.get("goals/new"))
    assert 'name="visibility" id="v-progress" value="progress" checked' in form


def test_the_visibility_can_be_changed_later(learner: LearnerBrowser, session: Session) -> None:
    goal_id = set_goal(learner)
    learner.post(f"goals/{goal_id}/edit", goal_fields(visibility="private"))
    assert goal_row(session, goal_id).visibility is GoalVisibility.PRIVATE


# --- Deep Linking -------------------------------------------------------------------------------


def test_the_goals_page_can_be_placed_through_deep_linking(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    picker = open_picker(client, registered)
    with services.sessions() as session:
        tool_jwks = public_jwks(session)
    listing = text(picker.page(kind="goals"))
    assert "My goals" in listing
    claims = returned(picker.choose("goals:my-goals")).claims(tool_jwks, registered.issuer)
    (item,) = claims[DL_CLAIM + "content_items"]
    assert item["custom"]["cxa_activity"] == "goals:my-goals"
    assert item["url"].endswith("/lti/activities/goals/my-goals")
    assert "lineItem" not in item  # nothing to grade
