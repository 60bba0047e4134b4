"""The class view: who may see it (instructor-type roles of the launch's own course), what
it shows (roster and launchers, progress, scores, grade sync), the roster refresh and its
faults, item analysis, the CSV export, the actions, and a query count that does not grow
with the class."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
from flask.testing import FlaskClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from content import load_catalog
from lti_tool.config import Settings
from lti_tool.lti.roster import CLAIM as NRPS_CLAIM
from lti_tool.lti.roster import RosterClient
from lti_tool.services import Services
from lti_tool.store.classroom import InstructorAction
from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.learning import AttemptStatus, QuizAttempt
from lti_tool.store.models import Platform
from lti_tool.store.roster import RosterFetch
from lti_tool.web.instructor import class_view
from lti_tool.web.instructor.class_report import safe_cell
from tests.conftest import embedded_settings
from tests.fixtures.classroom import seed_class
from tests.fixtures.platform import CLAIM, TestPlatform
from tests.unit.web.conftest import LearnerBrowser, ours, outbox_statements
from tests.unit.web.test_grade_publishing import ags_claim, launch_with, take_quiz
from xapi import vocabulary

COURSE = "service-foundations"
QUIZ = load_catalog().require_quiz("service-foundations-quiz")
UNLIMITED = "100000/minute"


@pytest.fixture(name="settings")
def unlimited_settings(tmp_path: Path) -> Settings:
    # Many launches from one test client: the rate limits have tests of their own.
    return embedded_settings(
        tmp_path, rate_limit_per_client=UNLIMITED, rate_limit_per_platform=UNLIMITED
    )


def nrps_claim(platform: TestPlatform) -> dict[str, Any]:
    return {
        NRPS_CLAIM: {
            "context_memberships_url": platform.base_url + "/nrps/course-7/memberships",
            "service_versions": ["2.0"],
        }
    }


def members_url(platform: TestPlatform) -> str:
    return platform.base_url + "/nrps/course-7/memberships"


def teacher(
    client: FlaskClient, platform: TestPlatform, *, context: str = "course-7", **extra: Any
) -> LearnerBrowser:
    claims = {CLAIM + "context": {"id": context, "title": f"Course {context}"}, **extra}
    return launch_with(client, platform, claims, role="Instructor", sub=f"teacher-{context}")


@pytest.fixture
def fake_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    """The roster client with a token seam: the token endpoint has tests of its own."""

    def build(session: Session, platform: Any) -> RosterClient:
        return RosterClient(
            requests.Session(),
            lambda scopes, renew: "token-1",
            owners=(platform.auth_token_url, platform.issuer),
        )

    monkeypatch.setattr(class_view, "roster_client_for", build)


@pytest.fixture
def lms(registered: TestPlatform) -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # Launches still fetch the platform's real key set.
        mock.add_passthru(registered.base_url + "/jwks")
        yield mock


def roster_body(*members: dict[str, Any]) -> dict[str, Any]:
    return {"id": "x", "context": {"id": "course-7"}, "members": list(members)}


# --- who may see it --------------------------------------------------------------------


def test_a_learner_gets_403_on_every_class_page_and_action(learner: LearnerBrowser) -> None:
    for path in ("instructor/class", "instructor/class.csv", f"instructor/class/quizzes/{QUIZ.id}"):
        assert learner.get(path).status_code == 403, path
    response = learner.post(
        "instructor/class/actions",
        {"action": "grant_attempt", "learner": "learner-1", "quiz": QUIZ.id},
    )
    assert response.status_code == 403


def test_an_instructor_sees_the_learner_who_launched_and_the_home_page_links_the_view(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    learner = launch_with(app.test_client(), registered, {}, sub="learner-1")
    take_quiz(learner, session, correct=True)
    instructor = teacher(client, registered)
    home = instructor.get("").get_data(as_text=True)
    assert "instructor/class" in home
    page = instructor.get("instructor/class")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Lee Learner" in text
    assert "Completed" in text
    assert "100%" in text


def test_an_instructor_of_one_course_sees_nothing_of_another(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    other = launch_with(
        app.test_client(),
        registered,
        {CLAIM + "context": {"id": "course-9"}, **ags_claim(registered)},
        sub="other-learner",
    )
    take_quiz(other, session, correct=False)
    grade = session.scalars(select(GradeRow)).one()
    instructor = teacher(client, registered)
    text = instructor.get("instructor/class").get_data(as_text=True)
    assert "other-learner" not in text and "Lee Learner" not in text
    assert "other-learner" not in instructor.get("instructor/class.csv").get_data(as_text=True)
    analysis = instructor.get(f"instructor/class/quizzes/{QUIZ.id}").get_data(as_text=True)
    assert "0 submitted attempts" in analysis
    # Actions on the other course's learner and grade are refused.
    for data in (
        {"action": "resend_grade", "learner": "other-learner", "grade": str(grade.id)},
        {"action": "grant_attempt", "learner": "other-learner", "quiz": QUIZ.id},
    ):
        assert instructor.post("instructor/class/actions", data).status_code == 404
    assert session.scalars(select(InstructorAction)).all() == []


def test_actions_need_the_csrf_token(client: FlaskClient, registered: TestPlatform) -> None:
    instructor = teacher(client, registered)
    response = instructor.post(
        "instructor/class/actions",
        {"action": "grant_attempt", "learner": "x", "quiz": QUIZ.id},
        csrf=False,
    )
    assert response.status_code == 403


def test_unknown_actions_and_quizzes_are_400(client: FlaskClient, registered: TestPlatform) -> None:
    instructor = teacher(client, registered)
    for data in (
        {"action": "delete_everything", "learner": "x"},
        {"action": "grant_attempt", "learner": "x", "quiz": "no-such-quiz"},
        {"action": "resend_grade", "learner": "x", "grade": "abc"},
    ):
        assert instructor.post("instructor/class/actions", data).status_code == 400, data
    assert instructor.get("instructor/class/quizzes/no-such-quiz").status_code == 404


# --- roster ------------------------------------------------------------------------------


def test_roster_members_who_never_launched_and_inactive_ones_are_shown(
    client: FlaskClient,
    registered: TestPlatform,
    app: Any,
    fake_tokens: None,
    lms: responses.RequestsMock,
) -> None:
    launch_with(app.test_client(), registered, {}, sub="learner-1")
    instructor = teacher(client, registered, **nrps_claim(registered))
    lms.get(
        members_url(registered),
        json=roster_body(
            {"user_id": "learner-1", "roles": ["Learner"], "name": "Lee Learner"},
            {"user_id": "never", "roles": ["Learner"], "name": "Nina Neverlaunched"},
            {"user_id": "gone", "status": "Inactive", "roles": ["Learner"], "name": "Ivo Inactive"},
            {"user_id": "teacher-course-7", "roles": ["Instructor"], "name": "Teacher"},
        ),
    )
    text = instructor.get("instructor/class").get_data(as_text=True)
    assert "Nina Neverlaunched" in text and "Never opened CX Academy" in text
    assert re.search(r"Ivo Inactive\s*<span class=\"tag\">Inactive", text)
    assert "Learners (3)" in text
    sent = lms.calls[0].request
    assert sent.headers["Accept"] == "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def test_the_roster_is_read_again_only_when_older_than_ten_minutes(
    client: FlaskClient,
    registered: TestPlatform,
    fake_tokens: None,
    lms: responses.RequestsMock,
    session: Session,
) -> None:
    instructor = teacher(client, registered, **nrps_claim(registered))
    lms.get(members_url(registered), json=roster_body({"user_id": "a", "name": "Ann"}))
    instructor.get("instructor/class")
    instructor.get("instructor/class")
    assert len(lms.calls) == 1
    fetch = session.scalars(select(RosterFetch)).one()
    assert fetch.fetched_at is not None
    fetch.fetched_at -= timedelta(minutes=11)
    fetch.attempted_at -= timedelta(minutes=11)
    session.commit()
    instructor.get("instructor/class")
    assert len(lms.calls) == 2


@pytest.mark.parametrize("status", [500, 401])
def test_a_failed_refresh_shows_the_stored_roster_with_a_notice(
    client: FlaskClient,
    registered: TestPlatform,
    fake_tokens: None,
    lms: responses.RequestsMock,
    session: Session,
    status: int,
) -> None:
    instructor = teacher(client, registered, **nrps_claim(registered))
    lms.get(members_url(registered), json=roster_body({"user_id": "a", "name": "Ann Stored"}))
    instructor.get("instructor/class")
    fetch = session.scalars(select(RosterFetch)).one()
    assert fetch.fetched_at is not None
    fetch.fetched_at -= timedelta(minutes=11)
    fetch.attempted_at -= timedelta(minutes=11)
    session.commit()
    lms.replace(responses.GET, members_url(registered), status=status, json={"reason": "LMS down"})
    page = instructor.get("instructor/class")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Ann Stored" in text
    assert "could not be read just now" in text and "LMS down" in text


def test_an_off_platform_membership_url_is_refused_and_the_page_still_renders(
    client: FlaskClient, registered: TestPlatform, fake_tokens: None, lms: responses.RequestsMock
) -> None:
    claim = {
        NRPS_CLAIM: {
            "context_memberships_url": "https://evil.example/m",
            "service_versions": ["2.0"],
        }
    }
    instructor = teacher(client, registered, **claim)
    page = instructor.get("instructor/class")
    assert page.status_code == 200
    assert "could not be read just now" in page.get_data(as_text=True)
    assert len(lms.calls) == 0


# --- grade sync, item analysis, CSV -------------------------------------------------------


def test_grade_sync_states_are_shown_with_the_lms_reason(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    learner = launch_with(app.test_client(), registered, ags_claim(registered), sub="learner-1")
    take_quiz(learner, session, correct=True)
    instructor = teacher(client, registered)
    assert "Pending" in instructor.get("instructor/class").get_data(as_text=True)
    row = session.scalars(select(GradeRow)).one()
    row.status = GradeStatus.DEAD
    row.last_error = "HTTP 422: user is not enrolled"
    session.commit()
    text = instructor.get("instructor/class").get_data(as_text=True)
    assert "Failed" in text and "user is not enrolled" in text
    row.status = GradeStatus.SENT
    row.last_error = None
    session.commit()
    assert "Synced" in instructor.get("instructor/class").get_data(as_text=True)
    row.lms_score, row.lms_maximum, row.overridden_at = 55.0, 100.0, row.created_at
    session.commit()
    text = instructor.get("instructor/class").get_data(as_text=True)
    assert "Overridden in the LMS" in text and "LMS holds 55/100" in text


def test_item_analysis_counts_correct_answers_and_the_most_chosen_wrong_option(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    take_quiz(launch_with(app.test_client(), registered, {}, sub="a"), session, correct=True)
    take_quiz(launch_with(app.test_client(), registered, {}, sub="b"), session, correct=False)
    instructor = teacher(client, registered)
    page = instructor.get(f"instructor/class/quizzes/{QUIZ.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "2 submitted attempts" in text
    assert "<svg" in text and "<rect" in text and "<script" not in text
    assert "50%" in text
    wrong = [
        o.text
        for q in load_catalog().list_quiz_pool(QUIZ.id)
        for o in getattr(q, "options", ())
        if not o.correct
    ]
    assert any(w in text for w in wrong)


def test_csv_export_is_formula_safe(
    client: FlaskClient, registered: TestPlatform, app: Any
) -> None:
    evil = app.test_client()
    redirect = registered.login(evil)
    claims = registered.claims(redirect.nonce, sub="evil")
    claims["name"] = '=HYPERLINK("http://x")'
    assert (
        evil.post(
            "/lti/launch", data={"id_token": registered.sign(claims), "state": redirect.state}
        ).status_code
        == 303
    )
    instructor = teacher(client, registered)
    response = instructor.get("instructor/class.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][0] == "Name"
    names = [r[0] for r in rows[1:]]
    assert '\'=HYPERLINK("http://x")' in names
    assert all(not cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_safe_cell_neutralises_formula_starts(value: str) -> None:
    assert safe_cell(value).startswith("'")
    assert safe_cell("plain") == "plain"


# --- actions ------------------------------------------------------------------------------


def test_an_extra_attempt_lets_the_learner_start_again(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    learner = launch_with(app.test_client(), registered, {}, sub="learner-1")
    for _ in range(QUIZ.attempts):
        take_quiz(learner, session, correct=False)
    assert learner.post(f"courses/{COURSE}/quiz/attempts").status_code == 409
    instructor = teacher(client, registered)
    response = instructor.post(
        "instructor/class/actions",
        {"action": "grant_attempt", "learner": "learner-1", "quiz": QUIZ.id},
    )
    assert response.status_code == 303
    assert learner.post(f"courses/{COURSE}/quiz/attempts").status_code == 303
    action = session.scalars(select(InstructorAction)).one()
    assert (action.actor_sub, action.action, action.learner_sub) == (
        "teacher-course-7",
        "grant_attempt",
        "learner-1",
    )
    assert action.created_at is not None
    assert "grant attempt" in instructor.get("instructor/class").get_data(as_text=True)


def test_resetting_an_unfinished_attempt_removes_it_and_records_a_statement(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    learner = launch_with(app.test_client(), registered, {}, sub="learner-1")
    attempt_id = learner.start_quiz(COURSE)
    instructor = teacher(client, registered)
    assert "Reset unfinished attempt" in instructor.get("instructor/class").get_data(as_text=True)
    response = instructor.post(
        "instructor/class/actions",
        {"action": "reset_attempt", "learner": "learner-1", "quiz": QUIZ.id},
    )
    assert response.status_code == 303
    session.expire_all()
    assert (
        session.scalars(
            select(QuizAttempt).where(QuizAttempt.status == AttemptStatus.IN_PROGRESS)
        ).all()
        == []
    )
    last = outbox_statements(session)[-1]
    assert last["verb"]["id"].endswith("/terminated")
    # In the learner's enrolment, with the attempt named in its extension.
    assert last["context"]["registration"] != attempt_id
    assert last["context"]["extensions"][ours(vocabulary.ATTEMPT_ID)] == attempt_id
    # Nothing left to reset: a second post is a clear 404, not a 500.
    again = instructor.post(
        "instructor/class/actions",
        {"action": "reset_attempt", "learner": "learner-1", "quiz": QUIZ.id},
    )
    assert again.status_code == 404


def test_resending_a_failed_grade_queues_it_again(
    client: FlaskClient, registered: TestPlatform, app: Any, session: Session
) -> None:
    learner = launch_with(app.test_client(), registered, ags_claim(registered), sub="learner-1")
    take_quiz(learner, session, correct=True)
    row = session.scalars(select(GradeRow)).one()
    row.status, row.last_error = GradeStatus.DEAD, "HTTP 422: not enrolled"
    session.commit()
    instructor = teacher(client, registered)
    response = instructor.post(
        "instructor/class/actions",
        {"action": "resend_grade", "learner": "learner-1", "grade": str(row.id)},
    )
    assert response.status_code == 303
    session.expire_all()
    rows = session.scalars(select(GradeRow).order_by(GradeRow.id)).all()
    assert len(rows) == 2 and rows[1].status == GradeStatus.PENDING
    assert rows[1].score_given == rows[0].score_given


# --- queries ------------------------------------------------------------------------------


def _count_queries(services: Services, instructor: LearnerBrowser, path: str) -> int:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(services.engine, "before_cursor_execute", count)
    try:
        assert instructor.get(path).status_code == 200
    finally:
        event.remove(services.engine, "before_cursor_execute", count)
    return len(statements)


def test_the_query_count_does_not_grow_with_the_class(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    instructor = teacher(client, registered)
    with services.sessions() as session:
        platform_id = session.scalars(select(Platform.id)).one()
        seed_class(
            session,
            load_catalog(),
            platform_id=platform_id,
            context_id="course-7",
            learners=5,
            attempts_each=3,
        )
        session.commit()
    small = {
        p: _count_queries(services, instructor, p)
        for p in ("instructor/class", "instructor/class.csv", f"instructor/class/quizzes/{QUIZ.id}")
    }
    with services.sessions() as session:
        seed_class(
            session,
            load_catalog(),
            platform_id=platform_id,
            context_id="course-7",
            learners=45,
            first=5,
            attempts_each=3,
        )
        session.commit()
    large = {p: _count_queries(services, instructor, p) for p in small}
    assert large == small
    text = instructor.get("instructor/class").get_data(as_text=True)
    assert "Learners (50)" in text


def test_a_teaching_assistant_and_an_institution_administrator_reach_the_class(
    app: Any, registered: TestPlatform
) -> None:
    for index, role in enumerate(
        (
            "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant",
            "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",
        )
    ):
        staff = launch_with(
            app.test_client(), registered, {CLAIM + "roles": [role]}, sub=f"staff-{index}"
        )
        assert "instructor/class" in staff.get("").get_data(as_text=True), role
        assert staff.get("instructor/class").status_code == 200, role


def test_a_learner_home_page_has_no_class_link(learner: LearnerBrowser) -> None:
    assert "instructor/class" not in learner.get("").get_data(as_text=True)
