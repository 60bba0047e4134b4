"""Statement delivery from the outbox to one LRS: plain functions, testable without a broker.

Guarantees (see docs/decisions/0002-statement-delivery.md):

- At least once per destination: a row leaves "pending" only in the transaction that
  records the LRS's answer, so a crash before that commit means the batch is sent again.
- Exactly once in the LRS: statement ids are derived from the source event, and an LRS
  that already holds an id answers 409 or 204. A 409 counts as delivered only when the
  statement the LRS holds under that id is ours (xAPI 1.0.3 Part Two 2.3.1 comparison);
  a different one is dead-lettered as a conflict with both versions kept.
- One clock: batch ages and breaker times are read from the database, never from the
  worker's or a web node's own clock.
- Order, per learner: each destination's stream is split into lanes by learner
  (docs/decisions/0021). A worker holds a lane while its batch is in flight, takes that
  lane's oldest pending rows, and a failed batch pauses the whole destination (circuit
  breaker) rather than letting newer rows overtake it, so each learner's statements reach
  the LRS in the order they were recorded while N workers send N lanes at once. Only a
  statement the LRS refuses (dead-lettered) is skipped; a replay sends it later.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from lti_tool.store import outbox
from lti_tool.store.db import transaction
from lti_tool.store.outbox import ClaimedRow
from xapi.lrs import EncodedStatement, LRSClient, Outcome, PostResult

log = logging.getLogger(__name__)

# Answers that blame the statements themselves (xAPI 1.0.3 Part Three 3.2): splitting the
# batch finds the culprit. Any other refusal (401/403: our credentials, 404: the endpoint)
# is about the destination and is retried like an outage, never blamed on every statement.
_CONTENT_REJECTIONS = frozenset({None, 400, 413, 422})


@dataclass(frozen=True)
class DeliveryPolicy:
    """How one destination is delivered to; built from Settings by the worker."""

    batch_size: int = 50
    # A part-filled batch younger than this waits for company (seconds; 0: send at once).
    max_batch_age: float = 0.0
    # Failed attempts after which a statement is dead-lettered.
    max_attempts: int = 20
    max_backoff: timedelta = timedelta(minutes=30)
    # Upper bound on batches per call, so one task cannot monopolise a worker forever.
    max_batches: int = 1000


@dataclass
class DeliveryReport:
    sent: int = 0
    dead: int = 0
    deferred: int = 0
    # Seconds until this destination is worth another look, when the call stopped early
    # because the breaker is open or a batch is still filling up; None when the queue is empty.
    retry_in: float | None = None
    # Another worker holds the destination or the lanes with work (PostgreSQL only): it will
    # deliver what is due.
    busy: bool = False

    def __iadd__(self, other: DeliveryReport) -> DeliveryReport:
        self.sent += other.sent
        self.dead += other.dead
        self.deferred += other.deferred
        return self


def backoff(
    failures: int,
    retry_after: float | None,
    ceiling: timedelta = DeliveryPolicy.max_backoff,
    rand: Callable[[], float] = random.random,
) -> timedelta:
    """Wait after the n-th failure in a row: the LRS's Retry-After when it sent one,
    otherwise exponential with jitter (so many tools do not retry in lockstep)."""
    if retry_after is not None:
        return timedelta(seconds=min(retry_after, ceiling.total_seconds()))
    top = min(ceiling.total_seconds(), 2.0 ** min(failures, 30))
    return timedelta(seconds=top * (0.5 + rand() / 2))


def deliver_outbox(
    sessions: sessionmaker[Session],
    client: LRSClient,
    *,
    destination: str = outbox.DEFAULT_DESTINATION,
    policy: DeliveryPolicy | None = None,
    rand: Callable[[], float] = random.random,
    on_spare_lanes: Callable[[], None] | None = None,
) -> DeliveryReport:
    """Send the destination's pending rows, batch by batch, until none are due or it fails.

    Each batch is its own transaction: hold the lanes with the oldest rows, claim them, POST,
    record the answer, commit. A worker killed mid-POST leaves the rows pending.
    ``on_spare_lanes`` is called once, the first time a batch leaves lanes with work that
    nobody holds, so the caller can bring in another worker.
    """
    policy = policy or DeliveryPolicy()
    report = DeliveryReport()
    for _ in range(policy.max_batches):
        with transaction(sessions) as session:
            entry = outbox.enter_destination(session, destination, head=policy.batch_size)
            if entry is None:
                report.busy = True
                return report
            now = entry.now
            if entry.open_until is not None and entry.open_until > now:
                report.retry_in = (entry.open_until - now).total_seconds()
                return report
            claim = outbox.claim_lanes(
                session, destination, entry.lanes, policy.batch_size, head=entry.head
            )
            rows = claim.rows
            if not rows:
                report.busy = claim.busy
                return report
            if claim.spare and on_spare_lanes is not None:
                on_spare_lanes()
                on_spare_lanes = None
            if policy.max_batch_age > 0 and len(rows) < policy.batch_size:
                age = (now - rows[0].created_at).total_seconds()
                if age < policy.max_batch_age:
                    report.retry_in = policy.max_batch_age - age
                    return report
            step = _record(
                session, destination, _send(session, client, rows, now), now, policy, rand
            )
        report += step
        if step.retry_in is not None:
            report.retry_in = step.retry_in
            return report
        if claim.drained:
            # Saves a third of a trickle's queries: the look that would find nothing.
            return report
    return report


@dataclass
class _Attempt:
    """What one POST (with its bisection) did to a batch."""

    sent: list[ClaimedRow] = field(default_factory=list)
    dead: int = 0
    # Rows whose POST failed for reasons of the destination, and that answer.
    failed: list[ClaimedRow] = field(default_factory=list)
    failure: PostResult | None = None

    def __iadd__(self, other: _Attempt) -> _Attempt:
        self.sent += other.sent
        self.dead += other.dead
        self.failed += other.failed
        self.failure = self.failure or other.failure
        return self


def _send(
    session: Session, client: LRSClient, rows: Sequence[ClaimedRow], now: datetime
) -> _Attempt:
    """POST rows; on a content rejection split the batch until the bad statement stands alone.

    Rows the LRS took are marked sent by ``_record``, with the cursor, in one statement.
    """
    result = client.post_statements(
        [EncodedStatement(row.statement_id, row.statement_json) for row in rows]
    )
    if result.delivered:
        return _Attempt(sent=list(rows))
    if result.outcome is Outcome.CONFLICT and result.conflicts:
        # Every statement but the conflicting ones is in the LRS now. A conflict is nobody's
        # outage: the breaker stays closed and the rows after it carry on.
        conflicts = {c.statement_id.lower(): c for c in result.conflicts}
        stored = [row for row in rows if row.statement_id.lower() not in conflicts]
        for row in rows:
            conflict = conflicts.get(row.statement_id.lower())
            if conflict is not None:
                log.warning(
                    "statement %s conflicts with the LRS's copy (differs in %s)",
                    row.statement_id,
                    ", ".join(conflict.differences),
                )
                outbox.mark_conflict(
                    session,
                    row,
                    conflict.stored,
                    f"conflict: the LRS holds other content under this id "
                    f"(differs in {', '.join(conflict.differences)})",
                )
        return _Attempt(sent=stored, dead=len(rows) - len(stored))
    if result.outcome is Outcome.REJECTED and result.status in _CONTENT_REJECTIONS:
        if len(rows) == 1:
            log.warning("statement %s rejected by the LRS: %s", rows[0].statement_id, result.detail)
            outbox.mark_failed(session, rows, result.detail, retry_in=None, now=now)
            return _Attempt(dead=1)
        # One bad statement must not hold the rest back: halve until it stands alone. The
        # halves go in order, and if the LRS fails meanwhile the later half is not tried at
        # all (it stays pending, uncounted), so nothing overtakes a row that must be retried.
        middle = len(rows) // 2
        attempt = _send(session, client, rows[:middle], now)
        if attempt.failure is None:
            attempt += _send(session, client, rows[middle:], now)
        return attempt
    return _Attempt(failed=list(rows), failure=result)


def _record(
    session: Session,
    destination: str,
    attempt: _Attempt,
    now: datetime,
    policy: DeliveryPolicy,
    rand: Callable[[], float],
) -> DeliveryReport:
    """Mark the sent rows, move the destination's cursor and breaker, and count the failed
    rows' attempts."""
    sent_ids = [row.id for row in attempt.sent]
    if attempt.failure is None:
        # sent_at is stamped now, when the LRS has answered: sent_at - created_at is the
        # whole delivery lag.
        outbox.record_delivery(session, destination, sent_ids, now)
        return DeliveryReport(sent=len(attempt.sent), dead=attempt.dead)
    outbox.mark_sent(session, sent_ids)
    last_sent_id = max(sent_ids, default=None)
    # Re-read under its row lock: workers in other lanes update it too.
    state = outbox.lock_destination_state(session, destination)
    if last_sent_id is not None:
        state.last_sent_id = max(last_sent_id, state.last_sent_id or 0)
        state.last_success_at = now
    error = attempt.failure.detail
    state.consecutive_failures += 1
    wait = backoff(
        state.consecutive_failures, attempt.failure.retry_after, policy.max_backoff, rand
    )
    state.open_until = now + wait
    state.last_error = error
    exhausted = [row for row in attempt.failed if row.attempts + 1 >= policy.max_attempts]
    retrying = [row for row in attempt.failed if row.attempts + 1 < policy.max_attempts]
    outbox.mark_failed(session, exhausted, error, retry_in=None, now=now)
    outbox.mark_failed(session, retrying, error, retry_in=wait, now=now)
    log.info(
        "LRS %s unavailable (%s): %d statements wait %.1fs, %d dead-lettered",
        state.name,
        error,
        len(retrying),
        wait.total_seconds(),
        len(exhausted),
    )
    return DeliveryReport(
        sent=len(attempt.sent),
        dead=attempt.dead + len(exhausted),
        deferred=len(retrying),
        retry_in=wait.total_seconds(),
    )
