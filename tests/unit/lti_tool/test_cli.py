"""The `cxa` operator CLI: schema, platforms, keys and outbox, on a throwaway SQLite file."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select, text

from lti_tool.cli import main
from lti_tool.store.db import make_engine
from lti_tool.store.models import Deployment, Platform

Cxa = Callable[..., Result]

MOODLE = "https://moodle.example.edu"
MOODLE_OPTIONS = [
    "--name", "Acme Moodle",
    "--issuer", MOODLE,
    "--client-id", "client-1",
    "--auth-login-url", f"{MOODLE}/mod/lti/auth.php",
    "--auth-token-url", f"{MOODLE}/mod/lti/token.php",
    "--key-set-url", f"{MOODLE}/mod/lti/certs.php",
    "--deployment-id", "1",
]  # fmt: skip


def with_option(options: list[str], name: str, value: str) -> list[str]:
    changed = list(options)
    changed[changed.index(name) + 1] = value
    return changed


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "cli.db"


@pytest.fixture
def cxa(tmp_path: Path, database: Path, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    """Run `cxa ARGS...` as an operator would, with only our two variables set."""
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {"CXA_DATABASE_URL": f"sqlite:///{database}", "CXA_VAR_DIR": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    return run


@pytest.fixture
def upgraded(cxa: Cxa) -> Cxa:
    assert cxa("db", "upgrade").exit_code == 0
    return cxa


@pytest.fixture
def count_rows(database: Path) -> Iterator[Callable[[type], int]]:
    engine = make_engine(f"sqlite:///{database}")

    def count(model: type) -> int:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(model)) or 0

    yield count
    engine.dispose()


def refused(result: Result, *words: str) -> None:
    assert result.exit_code == 2, result.output
    for word in words:
        assert word in result.output


# --- db ----------------------------------------------------------------------------------


def test_db_upgrade_builds_the_schema_and_can_run_again(cxa: Cxa, database: Path) -> None:
    first = cxa("db", "upgrade")
    again = cxa("db", "upgrade")

    assert first.exit_code == 0, first.output
    assert "database is at the newest schema" in first.output
    assert again.exit_code == 0, again.output
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as conn:
            tables = set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'table'")))
    finally:
        engine.dispose()
    assert {"alembic_version", "platform", "deployment", "tool_key", "outbox"} <= tables


# --- platforms ---------------------------------------------------------------------------


def test_an_operator_registers_a_platform_and_reads_it_back(upgraded: Cxa) -> None:
    added = upgraded("platform", "add", *MOODLE_OPTIONS)

    assert added.exit_code == 0, added.output
    assert f"registered platform 1: Acme Moodle ({MOODLE})" in added.output

    listed = upgraded("platform", "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        f"1\tAcme Moodle\t{MOODLE}\tclient-1\tactive\tdeployments=1"
    ]

    shown = upgraded("platform", "show", "1")
    assert shown.exit_code == 0
    assert json.loads(shown.output) == {
        "id": 1,
        "name": "Acme Moodle",
        "issuer": MOODLE,
        "client_id": "client-1",
        "auth_login_url": f"{MOODLE}/mod/lti/auth.php",
        "auth_token_url": f"{MOODLE}/mod/lti/token.php",
        "key_set_url": f"{MOODLE}/mod/lti/certs.php",
        "auth_audience": None,
        "actor_format": "account",
        "actor_name": "omit",
        "deployment_ids": ["1"],
        "state": "active",
        "auto_approve_deployments": False,
    }


def test_list_says_so_when_nothing_is_registered(upgraded: Cxa) -> None:
    listed = upgraded("platform", "list")

    assert listed.exit_code == 0
    assert listed.output.strip() == "no platforms registered"


def test_an_operator_adds_a_deployment_then_removes_the_platform(
    upgraded: Cxa, count_rows: Callable[[type], int]
) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)

    added = upgraded("platform", "add-deployment", "1", "2")
    assert added.exit_code == 0, added.output
    assert "platform 1 accepts deployment 2" in added.output
    assert json.loads(upgraded("platform", "show", "1").output)["deployment_ids"] == ["1", "2"]

    removed = upgraded("platform", "remove", "1")
    assert removed.exit_code == 0, removed.output
    assert "removed platform 1" in removed.output
    assert count_rows(Platform) == 0
    assert count_rows(Deployment) == 0


@pytest.mark.parametrize(
    ("option", "value", "problem"),
    [
        ("--issuer", "http://moodle.example.edu", "issuer must use https"),
        ("--key-set-url", "certs.php", "key_set_url must be an absolute http(s) URL"),
        ("--client-id", " ", "client_id must not be empty"),
        ("--deployment-id", "", "deployment id '' must be 1 to 255 characters"),
    ],
)
def test_an_invalid_platform_is_refused_and_nothing_is_written(
    upgraded: Cxa, count_rows: Callable[[type], int], option: str, value: str, problem: str
) -> None:
    result = upgraded("platform", "add", *with_option(MOODLE_OPTIONS, option, value))

    refused(result, problem)
    assert count_rows(Platform) == 0
    assert count_rows(Deployment) == 0


def test_a_duplicate_registration_is_refused_and_nothing_is_written(
    upgraded: Cxa, count_rows: Callable[[type], int]
) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)

    again = upgraded("platform", "add", *with_option(MOODLE_OPTIONS, "--deployment-id", "other"))

    refused(again, "already registered", "client-1")
    assert count_rows(Platform) == 1
    assert count_rows(Deployment) == 1


def test_a_duplicate_deployment_is_refused(
    upgraded: Cxa, count_rows: Callable[[type], int]
) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)

    refused(upgraded("platform", "add-deployment", "1", "1"), "already registered")
    assert count_rows(Deployment) == 1


@pytest.mark.parametrize(
    "command",
    [("show", "99"), ("remove", "99"), ("add-deployment", "99", "2")],
    ids=["show", "remove", "add-deployment"],
)
def test_an_unknown_platform_id_is_refused(
    upgraded: Cxa, count_rows: Callable[[type], int], command: tuple[str, ...]
) -> None:
    upgraded("platform", "add", *MOODLE_OPTIONS)

    refused(upgraded("platform", *command), "no platform with id 99")
    assert count_rows(Platform) == 1
    assert count_rows(Deployment) == 1


def test_a_missing_required_option_is_refused_by_name(
    upgraded: Cxa, count_rows: Callable[[type], int]
) -> None:
    at = MOODLE_OPTIONS.index("--client-id")
    without_client_id = MOODLE_OPTIONS[:at] + MOODLE_OPTIONS[at + 2 :]

    refused(upgraded("platform", "add", *without_client_id), "Missing option", "--client-id")
    assert count_rows(Platform) == 0


def test_a_bad_setting_is_refused_by_name(cxa: Cxa, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CXA_LOG_LEVEL", "LOUD")

    refused(cxa("db", "upgrade"), "CXA_LOG_LEVEL")


# --- keys --------------------------------------------------------------------------------


def key_lines(cxa: Cxa) -> dict[str, list[str]]:
    """`keys list` as {kid: [status, created=..., retire_after=...]}."""
    listed = cxa("keys", "list")
    assert listed.exit_code == 0, listed.output
    rows = [line.split("\t") for line in listed.output.splitlines()]
    return {row[0]: row[1:] for row in rows}


def test_rotation_from_the_command_line_publishes_waits_then_activates(upgraded: Cxa) -> None:
    before = datetime.now(UTC)

    published = upgraded("keys", "rotate")

    assert published.exit_code == 0, published.output
    found = re.search(
        r"published next key (\S+); run rotate again after (\S+ \S+) UTC", published.output
    )
    assert found, published.output
    new_kid = found.group(1)
    ready = datetime.strptime(found.group(2), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    assert before + timedelta(hours=24) - timedelta(minutes=1) <= ready
    assert ready <= datetime.now(UTC) + timedelta(hours=24)
    listed = key_lines(upgraded)
    assert listed[new_kid][0] == "next"
    (old_kid,) = (kid for kid, row in listed.items() if row[0] == "active")
    assert listed[old_kid][2] == "retire_after=-"

    waiting = upgraded("keys", "rotate")
    assert waiting.exit_code == 0, waiting.output
    assert f"next key {new_kid} is published; it can sign from" in waiting.output
    assert "(or use --force)" in waiting.output
    assert key_lines(upgraded) == listed

    forced = upgraded("keys", "rotate", "--force")
    assert forced.exit_code == 0, forced.output
    assert f"key {new_kid} now signs" in forced.output
    after = key_lines(upgraded)
    assert after[new_kid][0] == "active"
    assert after[old_kid][0] == "retiring"
    assert after[old_kid][2] != "retire_after=-"


def test_a_zero_publish_lead_activates_on_the_second_rotate(upgraded: Cxa) -> None:
    upgraded("keys", "rotate", "--publish-lead-hours", "0")

    second = upgraded("keys", "rotate", "--publish-lead-hours", "0")

    assert second.exit_code == 0, second.output
    assert "now signs" in second.output
    assert sorted(row[0] for row in key_lines(upgraded).values()) == ["active", "retiring"]


def test_a_negative_publish_lead_is_refused(upgraded: Cxa) -> None:
    refused(upgraded("keys", "rotate", "--publish-lead-hours", "-1"), "--publish-lead-hours")
    assert key_lines(upgraded) == {}


# --- outbox ------------------------------------------------------------------------------


def test_outbox_status_on_an_empty_outbox(upgraded: Cxa) -> None:
    status = upgraded("outbox", "status")

    assert status.exit_code == 0, status.output
    counts = dict(re.findall(r"(\w+)=(\S+)", status.output))
    assert counts["pending"] == "0"
    assert counts["dead"] == "0"


def test_an_unmigrated_database_is_refused_with_the_fix(tmp_path: Path) -> None:
    env = {"CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}", "CXA_VAR_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["platform", "list"], env=env)
    assert result.exit_code == 2
    assert "run `cxa db upgrade`" in result.output


def test_actor_format_can_be_chosen_and_changed(upgraded: Cxa) -> None:
    added = upgraded("platform", "add", *MOODLE_OPTIONS, "--actor-format", "mbox_sha1sum")
    assert added.exit_code == 0, added.output
    assert json.loads(upgraded("platform", "show", "1").output)["actor_format"] == "mbox_sha1sum"
    changed = upgraded("platform", "set-actor-format", "1", "account")
    assert changed.exit_code == 0, changed.output
    assert json.loads(upgraded("platform", "show", "1").output)["actor_format"] == "account"
    refused = upgraded("platform", "set-actor-format", "1", "email-please")
    assert refused.exit_code == 2
    assert json.loads(upgraded("platform", "show", "1").output)["actor_format"] == "account"


def test_learner_names_are_left_out_of_statements_unless_the_registration_opts_in(
    upgraded: Cxa,
) -> None:
    assert upgraded("platform", "add", *MOODLE_OPTIONS).exit_code == 0
    assert json.loads(upgraded("platform", "show", "1").output)["actor_name"] == "omit"
    changed = upgraded("platform", "set-actor-name", "1", "include")
    assert changed.exit_code == 0, changed.output
    assert json.loads(upgraded("platform", "show", "1").output)["actor_name"] == "include"
    refused = upgraded("platform", "set-actor-name", "1", "sometimes")
    assert refused.exit_code == 2
    assert json.loads(upgraded("platform", "show", "1").output)["actor_name"] == "include"
    assert upgraded("platform", "set-actor-name", "99", "omit").exit_code == 2


def test_a_platform_can_be_added_with_names_included(upgraded: Cxa) -> None:
    added = upgraded("platform", "add", *MOODLE_OPTIONS, "--actor-name", "include")
    assert added.exit_code == 0, added.output
    assert json.loads(upgraded("platform", "show", "1").output)["actor_name"] == "include"
