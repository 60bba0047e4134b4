"""`cxa refused`: launches the tool refused, found by the reference id people quote."""

from __future__ import annotations

import click

from lti_tool.cli.command import Refused, one_transaction
from lti_tool.store import refusals
from lti_tool.store.refusals import RefusedLaunch


def _line(row: RefusedLaunch) -> str:
    return (
        f"{row.reference}\t{row.at.isoformat(timespec='seconds')}\t{row.status}\t{row.endpoint}\t"
        f"iss={row.issuer or '-'} client_id={row.client_id or '-'} "
        f"deployment={row.deployment_id or '-'}\t{row.reason}"
    )


@click.command("refused")
@click.argument("reference", required=False)
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
def refused_command(reference: str | None, limit: int) -> None:
    """Why a launch was refused (by its reference id), or the latest refusals."""
    with one_transaction() as (session, _):
        if reference is not None:
            found = refusals.find_refusal(session, reference)
            if found is None:
                raise Refused(
                    f"no refused launch with reference {reference!r} in the last "
                    f"{refusals.RETENTION.days} days"
                )
            click.echo(_line(found))
            return
        rows = refusals.list_refusals(session, limit)
        if not rows:
            click.echo("no refused launches")
        for row in rows:
            click.echo(_line(row))
