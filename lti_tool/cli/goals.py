"""`cxa goals`: the goal engine's state, per statement source and per goal status."""

from __future__ import annotations

import json
from typing import Any

import click

from lti_tool.cli.command import one_transaction
from lti_tool.store import goal_ledger
from lti_tool.store.goal_ledger import OUTBOX_SOURCE, lrs_source
from lti_tool.store.goals import GoalStatus


@click.group("goals")
def goals_group() -> None:
    """Personal goals: the engine that counts learning towards them."""


@goals_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
def goals_status(as_json: bool) -> None:
    """Each source's cursor, statements processed and skipped, last error; goals by status."""
    with one_transaction() as (session, settings):
        cursors = {cursor.source: cursor for cursor in goal_ledger.list_cursors(session)}
        counts = goal_ledger.count_goals_by_status(session)
    # Configured sources are listed even before their first pull, so a typo in a name shows.
    names = [OUTBOX_SOURCE, *(lrs_source(s.name) for s in settings.goal_sources)]
    names += sorted(set(cursors) - set(names))
    sources: list[dict[str, Any]] = []
    for name in names:
        cursor = cursors.get(name)
        sources.append(
            {
                "source": name,
                "position": (cursor.position or None) if cursor else None,
                "more": cursor.more if cursor else None,
                "open_gaps": len(cursor.gaps or {}) if cursor else 0,
                "processed": cursor.processed if cursor else 0,
                "malformed": cursor.malformed if cursor else 0,
                "last_error": cursor.last_error if cursor else None,
                "updated_at": cursor.updated_at.isoformat() if cursor else None,
            }
        )
    goals = {status.value: counts.get(status.value, 0) for status in GoalStatus}
    if as_json:
        click.echo(json.dumps({"sources": sources, "goals": goals}, indent=2))
        return
    for source in sources:
        where = str(source["position"] or "(not started)")
        if source["more"]:
            where += " (next page pending)"
        click.echo(
            f"{source['source']}: at {where}, {source['processed']} processed, "
            f"{source['malformed']} malformed, {source['open_gaps']} open gaps"
        )
        if source["last_error"]:
            click.echo(f"  last error: {source['last_error']}")
    click.echo(", ".join(f"{n} {status}" for status, n in goals.items()))
