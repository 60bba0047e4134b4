"""`cxa badges`: Open Badges issued for achieved goals, their revocation and signing key."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import click

from lti_tool.cli.command import Refused, one_transaction
from lti_tool.store import badges as store


@click.group("badges")
def badges_group() -> None:
    """Open Badges 3.0 credentials awarded for achieved goals."""


@badges_group.command("list")
@click.option("--limit", type=click.IntRange(1, 10000), default=200, show_default=True)
def badges_list(limit: int) -> None:
    """Issued badges, newest first: id, issued date, status, achievement (no learner data)."""
    with one_transaction() as (session, _):
        for badge in store.list_badges(session, limit=limit):
            status = f"revoked {badge.revoked_at:%Y-%m-%d}" if badge.revoked_at else "valid"
            click.echo(
                f"{badge.public_id}\t{badge.issued_at:%Y-%m-%d}\t{status}\t{badge.achievement_key}"
            )


@badges_group.command("revoke")
@click.argument("badge_id")
@click.option("--reason", required=True, help="Why (kept with the badge; never published).")
def badges_revoke(badge_id: str, reason: str) -> None:
    """Revoke a badge: its bit is set in the revocation list and its page says so."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise Refused("--reason must be 1 to 500 characters")
    try:
        public_id = uuid.UUID(badge_id)
    except ValueError as err:
        raise Refused(f"{badge_id!r} is not a badge id (see `cxa badges list`)") from err
    with one_transaction() as (session, _):
        badge = store.get_badge(session, public_id)
        if badge is None:
            raise Refused(f"no badge {badge_id} (see `cxa badges list`)")
        if store.revoke_badge(session, badge, reason=reason, now=datetime.now(UTC)):
            click.echo(f"revoked {badge.public_id}")
        else:
            click.echo(f"{badge.public_id} was already revoked on {badge.revoked_at:%Y-%m-%d}")


@badges_group.command("rotate-key")
def badges_rotate_key() -> None:
    """Sign new badges with a new key; earlier keys stay published so old badges verify."""
    with one_transaction() as (session, settings):
        kid = store.rotate_issuer_key(
            session, settings.key_encryption_secret, now=datetime.now(UTC)
        )
        click.echo(f"badges are now signed with key {kid}")
