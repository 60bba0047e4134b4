"""`cxa platform`: LMS registrations and their deployments."""

from __future__ import annotations

import json
from typing import Any

import click

from lti_tool import administration
from lti_tool.administration import cli_actor
from lti_tool.cli.command import one_transaction
from lti_tool.store import platforms
from lti_tool.store.models import Platform


@click.group()
def platform() -> None:
    """LMS platform registrations (many at once)."""


def _platform_dict(p: Platform) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "issuer": p.issuer,
        "client_id": p.client_id,
        "auth_login_url": p.auth_login_url,
        "auth_token_url": p.auth_token_url,
        "key_set_url": p.key_set_url,
        "auth_audience": p.auth_audience,
        "actor_format": p.actor_format,
        "actor_name": p.actor_name,
        "deployment_ids": [d.deployment_id for d in p.deployments],
        "state": p.state.value,
        "auto_approve_deployments": p.auto_approve_deployments,
    }


@platform.command("add")
@click.option("--name", required=True, help="A label for people, e.g. 'Acme Moodle'.")
@click.option("--issuer", required=True, help="The platform's issuer (iss), an https URL.")
@click.option("--client-id", required=True, help="The client id the platform gave this tool.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token URL.")
@click.option("--key-set-url", required=True, help="The platform's public JWKS URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, help="Repeat for each.")
@click.option("--auth-audience", default=None, help="Token audience, if not the token URL.")
@click.option(
    "--actor-format",
    type=click.Choice(platforms.ACTOR_FORMATS),
    default="account",
    show_default=True,
    help="How learners appear in xAPI statements (see README: privacy).",
)
@click.option(
    "--actor-name",
    type=click.Choice(platforms.ACTOR_NAME_CHOICES),
    default="omit",
    show_default=True,
    help="Whether statements carry learners' names from the launch (see README: privacy).",
)
def platform_add(**options: Any) -> None:
    """Register a platform."""
    spec = platforms.PlatformSpec(**{**options, "deployment_ids": tuple(options["deployment_ids"])})
    with one_transaction() as (session, settings):
        created = administration.add_platform(session, settings, spec, actor=cli_actor())
        click.echo(f"registered platform {created.id}: {created.name} ({created.issuer})")


@platform.command("list")
def platform_list() -> None:
    """One line per registered platform."""
    with one_transaction() as (session, _):
        rows = platforms.list_platforms(session)
        if not rows:
            click.echo("no platforms registered")
        for p in rows:
            deployments = ",".join(d.deployment_id for d in p.deployments) or "-"
            click.echo(
                f"{p.id}\t{p.name}\t{p.issuer}\t{p.client_id}\t{p.state.value}\t"
                f"deployments={deployments}"
            )


@platform.command("show")
@click.argument("platform_id", type=int)
def platform_show(platform_id: int) -> None:
    """Everything stored about one platform, as JSON."""
    with one_transaction() as (session, _):
        found = platforms.require_platform_by_id(session, platform_id)
        click.echo(json.dumps(_platform_dict(found), indent=2))


@platform.command("remove")
@click.argument("platform_id", type=int)
def platform_remove(platform_id: int) -> None:
    """Remove a platform and its deployments (its learners can no longer launch)."""
    with one_transaction() as (session, _):
        administration.remove_platform(session, platform_id, actor=cli_actor())
        click.echo(f"removed platform {platform_id}")


@platform.command("set-actor-format")
@click.argument("platform_id", type=int)
@click.argument("actor_format", type=click.Choice(platforms.ACTOR_FORMATS))
def platform_set_actor_format(platform_id: int, actor_format: str) -> None:
    """Choose how this platform's learners appear in xAPI statements from now on."""
    with one_transaction() as (session, _):
        administration.set_actor_format(session, platform_id, actor_format, actor=cli_actor())
        click.echo(f"platform {platform_id}: learners appear as {actor_format} in new statements")


@platform.command("set-actor-name")
@click.argument("platform_id", type=int)
@click.argument("choice", type=click.Choice(platforms.ACTOR_NAME_CHOICES))
def platform_set_actor_name(platform_id: int, choice: str) -> None:
    """Choose whether this platform's statements carry learners' names (default: omit)."""
    with one_transaction() as (session, _):
        administration.set_actor_name(session, platform_id, choice, actor=cli_actor())
        if choice == "include":
            click.echo(f"platform {platform_id}: new statements carry learners' names")
        else:
            click.echo(f"platform {platform_id}: new statements carry no learner's name")


@platform.command("add-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def platform_add_deployment(platform_id: int, deployment_id: str) -> None:
    """Allow launches from another deployment of a registered platform."""
    with one_transaction() as (session, _):
        administration.add_deployment(session, platform_id, deployment_id, actor=cli_actor())
        click.echo(f"platform {platform_id} accepts deployment {deployment_id}")
