"""`cxa operators` (accounts for the console, passwords never on the command line),
`cxa refused`, `cxa platform disable`, and the audit rows the CLI's changes write."""

# The CLI fixtures live in test_cli.py and are imported here: pytest finds them by name,
# which ruff reads as redefinitions.
# ruff: noqa: F811

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.cli import main
from lti_tool.store import operators, refusals
from lti_tool.store.db import make_engine
from lti_tool.store.models import Platform, PlatformState
from lti_tool.store.operators import AuditEntry, Operator
from tests.unit.lti_tool.test_cli import (  # noqa: F401 (fixtures used by name)
    MOODLE_OPTIONS,
    Cxa,
    cxa,
    database,
    refused,
    upgraded,
)

PASSWORD = "correct horse battery"


@pytest.fixture
def typed(tmp_path: Path, database: Path, upgraded: Cxa, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    """`cxa ARGS...` with what the operator types on standard input."""
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {"CXA_DATABASE_URL": f"sqlite:///{database}", "CXA_VAR_DIR": str(tmp_path)}

    def run(*args: str, input: str = "") -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=input)

    return run


def _session(database: Path) -> Session:
    return Session(make_engine(f"sqlite:///{database}"))


def test_add_reads_the_password_from_a_hidden_prompt_twice(typed: Cxa, database: Path) -> None:
    result = typed("operators", "add", "Alice", input=f"{PASSWORD}\n{PASSWORD}\n")

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with _session(database) as session:
        found = session.scalars(select(Operator)).one()
        assert found.name == "alice" and found.password_hash.startswith("$argon2id$")
        assert operators.check_sign_in(session, "alice", PASSWORD, "cli").operator is not None
        entry = session.scalars(select(AuditEntry)).one()
        assert entry.actor.startswith("cli:") and entry.action == "operator.add"


def test_no_password_option_exists_on_the_command_line(typed: Cxa) -> None:
    result = typed("operators", "add", "alice", "--password", PASSWORD)

    assert result.exit_code == 2
    assert "No such option" in result.output


def test_a_short_password_or_a_duplicate_name_is_refused(typed: Cxa) -> None:
    refused(typed("operators", "add", "alice", "--password-stdin", input="short\n"), "12")
    typed("operators", "add", "alice", "--password-stdin", input=PASSWORD + "\n")
    refused(
        typed("operators", "add", "alice", "--password-stdin", input=PASSWORD + "\n"),
        "already exists",
    )
    refused(typed("operators", "add", "a b", "--password-stdin", input=PASSWORD + "\n"), "name")


def test_list_disable_enable_reset_and_unlock(typed: Cxa, database: Path) -> None:
    typed("operators", "add", "alice", "--password-stdin", input=PASSWORD + "\n")
    assert "alice\tactive" in typed("operators", "list").output

    assert typed("operators", "disable", "alice").exit_code == 0
    assert "alice\tdisabled" in typed("operators", "list").output
    with _session(database) as session:
        assert operators.check_sign_in(session, "alice", PASSWORD, "cli").operator is None
    assert typed("operators", "enable", "alice").exit_code == 0

    with _session(database) as session:
        for _ in range(operators.ACCOUNT_FAILURES):
            operators.check_sign_in(session, "alice", "wrong", "cli")
        session.commit()
    new = "another long password"
    reset = typed("operators", "reset-password", "alice", "--password-stdin", input=new + "\n")
    assert reset.exit_code == 0, reset.output
    with _session(database) as session:
        # The reset lifts the lockout too: the operator asked for help to get back in.
        assert operators.check_sign_in(session, "alice", new, "elsewhere").operator is not None
    assert typed("operators", "unlock", "alice").exit_code == 0
    refused(typed("operators", "disable", "nobody"), "no operator named")

    audit = typed("operators", "audit").output
    for action in (
        "operator.add",
        "operator.disable",
        "operator.enable",
        "operator.reset_password",
    ):
        assert action in audit


def test_cli_changes_are_audited_like_the_consoles(typed: Cxa, database: Path) -> None:
    assert typed("platform", "add", *MOODLE_OPTIONS).exit_code == 0
    assert typed("platform", "disable", "1").exit_code == 0
    with _session(database) as session:
        assert session.get(Platform, 1).state is PlatformState.PENDING  # type: ignore[union-attr]
    assert typed("platform", "activate", "1").exit_code == 0
    assert typed("keys", "rotate").exit_code == 0
    refused(typed("platform", "disable", "99"), "no platform")

    with _session(database) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["platform.add", "platform.state", "platform.state", "keys.rotate"]


def test_refused_finds_a_launch_by_reference(typed: Cxa, database: Path) -> None:
    assert "no refused launches" in typed("refused").output
    with _session(database) as session:
        refusals.record_refusal(
            session,
            reference="abc123def456",
            status=400,
            endpoint="lti.launch",
            reason="LaunchError: bad signature",
            issuer="https://lms.example",
        )
        session.commit()

    found = typed("refused", "ABC123DEF456")

    assert found.exit_code == 0
    assert "bad signature" in found.output and "iss=https://lms.example" in found.output
    refused(typed("refused", "000000000000"), "no refused launch")
