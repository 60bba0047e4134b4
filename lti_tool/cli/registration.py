"""`cxa platform invite`, `pending`, `approve-deployment`, `activate`: how LMSs join by
LTI Dynamic Registration, and what waits for an operator."""

from __future__ import annotations

import re
from datetime import timedelta

import click

from lti_tool import administration
from lti_tool.administration import cli_actor
from lti_tool.cli.command import Refused, one_transaction
from lti_tool.store import registrations
from lti_tool.store.models import PlatformState

_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_lifetime(value: str) -> timedelta:
    """ "90m", "24h", "7d" -> a timedelta; Refused (exit 2) names the problem."""
    found = _DURATION.match(value.strip().lower())
    if not found or int(found.group(1)) == 0:
        raise Refused(f"--expires must be a positive number followed by m, h or d, got {value!r}")
    lifetime = timedelta(**{_UNITS[found.group(2)]: int(found.group(1))})
    if lifetime > timedelta(days=30):
        raise Refused("--expires may be at most 30d: an invitation is a password while unused")
    return lifetime


@click.command("invite")
@click.option("--name", default=None, help="A label for the LMS, e.g. 'Acme Moodle'.")
@click.option("--expires", default="24h", show_default=True, help="Lifetime: 90m, 24h, 7d.")
@click.option(
    "--auto-approve-deployments",
    is_flag=True,
    help="Accept new deployments of this registration without asking (course copies).",
)
def platform_invite(name: str | None, expires: str, auto_approve_deployments: bool) -> None:
    """Create a one-time Dynamic Registration link to paste into the LMS."""
    lifetime = parse_lifetime(expires)
    with one_transaction() as (session, settings):
        created = administration.invite(
            session,
            lifetime=lifetime,
            name=name,
            auto_approve_deployments=auto_approve_deployments,
            actor=cli_actor(),
        )
        expires_at = created.invitation.expires_at.isoformat(timespec="minutes")
        click.echo(f"{settings.base_url}/lti/register/{created.token}")
        click.echo(
            f"invitation {created.invitation.id}: usable once, until {expires_at}. Paste the URL "
            "into the LMS's tool registration (Moodle: Manage tools > Tool URL; Canvas: "
            "Developer Keys > LTI Registration).",
            err=True,
        )


@click.command("pending")
def platform_pending() -> None:
    """Deployments that launched before an operator approved them."""
    with one_transaction() as (session, _):
        rows = registrations.list_pending_deployments(session)
        if not rows:
            click.echo("no pending deployments")
        for row in rows:
            click.echo(
                f"platform={row.platform_id}\tdeployment={row.deployment_id}\t"
                f"context={row.context_title or row.context_id or '-'}\t"
                f"launches={row.launches}\tlast={row.last_seen_at.isoformat(timespec='minutes')}"
            )


@click.command("approve-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def platform_approve_deployment(platform_id: int, deployment_id: str) -> None:
    """Approve a pending deployment: its launches are accepted from now on."""
    with one_transaction() as (session, _):
        administration.approve_deployment(session, platform_id, deployment_id, actor=cli_actor())
        click.echo(f"platform {platform_id} accepts deployment {deployment_id}")


@click.command("activate")
@click.argument("platform_id", type=int)
def platform_activate(platform_id: int) -> None:
    """Let a pending registration's users launch."""
    with one_transaction() as (session, _):
        administration.set_platform_state(
            session, platform_id, PlatformState.ACTIVE, actor=cli_actor()
        )
        click.echo(f"platform {platform_id} is active")


@click.command("disable")
@click.argument("platform_id", type=int)
def platform_disable(platform_id: int) -> None:
    """Stop a registration's launches (they wait for approval); nothing is deleted."""
    with one_transaction() as (session, _):
        administration.set_platform_state(
            session, platform_id, PlatformState.PENDING, actor=cli_actor()
        )
        click.echo(f"platform {platform_id} is disabled: its launches wait until `activate`")


COMMANDS = (
    platform_invite,
    platform_pending,
    platform_approve_deployment,
    platform_activate,
    platform_disable,
)
