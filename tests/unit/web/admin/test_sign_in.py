"""Signing in to the console: argon2-checked passwords, one answer for every wrong name or
password, lockouts per account and per address, disabled accounts, CSRF on every POST, and
a cookie session of its own that learners' launches never grant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.services import Services
from lti_tool.store import operators
from lti_tool.store.db import transaction
from lti_tool.store.operators import AuditEntry, Operator, OperatorSession
from tests.fixtures.platform import TestPlatform
from tests.unit.web.admin.conftest import Console, OperatorAccount, add_operator, sign_in
from tests.unit.web.conftest import launch_learner

REFUSED = "The name or password is wrong"
LOCKED = "Too many failed sign-ins"


def test_every_console_page_needs_a_session(client: FlaskClient) -> None:
    for path in (
        "/admin/",
        "/admin/registrations",
        "/admin/registrations/1",
        "/admin/keys",
        "/admin/lrs",
        "/admin/grades",
        "/admin/refused",
        "/admin/audit",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/admin/sign-in?next=")


def test_a_change_without_a_session_changes_nothing(
    client: FlaskClient, services: Services
) -> None:
    response = client.post("/admin/keys/rotate", data={"csrf_token": "x"})

    assert response.status_code == 303
    assert "/admin/sign-in" in response.headers["Location"]
    with services.sessions() as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_the_right_password_signs_in_and_is_audited(
    client: FlaskClient, services: Services, operator: OperatorAccount
) -> None:
    response = sign_in(client, operator.name, operator.password)

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/admin/").status_code == 200
    with services.sessions() as session:
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.actor, entry.action) == ("console:ops", "operator.sign_in")
        stored = session.scalars(select(Operator)).one().password_hash
        assert stored.startswith("$argon2id$")
        assert operator.password not in stored


def test_sign_in_returns_to_the_page_asked_for_but_never_elsewhere(
    client: FlaskClient, operator: OperatorAccount
) -> None:
    inside = sign_in(client, operator.name, operator.password, next="/admin/keys")
    assert inside.headers["Location"] == "/admin/keys"

    other = FlaskClient(client.application)
    away = sign_in(other, operator.name, operator.password, next="//evil.example/admin")
    assert away.headers["Location"] == "/admin/"


def test_a_wrong_password_and_an_unknown_name_get_the_same_answer(
    client: FlaskClient, operator: OperatorAccount
) -> None:
    wrong = sign_in(client, operator.name, "not-the-password")
    unknown = sign_in(client, "nobody", "not-the-password")

    assert wrong.status_code == unknown.status_code == 401
    assert REFUSED in wrong.get_data(as_text=True)
    assert REFUSED in unknown.get_data(as_text=True)
    assert client.get("/admin/").status_code == 303


def test_a_disabled_operator_cannot_sign_in_and_their_sessions_end(
    services: Services, console: Console
) -> None:
    with transaction(services.sessions) as session:
        operators.set_disabled(session, operators.require_operator(session, "ops"), True)

    assert console.client.get("/admin/").status_code == 303
    again = sign_in(console.client, console.operator.name, console.operator.password)
    assert again.status_code == 401
    assert REFUSED in again.get_data(as_text=True)


def test_an_account_locks_after_repeated_failures_even_for_the_right_password(
    client: FlaskClient, services: Services, operator: OperatorAccount
) -> None:
    for _ in range(operators.ACCOUNT_FAILURES - 1):
        assert sign_in(client, operator.name, "wrong-password").status_code == 401
    locked = sign_in(client, operator.name, "wrong-password")
    assert locked.status_code == 429
    assert LOCKED in locked.get_data(as_text=True)

    right = sign_in(client, operator.name, operator.password)

    assert right.status_code == 429
    assert LOCKED in right.get_data(as_text=True)
    assert client.get("/admin/").status_code == 303
    # The CLI's way out: unlock, then the right password works again.
    with transaction(services.sessions) as session:
        operators.unlock(session, operator.name)
    assert sign_in(client, operator.name, operator.password).status_code == 303


def test_an_unknown_name_locks_like_a_known_one(client: FlaskClient) -> None:
    answers = [sign_in(client, "nobody", "wrong").status_code for _ in range(5)]

    assert answers == [401] * (operators.ACCOUNT_FAILURES - 1) + [429]


def test_an_address_locks_after_failures_across_many_names(
    client: FlaskClient, operator: OperatorAccount
) -> None:
    for n in range(operators.ADDRESS_FAILURES):
        sign_in(client, f"guess-{n}", "wrong")

    # The account itself never failed, but the address guessed too often.
    response = sign_in(client, operator.name, operator.password)

    assert response.status_code == 429


def test_a_lockout_ends_by_itself(services: Services, operator: OperatorAccount) -> None:
    with transaction(services.sessions) as session:
        start = operators.utcnow()
        for _ in range(operators.ACCOUNT_FAILURES):
            operators.check_sign_in(session, operator.name, "wrong", "10.0.0.1", now=start)
        later = start + operators.LOCKOUT + timedelta(seconds=1)
        locked = operators.check_sign_in(
            session, operator.name, operator.password, "10.0.0.1", now=start
        )
        freed = operators.check_sign_in(
            session, operator.name, operator.password, "10.0.0.1", now=later
        )

    assert locked.outcome == operators.SignInOutcome.LOCKED
    assert freed.outcome == operators.SignInOutcome.SIGNED_IN


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-hex"])
def test_sign_in_without_the_forms_token_is_refused(
    client: FlaskClient, operator: OperatorAccount, token: str | None
) -> None:
    client.get("/admin/sign-in")
    data = {"name": operator.name, "password": operator.password}
    if token is not None:
        data["csrf_token"] = token

    response = client.post("/admin/sign-in", data=data)

    assert response.status_code == 403
    assert client.get("/admin/").status_code == 303


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_a_console_change_without_the_sessions_token_is_refused(
    console: Console, services: Services, token: str | None
) -> None:
    data = {} if token is None else {"csrf_token": token}

    response = console.client.post("/admin/keys/rotate", data=data)

    assert response.status_code == 403
    with services.sessions() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry))]
        assert "keys.rotate" not in actions


def test_another_sessions_token_does_not_pass(
    client: FlaskClient, services: Services, console: Console
) -> None:
    other_account = add_operator(services, "other")
    other = FlaskClient(client.application)
    sign_in(other, other_account.name, other_account.password)
    foreign = console.csrf()

    response = other.post("/admin/keys/rotate", data={"csrf_token": foreign})

    assert response.status_code == 403


def test_sign_out_revokes_the_session(console: Console, services: Services) -> None:
    response = console.post("/admin/sign-out")

    assert response.status_code == 303
    assert console.client.get("/admin/").status_code == 303
    with services.sessions() as session:
        row = session.scalars(select(OperatorSession)).one()
        assert row.revoked_at is not None


def test_an_idle_session_ends(console: Console, services: Services) -> None:
    with transaction(services.sessions) as session:
        row = session.scalars(select(OperatorSession)).one()
        row.last_seen_at = row.last_seen_at - operators.SESSION_IDLE

    assert console.client.get("/admin/").status_code == 303


def test_console_pages_are_never_framed_or_cached(console: Console) -> None:
    for path in ("/admin/", "/admin/sign-in"):
        response = console.client.get(path)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Cache-Control"] == "no-store"


def test_a_learners_launch_never_reaches_the_console(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    learner = launch_learner(client, registered, "learner-1")
    staff = registered.launch(FlaskClient(client.application), role="Administrator", sub="a-1")
    assert staff.status_code == 303

    # Neither the learner's browser (same client, after a launch) nor the session token
    # as a console cookie opens the console.
    assert client.get("/admin/").status_code == 303
    token = learner.base.split("/")[2]
    client.set_cookie("cxa_operator", token)
    assert client.get("/admin/").status_code == 303
    assert client.get(learner.base + "admin").status_code == 404
