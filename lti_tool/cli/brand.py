"""`cxa platform brand`: the organisation name and accent colour learners see, per
registration or per deployment."""

from __future__ import annotations

import click

from lti_tool.branding import parse_accent, parse_organisation
from lti_tool.cli.command import Refused, one_transaction
from lti_tool.errors import BrandingError
from lti_tool.store import branding, platforms


@click.command("brand")
@click.argument("platform_id", type=int)
@click.option(
    "--deployment-id",
    default=branding.ALL_DEPLOYMENTS,
    help="Brand one deployment only (overrides the registration's branding field by field).",
)
@click.option("--name", "organisation", default=None, help="Organisation name in the header.")
@click.option(
    "--accent",
    default=None,
    help="Accent colour, #rrggbb; refused unless it reaches WCAG AA contrast (4.5:1).",
)
@click.option("--clear", is_flag=True, help="Go back to the default branding.")
def brand(
    platform_id: int, deployment_id: str, organisation: str | None, accent: str | None, clear: bool
) -> None:
    """Set, show (no options) or clear the branding of a registration or deployment."""
    # Checked before the database is opened: a bad colour never needs one.
    try:
        name = parse_organisation(organisation) if organisation is not None else None
        colour = parse_accent(accent) if accent is not None else None
    except BrandingError as err:
        raise Refused(str(err)) from err
    if clear and (name or colour):
        raise Refused("--clear cannot be combined with --name or --accent")
    scope = f"deployment {deployment_id}" if deployment_id else "every deployment"
    with one_transaction() as (session, _):
        found = platforms.require_platform_by_id(session, platform_id)
        if deployment_id and deployment_id not in {d.deployment_id for d in found.deployments}:
            raise BrandingError(f"platform {platform_id} has no deployment {deployment_id!r}")
        if clear:
            done = branding.clear_branding(session, platform_id, deployment_id)
            click.echo(
                f"platform {platform_id}, {scope}: "
                + ("default branding" if done else "had no branding of its own")
            )
            return
        if name is not None or colour is not None:
            branding.set_branding(
                session, platform_id, deployment_id, organisation=name, accent=colour
            )
        shown = branding.get_brand(session, platform_id, deployment_id or "")
        click.echo(
            f"platform {platform_id}, {scope}: organisation "
            f"{shown.organisation or '(none)'}, accent {shown.accent or '(default)'}"
        )
