"""The statement outbox: rows written in the learner's transaction, delivered later."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from lti_tool.store.models import OutboxRow, OutboxStatus, utcnow

DEFAULT_DESTINATION = "default"


def add_statement(
    session: Session, statement: dict[str, Any], destination: str = DEFAULT_DESTINATION
) -> bool:
    """Queue a statement; False when the same statement id is already queued (a re-emit)."""
    values = {
        "destination": destination,
        "statement_id": str(statement["id"]),
        "statement": statement,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": utcnow(),
        "created_at": utcnow(),
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(OutboxRow).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(OutboxRow).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases reach here
        stmt = insert(OutboxRow).values(values)
    result = session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def claim_due(
    session: Session, destination: str, limit: int, now: datetime | None = None
) -> list[OutboxRow]:
    """Pending rows due now, oldest first, locked so parallel workers take different rows."""
    stmt = (
        select(OutboxRow)
        .where(
            OutboxRow.destination == destination,
            OutboxRow.status == OutboxStatus.PENDING,
            OutboxRow.next_attempt_at <= (now or utcnow()),
        )
        .order_by(OutboxRow.id)
        .limit(limit)
        # PostgreSQL: another worker skips rows this one holds; SQLite ignores it (one writer).
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(stmt))


def mark_sent(session: Session, rows: Sequence[OutboxRow], now: datetime | None = None) -> None:
    now = now or utcnow()
    for row in rows:
        row.status = OutboxStatus.SENT
        row.sent_at = now
        row.attempts += 1
        row.last_error = None
    session.flush()


def mark_failed(
    session: Session,
    rows: Sequence[OutboxRow],
    error: str,
    *,
    retry_in: timedelta | None,
    now: datetime | None = None,
) -> None:
    """Record a failed attempt; retry_in None means give up (dead letter)."""
    now = now or utcnow()
    for row in rows:
        row.attempts += 1
        row.last_error = error
        if retry_in is None:
            row.status = OutboxStatus.DEAD
        else:
            row.next_attempt_at = now + retry_in
    session.flush()


@dataclass(frozen=True)
class OutboxCounts:
    pending: int
    sent: int
    dead: int
    oldest_pending_at: datetime | None


def count_rows(session: Session, destination: str = DEFAULT_DESTINATION) -> OutboxCounts:
    rows = session.execute(
        select(OutboxRow.status, func.count())
        .where(OutboxRow.destination == destination)
        .group_by(OutboxRow.status)
    ).all()
    counts = {status: n for status, n in rows}
    oldest = session.scalar(
        select(func.min(OutboxRow.created_at)).where(
            OutboxRow.destination == destination, OutboxRow.status == OutboxStatus.PENDING
        )
    )
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return OutboxCounts(
        pending=counts.get(OutboxStatus.PENDING, 0),
        sent=counts.get(OutboxStatus.SENT, 0),
        dead=counts.get(OutboxStatus.DEAD, 0),
        oldest_pending_at=oldest,
    )


def requeue_dead(session: Session, destination: str = DEFAULT_DESTINATION) -> int:
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.destination == destination, OutboxRow.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, next_attempt_at=utcnow(), attempts=0)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
