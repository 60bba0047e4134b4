"""Learner session rows: revoked by platform, learner or reference; purged once unusable."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lti_tool.store import launches, platforms
from lti_tool.store.models import LaunchSession, Platform
from lti_tool.store.sessions import (
    add_session,
    get_session,
    purge_sessions,
    revoke_sessions,
    session_id_of,
    touch_session,
)
from tests.unit.lti_tool.test_platforms import spec

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=12)


def start(session: Session, platform: Platform, sub: str, at: datetime = NOW) -> str:
    launch = launches.add_launch(
        session,
        platform,
        deployment_id="1",
        sub=sub,
        message_type="LtiResourceLinkRequest",
        roles=[],
        claims={},
    )
    return add_session(
        session, launch, session_id_of(secrets.token_urlsafe(32)), now=at, lifetime=DAY
    ).id


@pytest.fixture
def moodle(session: Session) -> Platform:
    return platforms.add_platform(session, spec())


@pytest.fixture
def canvas(session: Session) -> Platform:
    return platforms.add_platform(session, spec(client_id="client-2", name="Canvas"))


def revoked(session: Session) -> set[str]:
    session.expire_all()
    return {row.id for row in session.scalars(select(LaunchSession)) if row.revoked_at is not None}


def test_revoking_a_learner_ends_only_their_sessions_on_that_platform(
    session: Session, moodle: Platform, canvas: Platform
) -> None:
    ada = [start(session, moodle, "ada"), start(session, moodle, "ada")]
    start(session, moodle, "sam")
    start(session, canvas, "ada")

    count = revoke_sessions(session, now=NOW, platform_id=moodle.id, sub="ada")

    assert count == 2
    assert revoked(session) == set(ada)


def test_revoking_a_platform_ends_all_of_its_sessions(
    session: Session, moodle: Platform, canvas: Platform
) -> None:
    on_moodle = {start(session, moodle, "ada"), start(session, moodle, "sam")}
    start(session, canvas, "ada")

    assert revoke_sessions(session, now=NOW, platform_id=moodle.id) == 2
    assert revoked(session) == on_moodle
    # Already revoked sessions are not counted twice.
    assert revoke_sessions(session, now=NOW, platform_id=moodle.id) == 0


def test_revoking_by_the_reference_a_log_line_shows(session: Session, moodle: Platform) -> None:
    target = start(session, moodle, "ada")
    start(session, moodle, "ada")

    assert revoke_sessions(session, now=NOW, reference=target[:12].upper()) == 1
    assert revoked(session) == {target}


@pytest.mark.parametrize("reference", ["abc", "0123456789a", "zzzzzzzzzzzz", ""])
def test_a_short_or_malformed_reference_is_refused(
    session: Session, moodle: Platform, reference: str
) -> None:
    start(session, moodle, "ada")

    with pytest.raises(ValueError, match="12 to 64 hex characters"):
        revoke_sessions(session, now=NOW, reference=reference)
    assert revoked(session) == set()


def test_an_ambiguous_reference_revokes_nothing(session: Session, moodle: Platform) -> None:
    launch = launches.add_launch(
        session,
        moodle,
        deployment_id="1",
        sub="ada",
        message_type="LtiResourceLinkRequest",
        roles=[],
        claims={},
    )
    for last in "01":
        add_session(session, launch, "ab" * 31 + "c" + last, now=NOW, lifetime=DAY)

    with pytest.raises(ValueError, match="more than one session"):
        revoke_sessions(session, now=NOW, reference="ab" * 6)
    assert revoked(session) == set()


def test_a_revocation_must_name_something(session: Session) -> None:
    with pytest.raises(ValueError, match="name a platform"):
        revoke_sessions(session, now=NOW)


def test_a_session_and_its_launch_are_one_read(session: Session, moodle: Platform) -> None:
    session_id = start(session, moodle, "ada")
    session.commit()
    session.expunge_all()
    statements: list[str] = []
    listen = event.listens_for(session.connection(), "before_cursor_execute")
    listen(lambda _conn, _cursor, statement, *_: statements.append(statement))

    record = get_session(session, session_id)
    assert record is not None and record.launch.sub == "ada"

    assert len(statements) == 1, statements


def test_activity_is_recorded_at_most_once_a_minute(session: Session, moodle: Platform) -> None:
    record = get_session(session, start(session, moodle, "ada"))
    assert record is not None

    assert not touch_session(session, record, NOW + timedelta(seconds=59))
    assert touch_session(session, record, NOW + timedelta(seconds=60))
    assert not touch_session(session, record, NOW + timedelta(seconds=90))
    session.expire_all()
    stored = get_session(session, record.id)
    assert stored is not None and stored.last_seen_at == NOW + timedelta(seconds=60)


def test_purge_deletes_only_sessions_that_can_no_longer_be_used(
    session: Session, moodle: Platform
) -> None:
    idle = timedelta(hours=2)
    live = start(session, moodle, "ada", at=NOW - timedelta(hours=1))
    start(session, moodle, "sam", at=NOW - timedelta(hours=3))  # idle
    start(session, moodle, "lee", at=NOW - timedelta(hours=13))  # past its absolute expiry
    ended = start(session, moodle, "kim")
    revoke_sessions(session, now=NOW, reference=ended)

    assert purge_sessions(session, now=NOW, idle=idle) == 3
    session.expire_all()
    assert [row.id for row in session.scalars(select(LaunchSession))] == [live]


def test_a_launch_and_its_session_are_written_at_once_and_never_again(
    session: Session, moodle: Platform
) -> None:
    written: list[str] = []
    listen = event.listens_for(session.connection(), "before_cursor_execute")
    listen(lambda _c, _cur, statement, *_a: written.append(statement.split()[0].upper()))

    session_id = start(session, moodle, "ada")
    # Written by their own inserts, not left for a flush: a flush now writes nothing.
    assert written == ["INSERT", "INSERT"]
    assert not session.new and not session.dirty
    session.flush()
    assert written == ["INSERT", "INSERT"]

    # The objects returned are the session's own, as if loaded from the rows.
    record = session.get(LaunchSession, session_id)
    assert record is not None and record.launch.sub == "ada"
    assert record.launch.platform is moodle
    session.expire_all()
    stored = get_session(session, session_id)
    assert stored is not None and stored.launch.claims == {} and stored.revoked_at is None
    assert stored.expires_at == NOW + DAY


def test_a_platform_added_in_the_same_transaction_is_written_first(session: Session) -> None:
    platform = Platform(**{**_spec_values(), "deployments": []})
    session.add(platform)
    session_id = start(session, platform, "ada")
    session.expire_all()
    stored = get_session(session, session_id)
    assert stored is not None and stored.launch.platform_id == platform.id


def _spec_values() -> dict[str, object]:
    values = spec(client_id="client-new", name="New LMS")
    return {
        "name": values.name,
        "issuer": values.issuer,
        "client_id": values.client_id,
        "auth_login_url": values.auth_login_url,
        "auth_token_url": values.auth_token_url,
        "key_set_url": values.key_set_url,
    }


def test_a_launch_rolled_back_leaves_no_rows(session: Session, moodle: Platform) -> None:
    session.commit()
    start(session, moodle, "ada")
    session.rollback()
    assert session.scalars(select(LaunchSession)).all() == []
