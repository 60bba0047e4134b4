"""`cxa sessions`: an operator lists, revokes and purges learner sessions."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lti_tool.store import launches, platforms
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.models import LaunchSession
from lti_tool.store.sessions import add_session, session_id_of
from tests.unit.lti_tool import test_cli
from tests.unit.lti_tool.test_cli import MOODLE_OPTIONS, Cxa, refused

Start = Callable[[str], str]

# The operator's environment, exactly as the other CLI tests set it up.
cxa, database, upgraded = test_cli.cxa, test_cli.database, test_cli.upgraded


@pytest.fixture
def with_platform(upgraded: Cxa) -> Cxa:
    assert upgraded("platform", "add", *MOODLE_OPTIONS).exit_code == 0
    return upgraded


@pytest.fixture
def start(with_platform: Cxa, database: Path) -> Iterator[Start]:
    """Launch a learner on platform 1 as the web side would; returns the session id."""
    engine = make_engine(f"sqlite:///{database}")

    def launch(sub: str) -> str:
        with transaction(make_session_factory(engine)) as session:
            platform = platforms.require_platform_by_id(session, 1)
            record = launches.add_launch(
                session,
                platform,
                deployment_id="1",
                sub=sub,
                message_type="LtiResourceLinkRequest",
                roles=[],
                claims={},
            )
            token = secrets.token_urlsafe(32)
            add_session(
                session,
                record,
                session_id_of(token),
                now=datetime.now(UTC),
                lifetime=timedelta(hours=12),
            )
            return session_id_of(token)

    yield launch
    engine.dispose()


@pytest.fixture
def revoked(database: Path) -> Iterator[Callable[[], set[str]]]:
    engine = make_engine(f"sqlite:///{database}")

    def ids() -> set[str]:
        with make_session_factory(engine)() as session:
            rows = session.scalars(
                select(LaunchSession).where(LaunchSession.revoked_at.is_not(None))
            )
            return {row.id for row in rows}

    yield ids
    engine.dispose()


def test_an_operator_revokes_one_learners_sessions(
    with_platform: Cxa, start: Start, revoked: Callable[[], set[str]]
) -> None:
    ada = start("ada")
    start("sam")

    result = with_platform("sessions", "revoke", "--platform", "1", "--user", "ada")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "revoked 1 session"
    assert revoked() == {ada}
    listed = with_platform("sessions", "list", "--platform", "1").output.splitlines()
    assert [line.split("\t")[:3] for line in listed] == [
        [ada[:12], "ada", "revoked"],
        [listed[1].split("\t")[0], "sam", "live"],
    ]


def test_an_operator_revokes_a_whole_platform(
    with_platform: Cxa, start: Start, revoked: Callable[[], set[str]]
) -> None:
    both = {start("ada"), start("sam")}

    result = with_platform("sessions", "revoke", "--platform", "1")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "revoked 2 sessions"
    assert revoked() == both


def test_an_operator_revokes_the_session_a_log_line_names(
    with_platform: Cxa, start: Start, revoked: Callable[[], set[str]]
) -> None:
    target = start("ada")
    start("ada")

    result = with_platform("sessions", "revoke", "--session", target[:12])

    assert result.exit_code == 0, result.output
    assert revoked() == {target}


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), ["name what to revoke"]),
        (("--user", "ada"), ["--user needs --platform"]),
        (("--session", "0123456789ab", "--platform", "1"), ["--session alone"]),
        (("--session", "abc"), ["12 to 64 hex characters"]),
        (("--platform", "9"), ["no platform with id 9"]),
    ],
)
def test_a_revocation_that_names_nothing_clearly_is_refused(
    with_platform: Cxa,
    start: Start,
    revoked: Callable[[], set[str]],
    args: tuple[str, ...],
    words: list[str],
) -> None:
    start("ada")

    refused(with_platform("sessions", "revoke", *args), *words)
    assert revoked() == set()


def test_purge_removes_revoked_sessions(
    with_platform: Cxa, start: Start, revoked: Callable[[], set[str]]
) -> None:
    start("ada")
    start("sam")
    assert with_platform("sessions", "revoke", "--platform", "1", "--user", "sam").exit_code == 0

    result = with_platform("sessions", "purge")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "purged 1 session"
    listed = with_platform("sessions", "list", "--platform", "1").output.splitlines()
    assert [line.split("\t")[1:3] for line in listed] == [["ada", "live"]]
