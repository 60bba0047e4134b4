"""`cxa keys`: the tool's signing keys and their rotation."""

from __future__ import annotations

from datetime import timedelta

import click

from lti_tool import administration
from lti_tool.administration import cli_actor
from lti_tool.cli.command import one_transaction
from lti_tool.store import keys


@click.group("keys")
def keys_group() -> None:
    """The tool's signing keys."""


@keys_group.command("list")
def keys_list() -> None:
    with one_transaction() as (session, _):
        for key in keys.list_keys(session):
            retire = key.retire_after.isoformat() if key.retire_after else "-"
            click.echo(
                f"{key.kid}\t{key.status.value}\tcreated={key.created_at:%Y-%m-%d}\tretire_after={retire}"
            )


@keys_group.command("rotate")
@click.option(
    "--publish-lead-hours",
    type=click.IntRange(min=0),
    default=24,
    show_default=True,
    help="How long a new key is published before it may sign.",
)
@click.option("--force", is_flag=True, help="Activate the published key without waiting.")
def keys_rotate(publish_lead_hours: int, force: bool) -> None:
    """Advance key rotation one stage: publish a next key, or activate it once it is due."""
    with one_transaction() as (session, settings):
        step = administration.rotate_keys(
            session,
            settings,
            publish_lead=timedelta(hours=publish_lead_hours),
            force=force,
            actor=cli_actor(),
        )
        if step.action == "published":
            click.echo(
                f"published next key {step.kid}; run rotate again after "
                f"{step.ready_at:%Y-%m-%d %H:%M} UTC to activate it"
            )
        elif step.action == "waiting":
            click.echo(
                f"next key {step.kid} is published; it can sign from "
                f"{step.ready_at:%Y-%m-%d %H:%M} UTC (or use --force)"
            )
        else:
            click.echo(
                f"key {step.kid} now signs; the previous key stays published for the overlap window"
            )
        for kid in step.retired:
            click.echo(f"retired key {kid}")
