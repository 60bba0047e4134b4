"""`cxa platform invite`, `pending`, `approve-deployment`, `activate`."""

# The CLI fixtures live in test_cli.py and are imported here: pytest finds them by name,
# which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.store import registrations
from lti_tool.store.db import make_engine
from lti_tool.store.models import Platform, PlatformState, RegistrationInvitation
from tests.unit.lti_tool.test_cli import (  # noqa: F401 (fixtures used by name)
    MOODLE_OPTIONS,
    Cxa,
    cxa,
    database,
    refused,
    upgraded,
)

_URL = re.compile(r"^http://127\.0\.0\.1:8000/lti/register/([A-Za-z0-9_-]{40,})$")


def test_invite_prints_a_one_time_registration_url(upgraded: Cxa, database: Path) -> None:
    result = upgraded("platform", "invite", "--name", "Acme Moodle", "--expires", "90m")

    assert result.exit_code == 0, result.output
    url_line = result.stdout.strip()
    match = _URL.match(url_line)
    assert match, url_line
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            found = registrations.require_usable_invitation(session, match.group(1))
            assert found.name == "Acme Moodle"
            lifetime = found.expires_at - found.created_at
            assert lifetime.total_seconds() == 90 * 60
            # Only a hash is kept: the URL's token is not in the database.
            assert match.group(1) not in found.token_hash
    finally:
        engine.dispose()


def test_invite_refuses_a_bad_lifetime(upgraded: Cxa) -> None:
    refused(upgraded("platform", "invite", "--expires", "tomorrow"), "--expires")
    refused(upgraded("platform", "invite", "--expires", "0h"), "--expires")
    refused(upgraded("platform", "invite", "--expires", "90d"), "at most 30d")


def _add_pending(database: Path) -> None:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            platform = session.scalars(select(Platform)).one()
            registrations.record_pending_deployment(
                session,
                platform,
                "copy-42",
                context_id="c-42",
                context_title="Support Basics (copy)",
                platform_name="Acme",
            )
            session.commit()
    finally:
        engine.dispose()


def test_an_operator_approves_a_pending_deployment(upgraded: Cxa, database: Path) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)
    _add_pending(database)

    pending = upgraded("platform", "pending")
    assert "deployment=copy-42" in pending.output
    assert "context=Support Basics (copy)" in pending.output

    approved = upgraded("platform", "approve-deployment", "1", "copy-42")
    assert approved.exit_code == 0, approved.output
    assert upgraded("platform", "pending").output.strip() == "no pending deployments"
    assert "deployments=1,copy-42" in upgraded("platform", "list").output


def test_approving_a_deployment_nobody_launched_from_is_refused(upgraded: Cxa) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)

    refused(upgraded("platform", "approve-deployment", "1", "nope"), "no pending deployment")


def test_an_operator_activates_a_pending_registration(upgraded: Cxa, database: Path) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            platform = session.scalars(select(Platform)).one()
            registrations.set_state(session, platform, PlatformState.PENDING)
            session.commit()
    finally:
        engine.dispose()
    assert "\tpending\t" in upgraded("platform", "list").output

    assert upgraded("platform", "activate", "1").exit_code == 0
    assert "\tactive\t" in upgraded("platform", "list").output


def test_invitation_rows_keep_no_token(upgraded: Cxa, database: Path) -> None:
    upgraded("platform", "invite")
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            [row] = session.scalars(select(RegistrationInvitation)).all()
            assert len(row.token_hash) == 64 and row.used_at is None
    finally:
        engine.dispose()
