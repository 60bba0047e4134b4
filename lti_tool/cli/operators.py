"""`cxa operators`: accounts for the operator console at /admin, and its audit log.

Passwords are read from a hidden prompt or from standard input, never from the command
line, where they would land in shell history and the process list.
"""

from __future__ import annotations

import json
import sys

import click

from lti_tool.administration import cli_actor
from lti_tool.cli.command import Refused, one_transaction
from lti_tool.store import operators


@click.group("operators")
def operators_group() -> None:
    """Who may sign in to the operator console (/admin)."""


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < operators.MIN_PASSWORD_LENGTH:
        raise Refused(f"a password needs at least {operators.MIN_PASSWORD_LENGTH} characters")
    return password


_STDIN = click.option(
    "--password-stdin", is_flag=True, help="Read the password from the first line of stdin."
)


@operators_group.command("add")
@click.argument("name")
@_STDIN
def operators_add(name: str, password_stdin: bool) -> None:
    """Create an operator account (the password is asked for, twice)."""
    password = _read_password(password_stdin)
    with one_transaction() as (session, _):
        created = operators.add_operator(session, name, password)
        operators.audit(session, cli_actor(), "operator.add", f"operator {created.name}")
        click.echo(f"operator {created.name} can sign in at /admin")


@operators_group.command("list")
def operators_list() -> None:
    """One line per operator account."""
    with one_transaction() as (session, _):
        rows = operators.list_operators(session)
        if not rows:
            click.echo("no operators (add one with `cxa operators add NAME`)")
        for row in rows:
            last = row.last_sign_in_at.isoformat(timespec="minutes") if row.last_sign_in_at else "-"
            state = "disabled" if row.disabled else "active"
            click.echo(f"{row.name}\t{state}\tlast_sign_in={last}")


@operators_group.command("disable")
@click.argument("name")
def operators_disable(name: str) -> None:
    """Stop an operator from signing in; their console sessions end at once."""
    with one_transaction() as (session, _):
        found = operators.require_operator(session, name)
        operators.set_disabled(session, found, True)
        operators.audit(session, cli_actor(), "operator.disable", f"operator {found.name}")
        click.echo(f"operator {found.name} is disabled")


@operators_group.command("enable")
@click.argument("name")
def operators_enable(name: str) -> None:
    """Let a disabled operator sign in again."""
    with one_transaction() as (session, _):
        found = operators.require_operator(session, name)
        operators.set_disabled(session, found, False)
        operators.audit(session, cli_actor(), "operator.enable", f"operator {found.name}")
        click.echo(f"operator {found.name} is enabled")


@operators_group.command("reset-password")
@click.argument("name")
@_STDIN
def operators_reset_password(name: str, password_stdin: bool) -> None:
    """Set a new password; the operator's console sessions end and a lockout is lifted."""
    password = _read_password(password_stdin)
    with one_transaction() as (session, _):
        found = operators.require_operator(session, name)
        operators.set_password(session, found, password)
        operators.unlock(session, found.name)
        operators.audit(session, cli_actor(), "operator.reset_password", f"operator {found.name}")
        click.echo(f"operator {found.name} has a new password")


@operators_group.command("unlock")
@click.argument("name")
def operators_unlock(name: str) -> None:
    """Lift the sign-in lockout of an account name before it runs out."""
    with one_transaction() as (session, _):
        cleared = operators.unlock(session, name)
        operators.audit(session, cli_actor(), "operator.unlock", f"operator {name}")
        click.echo(f"{name}: lockout lifted" if cleared else f"{name}: was not locked")


@operators_group.command("audit")
@click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
def operators_audit(limit: int) -> None:
    """The latest changes made from the console and the CLI: who, what, when."""
    with one_transaction() as (session, _):
        for entry in operators.list_audit(session, limit):
            detail = json.dumps(entry.detail, sort_keys=True) if entry.detail else ""
            click.echo(
                f"{entry.at.isoformat(timespec='seconds')}\t{entry.actor}\t{entry.action}\t"
                f"{entry.target or '-'}\t{detail}"
            )
