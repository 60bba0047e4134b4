"""`cxa`: the operator's command line (database, platforms, keys, outbox, demo).

Invalid input is refused with a message and exit status 2; nothing is half-written.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.config import Settings
from lti_tool.errors import ConfigError, ToolError
from lti_tool.store import keys, outbox, platforms
from lti_tool.store.db import make_engine, make_session_factory, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import Platform


class _Refused(click.ClickException):
    exit_code = 2


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as err:
        raise _Refused(str(err)) from err


@contextmanager
def _sessions() -> Iterator[tuple[sessionmaker[Session], Settings]]:
    """A session factory; refusals (bad input, no database) become exit status 2."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        yield make_session_factory(engine), settings
    except ToolError as err:
        raise _Refused(str(err)) from err
    except (OperationalError, ProgrammingError) as err:
        raise _Refused(
            f"the database at {engine.url!r} is unreachable or not migrated: run `cxa db upgrade`"
        ) from err
    finally:
        engine.dispose()


@contextmanager
def _session() -> Iterator[tuple[Session, Settings]]:
    """One transaction for the whole command: all of it is written, or nothing."""
    with _sessions() as (factory, settings), transaction(factory) as session:
        yield session, settings


@click.group()
def main() -> None:
    """CX Academy: LTI 1.3 tool administration."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply Alembic migrations up to the newest schema."""
    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database is at the newest schema")


@main.group()
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
        "deployment_ids": [d.deployment_id for d in p.deployments],
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
def platform_add(**options: Any) -> None:
    """Register a platform."""
    spec = platforms.PlatformSpec(**{**options, "deployment_ids": tuple(options["deployment_ids"])})
    with _session() as (session, _):
        created = platforms.add_platform(session, spec)
        click.echo(f"registered platform {created.id}: {created.name} ({created.issuer})")


@platform.command("list")
def platform_list() -> None:
    """One line per registered platform."""
    with _session() as (session, _):
        rows = platforms.list_platforms(session)
        if not rows:
            click.echo("no platforms registered")
        for p in rows:
            deployments = ",".join(d.deployment_id for d in p.deployments) or "-"
            click.echo(f"{p.id}\t{p.name}\t{p.issuer}\t{p.client_id}\tdeployments={deployments}")


@platform.command("show")
@click.argument("platform_id", type=int)
def platform_show(platform_id: int) -> None:
    """Everything stored about one platform, as JSON."""
    with _session() as (session, _):
        found = platforms.require_platform_by_id(session, platform_id)
        click.echo(json.dumps(_platform_dict(found), indent=2))


@platform.command("remove")
@click.argument("platform_id", type=int)
def platform_remove(platform_id: int) -> None:
    """Remove a platform and its deployments (its learners can no longer launch)."""
    with _session() as (session, _):
        platforms.remove_platform(session, platform_id)
        click.echo(f"removed platform {platform_id}")


@platform.command("set-actor-format")
@click.argument("platform_id", type=int)
@click.argument("actor_format", type=click.Choice(platforms.ACTOR_FORMATS))
def platform_set_actor_format(platform_id: int, actor_format: str) -> None:
    """Choose how this platform's learners appear in xAPI statements from now on."""
    with _session() as (session, _):
        found = platforms.require_platform_by_id(session, platform_id)
        platforms.set_actor_format(session, found, actor_format)
        click.echo(f"platform {platform_id}: learners appear as {actor_format} in new statements")


@platform.command("add-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def platform_add_deployment(platform_id: int, deployment_id: str) -> None:
    """Allow launches from another deployment of a registered platform."""
    with _session() as (session, _):
        found = platforms.require_platform_by_id(session, platform_id)
        platforms.add_deployment(session, found, deployment_id)
        click.echo(f"platform {platform_id} accepts deployment {deployment_id}")


@main.group("keys")
def keys_group() -> None:
    """The tool's signing keys."""


@keys_group.command("list")
def keys_list() -> None:
    with _session() as (session, _):
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
    with _session() as (session, settings):
        keys.ensure_active_key(session, settings.key_encryption_secret)
        step = keys.rotate_keys(
            session,
            settings.key_encryption_secret,
            publish_lead=timedelta(hours=publish_lead_hours),
            overlap=timedelta(seconds=settings.key_overlap_seconds),
            force=force,
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


@main.group("outbox")
def outbox_group() -> None:
    """xAPI statement delivery: one queue per LRS destination."""


def _utc(value: datetime | None) -> datetime | None:
    # Operators type dates without a zone; the outbox records UTC.
    return value.replace(tzinfo=UTC) if value is not None else None


def _date_range(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise _Refused(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until")


_DATE = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@outbox_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per destination.")
def outbox_status(as_json: bool) -> None:
    """Pending, dead, lag and circuit breaker of every destination."""
    with _session() as (session, settings):
        statuses = outbox.list_destination_status(session)
        sending = outbox.list_sending_destinations(session)
    batch_sizes = {d.name: d.batch_size for d in settings.destinations}
    now = datetime.now(UTC)

    def in_flight(d: outbox.DestinationStatus) -> int | None:
        # The batch being sent is the oldest pending rows, up to the destination's batch size.
        if sending is None:
            return None
        return (
            min(d.pending, batch_sizes.get(d.name, settings.lrs_batch_size))
            if d.name in sending
            else 0
        )

    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "destination": d.name,
                        "enabled": d.enabled,
                        "pending": d.pending,
                        "in_flight": in_flight(d),
                        "dead": d.dead,
                        "lag_seconds": round(d.lag_seconds(now), 1),
                        "circuit": "open" if d.circuit_open(now) else "closed",
                        "open_until": (
                            d.open_until.isoformat()
                            if d.open_until and d.circuit_open(now)
                            else None
                        ),
                        "consecutive_failures": d.consecutive_failures,
                        "last_sent_id": d.last_sent_id,
                        "last_error": d.last_error,
                    }
                    for d in statuses
                ],
                indent=2,
            )
        )
        return
    for d in statuses:
        circuit = f"open until {d.open_until:%H:%M:%S}" if d.circuit_open(now) else "closed"
        flight = in_flight(d)
        click.echo(
            f"{d.name}\t{'enabled' if d.enabled else 'disabled'}\tpending={d.pending} "
            f"in_flight={'-' if flight is None else flight} dead={d.dead} "
            f"lag={d.lag_seconds(now):.1f}s circuit={circuit} "
            f"failures={d.consecutive_failures} cursor={d.last_sent_id or '-'}"
            + (f"\tlast_error={d.last_error[:200]}" if d.last_error else "")
        )


@outbox_group.command("replay")
@click.option("--destination", help="Only this destination's dead statements.")
@click.option("--since", type=_DATE, help="Recorded at or after (UTC).")
@click.option("--until", type=_DATE, help="Recorded before (UTC, exclusive).")
@click.option("--error", "error_contains", help="Only those whose last error contains this.")
def outbox_replay(
    destination: str | None,
    since: datetime | None,
    until: datetime | None,
    error_contains: str | None,
) -> None:
    """Queue dead statements again (after fixing what the LRS complained about).

    Replayed statements keep their place in the queue, so they go out next.
    """
    _date_range(since, until)
    with _session() as (session, settings):
        if destination is not None:
            known = {d.name for d in outbox.list_destination_status(session)}
            if destination not in known:
                raise _Refused(
                    f"no destination named {destination!r} in the outbox "
                    f"({', '.join(sorted(known)) or 'none'})"
                )
        count = outbox.replay_dead(
            session,
            destination=destination,
            since=_utc(since),
            until=_utc(until),
            error_contains=error_contains,
        )
        click.echo(
            f"requeued {count} statements; the worker sends them within "
            f"{settings.outbox_sweep_seconds}s"
        )


@outbox_group.command("backfill")
@click.option("--destination", required=True, help="A configured destination to fill.")
@click.option("--since", type=_DATE, required=True, help="Recorded at or after (UTC).")
@click.option("--until", type=_DATE, required=True, help="Recorded before (UTC, exclusive).")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 5000),
    default=500,
    show_default=True,
    help="Statements queued per transaction.",
)
def outbox_backfill(destination: str, since: datetime, until: datetime, chunk_size: int) -> None:
    """Queue statements already recorded in a date range for a (new) destination.

    Safe to re-run or interrupt: each chunk commits on its own, and statements the
    destination already has are skipped.
    """
    _date_range(since, until)
    with _sessions() as (sessions, settings):
        try:
            settings.require_destination(destination)
        except ConfigError as err:
            raise _Refused(f"{err}; add it to CXA_LRS_DESTINATIONS first") from err
        with transaction(sessions) as session:
            outbox.sync_destinations(session, [d.name for d in settings.destinations])
            row_ids = outbox.list_backfill_ids(
                session, destination, since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
            )
        added = 0
        with click.progressbar(
            length=len(row_ids), label=f"queueing for {destination}", file=sys.stderr
        ) as bar:
            for start in range(0, len(row_ids), chunk_size):
                chunk = row_ids[start : start + chunk_size]
                with transaction(sessions) as session:
                    added += outbox.copy_statements(session, chunk, destination)
                bar.update(len(chunk))
        click.echo(f"queued {added} statements for {destination}")


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--lms-port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--lrs-port", type=click.IntRange(1, 65535), default=8100, show_default=True)
def demo(port: int, lms_port: int, lrs_port: int) -> None:
    """Run everything on this machine: tool, worker, beat, LRS and the demo LMS."""
    from lti_tool.demo.runner import run_demo

    sys.exit(run_demo(port=port, lms_port=lms_port, lrs_port=lrs_port))


if __name__ == "__main__":
    main()
