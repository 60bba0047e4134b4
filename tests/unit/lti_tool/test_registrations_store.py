"""Invitations: one use each, even when two registrations race on the same link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from lti_tool.errors import RegistrationError
from lti_tool.store import platforms, registrations
from lti_tool.store.models import Platform
from lti_tool.store.registrations import InvitationError

MOODLE = "https://moodle.example.edu"


def _platform(session: Session, client_id: str) -> Platform:
    return platforms.add_platform(
        session,
        platforms.PlatformSpec(
            name="Acme",
            issuer=MOODLE,
            client_id=client_id,
            auth_login_url=MOODLE + "/auth",
            auth_token_url=MOODLE + "/token",
            key_set_url=MOODLE + "/certs",
        ),
    )


def test_the_second_of_two_racing_registrations_cannot_spend_the_invitation(
    session: Session,
) -> None:
    created = registrations.create_invitation(session, lifetime=timedelta(hours=1))
    # Both requests found the invitation unused before either spent it.
    first = registrations.require_usable_invitation(session, created.token)
    second = registrations.require_usable_invitation(session, created.token)

    registrations.spend_invitation(session, first, _platform(session, "a"))

    with pytest.raises(InvitationError, match="already used"):
        registrations.spend_invitation(session, second, _platform(session, "b"))


def test_a_lifetime_of_zero_is_refused(session: Session) -> None:
    with pytest.raises(RegistrationError):
        registrations.create_invitation(session, lifetime=timedelta(0))
