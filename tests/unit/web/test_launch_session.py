"""The learner session behind /s/<token>/: a server-side row that can be revoked, ends when
idle or at its absolute expiry, is never cached, and refuses junk form tokens with a 4xx."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from lti_tool.config import Settings
from lti_tool.store.models import Launch, LaunchSession
from lti_tool.store.sessions import revoke_sessions, session_id_of
from tests.fixtures.platform import TestPlatform
from tests.unit.web.conftest import LearnerBrowser

COURSE = "service-foundations"


def token_of(learner: LearnerBrowser) -> str:
    return learner.base.strip("/").split("/")[1]


def session_row(session: Session, learner: LearnerBrowser) -> LaunchSession:
    session.expire_all()
    row = session.get(LaunchSession, session_id_of(token_of(learner)))
    assert row is not None
    return row


def set_times(session: Session, learner: LearnerBrowser, **values: datetime) -> None:
    session.execute(
        update(LaunchSession)
        .where(LaunchSession.id == session_id_of(token_of(learner)))
        .values(**values)
    )
    session.commit()


def test_a_launch_keeps_a_session_row_but_never_the_token(
    learner: LearnerBrowser, session: Session, settings: Settings
) -> None:
    token = token_of(learner)
    row = session_row(session, learner)

    assert row.id == session_id_of(token) != token
    assert row.revoked_at is None
    assert row.expires_at - row.created_at == timedelta(seconds=settings.session_max_seconds)
    stored = [
        str(value) for r in session.scalars(select(LaunchSession)) for value in vars(r).values()
    ]
    assert not any(token in value for value in stored)


def test_a_revoked_session_is_refused_and_others_carry_on(
    learner: LearnerBrowser, other_learner: LearnerBrowser, session: Session
) -> None:
    launch = session.scalars(select(Launch).where(Launch.sub == "learner-1")).one()
    revoked = revoke_sessions(
        session, now=datetime.now(UTC), platform_id=launch.platform_id, sub="learner-1"
    )
    session.commit()

    assert revoked == 1
    page = learner.get("")
    assert page.status_code == 401
    assert "Your session has ended" in page.get_data(as_text=True)
    assert learner.get(f"courses/{COURSE}/").status_code == 401
    assert other_learner.get("").status_code == 200


def test_an_idle_session_ends(
    learner: LearnerBrowser, session: Session, settings: Settings
) -> None:
    idle = timedelta(seconds=settings.session_idle_seconds)
    set_times(session, learner, last_seen_at=datetime.now(UTC) - idle - timedelta(seconds=1))

    assert learner.get("").status_code == 401


def test_a_session_active_just_inside_the_idle_timeout_carries_on(
    learner: LearnerBrowser, session: Session, settings: Settings
) -> None:
    idle = timedelta(seconds=settings.session_idle_seconds)
    set_times(session, learner, last_seen_at=datetime.now(UTC) - idle + timedelta(minutes=1))

    assert learner.get("").status_code == 200


def test_a_session_ends_at_its_absolute_expiry_however_active(
    learner: LearnerBrowser, session: Session
) -> None:
    now = datetime.now(UTC)
    set_times(session, learner, last_seen_at=now, expires_at=now - timedelta(seconds=1))

    assert learner.get("").status_code == 401


def test_activity_is_written_at_most_once_a_minute(
    learner: LearnerBrowser, session: Session
) -> None:
    recent = datetime.now(UTC) - timedelta(seconds=30)
    set_times(session, learner, last_seen_at=recent)

    assert learner.get("").status_code == 200
    assert session_row(session, learner).last_seen_at == recent

    stale = datetime.now(UTC) - timedelta(seconds=61)
    set_times(session, learner, last_seen_at=stale)
    before = datetime.now(UTC)
    assert learner.get("").status_code == 200
    assert session_row(session, learner).last_seen_at >= before


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "A" * 43,
        "é" * 43,
        "x" * 500,
    ],
    ids=["short", "unknown", "non-ascii", "long"],
)
def test_a_forged_or_unknown_token_is_refused(client: FlaskClient, token: str) -> None:
    response = client.get(f"/s/{token}/")

    assert response.status_code == 401


def test_pages_under_s_are_never_cached(learner: LearnerBrowser, client: FlaskClient) -> None:
    assert learner.get("").headers["Cache-Control"] == "no-store"
    assert learner.get(f"courses/{COURSE}/").headers["Cache-Control"] == "no-store"
    # Refusals too: their URL still holds a (possibly real) token.
    assert learner.get("no-such-page").headers["Cache-Control"] == "no-store"
    assert client.get("/s/" + "A" * 43 + "/").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/healthz").headers.get("Cache-Control", "")


def test_a_second_launch_starts_a_new_session(
    client: FlaskClient, registered: TestPlatform, learner: LearnerBrowser, session: Session
) -> None:
    again = registered.launch(client, role="Learner", sub="learner-1")

    assert again.status_code == 303
    assert token_of(learner) not in again.headers["Location"]
    session.expire_all()
    assert len(session.scalars(select(LaunchSession)).all()) == 2


NON_ASCII_TOKENS = ["é" * 64, "\u2603", "0" * 63 + "\u00ff", "\U0001f600" * 16]


def _form_posts(learner: LearnerBrowser) -> list[str]:
    """Every kind of learner form, by the path it posts to."""
    attempt_id = learner.start_quiz(COURSE)
    run_id = learner.start_scenario(COURSE, "double-charge")
    return [
        "self-assessment",
        f"courses/{COURSE}/lessons/active-listening/check",
        f"courses/{COURSE}/quiz/attempts",
        f"attempts/{attempt_id}",
        f"courses/{COURSE}/scenarios/double-charge/runs",
        f"runs/{run_id}",
    ]


@pytest.mark.parametrize("junk", NON_ASCII_TOKENS, ids=["accents", "snowman", "tail", "emoji"])
def test_a_non_ascii_csrf_token_is_refused_on_every_form(
    learner: LearnerBrowser, junk: str
) -> None:
    for path in _form_posts(learner):
        response = learner.post(path, [("csrf_token", junk)], csrf=False)

        assert response.status_code == 403, (path, response.status_code)
        assert "security token" in response.get_data(as_text=True), path
