"""Statement delivery from the outbox to an LRS: plain functions, testable without a broker."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.models import OutboxRow, OutboxStatus, utcnow
from xapi.lrs import LRSClient, Outcome

log = logging.getLogger(__name__)

#: After this many failed attempts a statement is dead-lettered with its last error.
MAX_ATTEMPTS = 12
#: Backoff ceiling between attempts.
MAX_BACKOFF = timedelta(minutes=30)


@dataclass
class DeliveryReport:
    sent: int = 0
    dead: int = 0
    deferred: int = 0

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.dead += other.dead
        self.deferred += other.deferred
        return self


def backoff(
    attempts: int, retry_after: float | None, rand: Callable[[], float] = random.random
) -> timedelta:
    """Exponential backoff with full jitter, never sooner than the LRS's Retry-After."""
    ceiling = min(MAX_BACKOFF.total_seconds(), 2.0 ** min(attempts, 20))
    delay = ceiling * (0.5 + rand() / 2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return timedelta(seconds=delay)


def _head_is_waiting(session: Session, destination: str, now: datetime) -> bool:
    # Statements go out in the order they were recorded: while the oldest pending row waits
    # for its retry time, nothing newer overtakes it (per-learner order is kept a fortiori).
    head = session.scalars(
        select(OutboxRow.next_attempt_at)
        .where(OutboxRow.destination == destination, OutboxRow.status == OutboxStatus.PENDING)
        .order_by(OutboxRow.id)
        .limit(1)
    ).first()
    return head is not None and head > now


def deliver_outbox(
    sessions: sessionmaker[Session],
    client: LRSClient,
    *,
    destination: str = outbox.DEFAULT_DESTINATION,
    batch_size: int = 50,
    max_batches: int = 1000,
) -> DeliveryReport:
    """Send due outbox rows in batches until none are left or the LRS stops taking them."""
    report = DeliveryReport()
    for _ in range(max_batches):
        with transaction(sessions) as session:
            now = utcnow()
            if _head_is_waiting(session, destination, now):
                break
            rows = outbox.claim_due(session, destination, batch_size, now)
            if not rows:
                break
            step = _send(session, client, rows, now)
        report += step
        if step.deferred:
            break
    return report


def _send(
    session: Session, client: LRSClient, rows: Sequence[OutboxRow], now: datetime
) -> DeliveryReport:
    result = client.post_statements([row.statement for row in rows])
    if result.outcome in (Outcome.STORED, Outcome.DUPLICATE):
        outbox.mark_sent(session, rows, now)
        return DeliveryReport(sent=len(rows))
    if result.outcome is Outcome.REJECTED:
        if len(rows) == 1:
            log.warning("statement %s rejected by the LRS: %s", rows[0].statement_id, result.detail)
            outbox.mark_failed(session, rows, result.detail, retry_in=None, now=now)
            return DeliveryReport(dead=1)
        # One bad statement must not hold the rest back: split until it stands alone.
        middle = len(rows) // 2
        report = _send(session, client, rows[:middle], now)
        report += _send(session, client, rows[middle:], now)
        return report
    attempts = max(row.attempts for row in rows) + 1
    if attempts >= MAX_ATTEMPTS:
        outbox.mark_failed(session, rows, result.detail, retry_in=None, now=now)
        return DeliveryReport(dead=len(rows))
    delay = backoff(attempts, result.retry_after)
    log.info(
        "LRS unavailable (%s); retrying %d statements in %.0fs",
        result.detail,
        len(rows),
        delay.total_seconds(),
    )
    outbox.mark_failed(session, rows, result.detail, retry_in=delay, now=now)
    return DeliveryReport(deferred=len(rows))
