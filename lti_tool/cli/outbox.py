"""`cxa outbox`: xAPI statement delivery status, dead letters, replay and backfill."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from lti_tool import administration
from lti_tool.administration import cli_actor
from lti_tool.cli.command import Refused, one_transaction, sessions
from lti_tool.errors import ConfigError
from lti_tool.store import outbox
from lti_tool.store.db import transaction


@click.group("outbox")
def outbox_group() -> None:
    """xAPI statement delivery: one queue per LRS destination."""


def _utc(value: datetime | None) -> datetime | None:
    # Operators type dates without a zone; the outbox records UTC.
    return value.replace(tzinfo=UTC) if value is not None else None


def _date_range(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since >= until:
        raise Refused(f"--since ({since:%Y-%m-%d %H:%M}) must be before --until")


_DATE = click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"])


@outbox_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per destination.")
def outbox_status(as_json: bool) -> None:
    """Pending, dead, lag and circuit breaker of every destination."""
    with one_transaction() as (session, settings):
        statuses = outbox.list_destination_status(session)
        sending = outbox.list_sending_destinations(session)
        now = outbox.database_now(session)  # the clock the rows were stamped with
    batch_sizes = {d.name: d.batch_size for d in settings.destinations}
    configured = {d.name for d in settings.destinations}

    def is_configured(d: outbox.DestinationStatus) -> bool | None:
        # Without LRS settings this process cannot tell; the table's flag is the workers'.
        return (d.name in configured) if configured else None

    def in_flight(d: outbox.DestinationStatus) -> int | None:
        # Each lane being sent is at most one batch of the destination's batch size.
        if sending is None:
            return None
        batch = batch_sizes.get(d.name, settings.lrs_batch_size)
        return min(d.pending, sending.get(d.name, 0) * batch)

    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "destination": d.name,
                        "configured": is_configured(d),
                        "enabled": d.enabled,
                        "pending": d.pending,
                        "in_flight": in_flight(d),
                        "dead": d.dead,
                        "conflicts": d.conflicts,
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
            f"conflicts={d.conflicts} lag={d.lag_seconds(now):.1f}s circuit={circuit} "
            f"failures={d.consecutive_failures} cursor={d.last_sent_id or '-'}"
            + (f"\tlast_error={d.last_error[:200]}" if d.last_error else "")
        )
    for d in statuses:
        if d.pending and (not d.enabled or is_configured(d) is False):
            click.echo(
                f"note: {d.pending} statements wait for {d.name!r}, which is not configured "
                "(CXA_LRS_ENDPOINT / CXA_LRS_DESTINATIONS): a worker re-routes them to the "
                "configured destinations at its next sweep (docs/decisions/0004); if they "
                "stay, no worker with this configuration is running"
            )
        if d.conflicts:
            click.echo(
                f"note: {d.conflicts} statements conflict with what {d.name!r} holds under "
                f"the same id: `cxa outbox dead --destination {d.name} --conflicts` shows both"
            )


@outbox_group.command("dead")
@click.option("--destination", help="Only this destination's dead statements.")
@click.option("--conflicts", is_flag=True, help="Only conflicts (the LRS holds other content).")
@click.option("--json", "as_json", is_flag=True, help="JSON, with both versions of conflicts.")
def outbox_dead(destination: str | None, conflicts: bool, as_json: bool) -> None:
    """List dead-lettered statements with their last error.

    For a conflict (the LRS answered 409 and holds a different statement under the id),
    both versions are shown: ours and the LRS's. Replaying a conflict meets the same 409;
    resolve it in the LRS first (e.g. void its statement) or leave it.
    """
    with one_transaction() as (session, _settings):
        rows = outbox.list_dead(session, destination=destination, conflicts_only=conflicts)
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "id": row.id,
                        "destination": row.destination,
                        "statement_id": row.statement_id,
                        "attempts": row.attempts,
                        "recorded_at": row.created_at.isoformat(),
                        "last_error": row.last_error,
                        "conflict": row.lrs_statement is not None,
                        "statement": row.statement,
                        "lrs_statement": row.lrs_statement,
                    }
                    for row in rows
                ],
                indent=2,
            )
        )
        return
    for row in rows:
        click.echo(
            f"{row.id}\t{row.destination}\t{row.statement_id}\tattempts={row.attempts}\t"
            f"{row.last_error or ''}"
        )
        if row.lrs_statement is not None:
            click.echo(f"  ours: {json.dumps(row.statement, sort_keys=True)}")
            click.echo(f"  lrs:  {json.dumps(row.lrs_statement, sort_keys=True)}")
    if not rows:
        click.echo("no dead statements")


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
    with one_transaction() as (session, settings):
        count = administration.replay_statements(
            session,
            destination=destination,
            since=_utc(since),
            until=_utc(until),
            error_contains=error_contains,
            actor=cli_actor(),
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
    with sessions() as (factory, settings):
        try:
            settings.require_destination(destination)
        except ConfigError as err:
            raise Refused(f"{err}; add it to CXA_LRS_DESTINATIONS first") from err
        with transaction(factory) as session:
            outbox.sync_destinations(
                session, [d.name for d in settings.destinations], lanes=settings.outbox_lanes
            )
            row_ids = outbox.list_backfill_ids(
                session, destination, since.replace(tzinfo=UTC), until.replace(tzinfo=UTC)
            )
        added = 0
        with click.progressbar(
            length=len(row_ids), label=f"queueing for {destination}", file=sys.stderr
        ) as bar:
            for start in range(0, len(row_ids), chunk_size):
                chunk = row_ids[start : start + chunk_size]
                with transaction(factory) as session:
                    added += outbox.copy_statements(session, chunk, destination)
                bar.update(len(chunk))
        click.echo(f"queued {added} statements for {destination}")
