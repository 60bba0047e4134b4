"""`cxa sessions`: learner sessions after a launch (list, revoke, purge)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from lti_tool.cli.command import Refused, one_transaction
from lti_tool.store import platforms
from lti_tool.store import sessions as store


@click.group("sessions")
def sessions_group() -> None:
    """Learner sessions (the /s/<token>/ links a launch hands out)."""


@sessions_group.command("list")
@click.option("--platform", "platform_id", type=int, required=True, help="Platform id.")
@click.option("--user", "sub", default=None, help="The learner's LTI user id (sub).")
def sessions_list(platform_id: int, sub: str | None) -> None:
    """One line per session of a platform (or of one learner): reference, user, state."""
    now = datetime.now(UTC)
    with one_transaction() as (session, settings):
        platforms.require_platform_by_id(session, platform_id)
        idle = timedelta(seconds=settings.session_idle_seconds)
        rows = store.list_sessions(session, platform_id=platform_id, sub=sub)
        if not rows:
            click.echo("no sessions")
        for row in rows:
            if row.revoked_at is not None:
                state = "revoked"
            elif row.expires_at <= now or now - row.last_seen_at >= idle:
                state = "ended"
            else:
                state = "live"
            reference = row.id[: store.MIN_REFERENCE_LENGTH]
            seen, expires = f"{row.last_seen_at:%Y-%m-%d %H:%M}", f"{row.expires_at:%Y-%m-%d %H:%M}"
            click.echo(
                f"{reference}\t{row.launch.sub}\t{state}\tlast_seen={seen}\texpires={expires}"
            )


@sessions_group.command("revoke")
@click.option("--platform", "platform_id", type=int, default=None, help="Platform id.")
@click.option("--user", "sub", default=None, help="The learner's LTI user id (needs --platform).")
@click.option(
    "--session",
    "reference",
    default=None,
    help="A session reference, as log lines show it after /s/~ (12 or more hex characters).",
)
def sessions_revoke(platform_id: int | None, sub: str | None, reference: str | None) -> None:
    """End sessions now: all of a platform, all of one learner, or one session.

    The learners see "your session has ended" and launch again from their LMS.
    """
    if reference is not None and (platform_id is not None or sub is not None):
        raise Refused("use --session alone, or --platform with an optional --user")
    if sub is not None and platform_id is None:
        raise Refused("--user needs --platform: user ids are only unique within a platform")
    if reference is None and platform_id is None:
        raise Refused("name what to revoke: --platform, --platform and --user, or --session")
    with one_transaction() as (session, _):
        if platform_id is not None:
            platforms.require_platform_by_id(session, platform_id)
        try:
            count = store.revoke_sessions(
                session,
                now=datetime.now(UTC),
                platform_id=platform_id,
                sub=sub,
                reference=reference,
            )
        except ValueError as err:
            raise Refused(str(err)) from err
        click.echo(f"revoked {count} session{'' if count == 1 else 's'}")


@sessions_group.command("purge")
def sessions_purge() -> None:
    """Delete sessions that can no longer be used (expired, idle or revoked)."""
    with one_transaction() as (session, settings):
        count = store.purge_sessions(
            session,
            now=datetime.now(UTC),
            idle=timedelta(seconds=settings.session_idle_seconds),
        )
        click.echo(f"purged {count} session{'' if count == 1 else 's'}")
