"""`cxa grades`: LMS gradebook sync (LTI AGS) status and replay."""

from __future__ import annotations

import json

import click

from lti_tool import administration
from lti_tool.administration import cli_actor
from lti_tool.cli.command import one_transaction
from lti_tool.store import grades
from lti_tool.store.grades import GradeStatus


@click.group("grades")
def grades_group() -> None:
    """Scores published to LMS gradebooks: one queue for every platform."""


@grades_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per platform.")
@click.option(
    "--dead",
    "show_dead",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="How many of the latest dead-lettered scores to list with their reasons.",
)
def grades_status(as_json: bool, show_dead: int) -> None:
    """Pending, sent, superseded and dead scores per platform, how many an instructor
    overrode in the LMS, and why the dead ones died."""
    with one_transaction() as (session, _settings):
        counts = grades.count_by_status(session)
        overridden = grades.count_overridden(session)
        dead = grades.list_dead(session, show_dead) if show_dead else []
        dead_rows = [
            {
                "id": row.id,
                "platform_id": row.platform_id,
                "learner": row.sub,
                "activity": row.resource_id,
                "score": f"{row.score_given:g}/{row.score_maximum:g}",
                "attempts": row.attempts,
                "reason": row.last_error,
                "created_at": row.created_at.isoformat(),
            }
            for row in dead
        ]
    by_platform: dict[int, dict[str, object]] = {}
    for count in counts:
        entry = by_platform.setdefault(
            count.platform_id,
            {"platform_id": count.platform_id, "platform": count.platform_name}
            | {status.value: 0 for status in GradeStatus},
        )
        entry[count.status.value] = count.count
        entry["overridden_in_lms"] = overridden.get(count.platform_id, 0)
    if as_json:
        click.echo(
            json.dumps({"platforms": list(by_platform.values()), "dead": dead_rows}, indent=2)
        )
        return
    if not by_platform:
        click.echo("no scores queued yet")
    for entry in by_platform.values():
        click.echo(
            f"{entry['platform_id']}\t{entry['platform']}\t"
            + " ".join(f"{status.value}={entry[status.value]}" for status in GradeStatus)
            + f" overridden_in_lms={entry['overridden_in_lms']}"
        )
    for row in dead_rows:
        click.echo(
            f"dead #{row['id']} platform={row['platform_id']} learner={row['learner']} "
            f"{row['activity']} {row['score']}: {str(row['reason'] or '')[:300]}"
        )


@grades_group.command("replay")
@click.option("--platform", "platform_id", type=int, help="Only this platform's (by id).")
@click.option("--error", "error_contains", help="Only those whose reason contains this.")
@click.option("--id", "row_ids", type=int, multiple=True, help="Only these rows (repeatable).")
def grades_replay(
    platform_id: int | None, error_contains: str | None, row_ids: tuple[int, ...]
) -> None:
    """Queue dead-lettered scores again (after fixing what the LMS complained about).

    A replayed score is sent only if no newer one for the same learner and line item
    exists; the newer one is the truth.
    """
    with one_transaction() as (session, settings):
        count = administration.replay_grades(
            session,
            platform_id=platform_id,
            error_contains=error_contains,
            row_ids=list(row_ids) or None,
            actor=cli_actor(),
        )
        click.echo(
            f"requeued {count} scores; the worker sends them within "
            f"{settings.outbox_sweep_seconds}s"
        )
