"""Practice-log notes on the instructor's goals page: a note its learner ticked "share" shows
to the instructors of a course that learner launched in; an unshared note shows to nobody;
an instructor of another course sees none; no note ever reaches the L&D CSV or a statement."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.store.models import OutboxRow, utcnow
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import LearnerBrowser
from tests.unit.web.test_goals_pages import text
from tests.unit.web.test_goals_staff import INSTITUTION_ADMIN, in_course, with_roles

# Its "settings" fixture: unlimited launch rates for the several launches of a test.
from tests.unit.web.test_goals_staff import staff_settings as staff_settings

SHARED = "Shared note: coached Ben through his first escalation"
KEPT = "Private note: I was nervous the whole time"


def log(learner: LearnerBrowser, note: str, *, share: bool) -> None:
    fields = {"kind": "mentoring-given", "happened_on": utcnow().date().isoformat(), "note": note}
    if share:
        fields["share_note"] = "yes"
    assert learner.post("practice", fields).status_code == 303


@pytest.fixture
def notes(app: Any, registered: TestPlatform) -> None:
    """One learner of course-7 with a shared and an unshared note."""
    learner = in_course(app.test_client(), registered, "course-7", sub="l-notes")
    log(learner, SHARED, share=True)
    log(learner, KEPT, share=False)


def test_the_instructor_of_the_learners_course_reads_only_the_shared_note(
    client: FlaskClient, registered: TestPlatform, notes: None
) -> None:
    teacher = in_course(client, registered, "course-7", sub="teacher-7", role="Instructor")
    page = teacher.get("instructor/goals")
    assert page.status_code == 200
    body = text(page)
    assert SHARED in body
    assert "Mentoring session given" in body
    assert "Shared practice notes (1)" in body
    assert KEPT not in body


def test_an_instructor_of_another_course_reads_no_note(
    client: FlaskClient, registered: TestPlatform, notes: None
) -> None:
    teacher = in_course(client, registered, "course-9", sub="teacher-9", role="Instructor")
    body = text(teacher.get("instructor/goals"))
    assert SHARED not in body and KEPT not in body
    assert "Shared practice notes (0)" in body


def test_an_unshared_note_reaches_no_instructor(
    app: Any, client: FlaskClient, registered: TestPlatform
) -> None:
    learner = in_course(app.test_client(), registered, "course-7", sub="l-private")
    log(learner, KEPT, share=False)
    teacher = in_course(client, registered, "course-7", sub="teacher-7", role="Instructor")
    body = text(teacher.get("instructor/goals"))
    assert KEPT not in body
    assert "Shared practice notes (0)" in body


def test_a_shared_note_reaches_neither_the_csv_nor_a_statement(
    client: FlaskClient, registered: TestPlatform, notes: None, session: Session
) -> None:
    lnd = with_roles(client, registered, [INSTITUTION_ADMIN])
    assert SHARED not in text(lnd.get("insights/goals")) + text(lnd.get("insights/goals.csv"))
    statements = [str(row.statement) for row in session.scalars(select(OutboxRow))]
    assert statements, "logging practice should have queued statements"
    assert not [s for s in statements if "coached Ben" in s or "nervous" in s]
