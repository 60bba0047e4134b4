"""The grade outbox: one row per score to publish to an LMS gradebook (LTI AGS), written in
the learner's transaction and sent by the grade worker.

Each row carries everything the worker needs (the AGS URLs and scopes from the launch, the
score), so sending never reads the launch or the learner's records again. A row is the
whole truth for its (learner, line item) at the moment it was written: a newer row
supersedes older unsent ones, so a retry can never put an old score over a new one.

Query functions take a session, may flush, never commit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, relationship

from lti_tool.store.models import Base, Platform, UTCDateTime, stored_enum, utcnow

#: Session.info flag that tells the commit helper a grade task is worth sending.
GRADES_TOUCHED = "cxa_grades_touched"


class GradeStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    # A newer score for the same learner and line item was written before this one went out.
    SUPERSEDED = "superseded"
    # Refused by the LMS (or off-platform), or out of attempts: waits for `cxa grades replay`.
    DEAD = "dead"


class GradeRow(Base):
    """One score waiting for (or done with) publication to one LMS line item."""

    __tablename__ = "grade_outbox"
    __table_args__ = (
        # One row per gradable event: a resubmitted form or a re-run cannot queue it twice.
        UniqueConstraint("source_id"),
        # The worker and the sweep look for due pending rows.
        Index("ix_grade_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        # Supersession and the timestamp rule read one learner's rows for one line item.
        Index("ix_grade_outbox_target", "platform_id", "sub", "target_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    # The learner's LTI sub: the score's userId (AGS 2.0 section 3.4.1).
    sub: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str | None] = mapped_column(String(255), default=None)
    resource_link_id: Mapped[str | None] = mapped_column(String(255), default=None)
    # From the launch's AGS claim: the link's line item, the container, and the scopes.
    lineitem_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    lineitems_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Our activity id: the resourceId of a line item we find or create.
    resource_id: Mapped[str] = mapped_column(String(200))
    # Label of a line item we create.
    label: Mapped[str] = mapped_column(String(500))
    # Which line item of which learner the row is about (the link's line item URL, or the
    # container, link and resource id it is found by): rows sharing it supersede each other.
    target_key: Mapped[str] = mapped_column(String(1500))
    score_given: Mapped[float] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(String(1000), default=None)
    # When the score took effect (the submission); the timestamp sent is derived from it.
    event_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[GradeStatus] = mapped_column(
        stored_enum(GradeStatus, "grade_status"),
        default=GradeStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The LMS's reason for the last failure (or ours, for an off-platform URL).
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # The line item the score went to (found or created when the claim had none).
    sent_lineitem_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    # The score's timestamp as sent: the next one for this learner and line item must be later.
    sent_timestamp: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Reconciliation: when the LMS was last seen holding this score.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # What the LMS held instead, and when that was first seen: an instructor's override once
    # it is known to postdate our send (then it is shown, never fought).
    lms_score: Mapped[float | None] = mapped_column(Float, default=None)
    lms_maximum: Mapped[float | None] = mapped_column(Float, default=None)
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship()


def target_key(
    *,
    lineitem_url: str | None,
    lineitems_url: str | None,
    resource_link_id: str | None,
    resource_id: str,
) -> str:
    if lineitem_url:
        return lineitem_url
    return f"{lineitems_url}|{resource_link_id or ''}|{resource_id}"


@dataclass(frozen=True)
class GradeEntry:
    """A score to queue, with where it goes (built by lti_tool.grading from the launch)."""

    source_id: str
    platform_id: int
    deployment_id: str
    sub: str
    context_id: str | None
    resource_link_id: str | None
    lineitem_url: str | None
    lineitems_url: str | None
    scopes: tuple[str, ...]
    resource_id: str
    label: str
    score_given: float
    score_maximum: float
    activity_progress: str
    grading_progress: str
    comment: str | None
    event_at: datetime


def add_grade(session: Session, entry: GradeEntry) -> GradeRow | None:
    """Queue a score; None if this very event was queued before."""
    existing = session.scalar(select(GradeRow.id).where(GradeRow.source_id == entry.source_id))
    if existing is not None:
        return None
    now = utcnow()
    row = GradeRow(
        source_id=entry.source_id,
        platform_id=entry.platform_id,
        deployment_id=entry.deployment_id,
        sub=entry.sub,
        context_id=entry.context_id,
        resource_link_id=entry.resource_link_id,
        lineitem_url=entry.lineitem_url,
        lineitems_url=entry.lineitems_url,
        scopes=sorted(entry.scopes),
        resource_id=entry.resource_id,
        label=entry.label[:500],
        target_key=target_key(
            lineitem_url=entry.lineitem_url,
            lineitems_url=entry.lineitems_url,
            resource_link_id=entry.resource_link_id,
            resource_id=entry.resource_id,
        )[:1500],
        score_given=entry.score_given,
        score_maximum=entry.score_maximum,
        activity_progress=entry.activity_progress,
        grading_progress=entry.grading_progress,
        comment=entry.comment[:1000] if entry.comment else None,
        event_at=entry.event_at,
        status=GradeStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.info[GRADES_TOUCHED] = True
    return row


def claim_due(
    session: Session, limit: int, now: datetime | None = None, grade_id: int | None = None
) -> list[GradeRow]:
    """Due pending rows (or just ``grade_id``), oldest first, locked so parallel workers
    take different ones."""
    conditions = [
        GradeRow.status == GradeStatus.PENDING,
        GradeRow.next_attempt_at <= (now or utcnow()),
    ]
    if grade_id is not None:
        conditions.append(GradeRow.id == grade_id)
    return list(
        session.scalars(
            select(GradeRow)
            .where(*conditions)
            .order_by(GradeRow.id)
            .limit(limit)
            # PostgreSQL: another worker skips rows this one holds; SQLite ignores it.
            .with_for_update(skip_locked=True)
        )
    )


def has_newer(session: Session, row: GradeRow) -> bool:
    """Whether a later row (any status but superseded) exists for the same learner and line
    item: then this one's score is history and must not be sent."""
    return (
        session.scalar(
            select(GradeRow.id)
            .where(
                GradeRow.platform_id == row.platform_id,
                GradeRow.sub == row.sub,
                GradeRow.target_key == row.target_key,
                GradeRow.id > row.id,
                GradeRow.status != GradeStatus.SUPERSEDED,
            )
            .limit(1)
        )
        is not None
    )


def last_sent_timestamp(session: Session, row: GradeRow) -> datetime | None:
    """The latest timestamp already sent for this learner and line item."""
    value = session.scalar(
        select(func.max(GradeRow.sent_timestamp)).where(
            GradeRow.platform_id == row.platform_id,
            GradeRow.sub == row.sub,
            GradeRow.target_key == row.target_key,
            GradeRow.sent_timestamp.is_not(None),
        )
    )
    # An aggregate bypasses the column type, so SQLite hands back a naive time (or text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=utcnow().tzinfo)
    return value


def last_sent_lineitem(session: Session, row: GradeRow) -> str | None:
    """The line item an earlier score of the same target went to (found or created then)."""
    return session.scalar(
        select(GradeRow.sent_lineitem_url)
        .where(
            GradeRow.platform_id == row.platform_id,
            GradeRow.target_key == row.target_key,
            GradeRow.sent_lineitem_url.is_not(None),
        )
        .order_by(GradeRow.id.desc())
        .limit(1)
    )


def mark_superseded(session: Session, row: GradeRow) -> None:
    row.status = GradeStatus.SUPERSEDED
    session.flush()


def mark_sent(
    session: Session, row: GradeRow, *, lineitem_url: str, timestamp: datetime, now: datetime
) -> None:
    """Record the LMS's acceptance; older unsent rows of the same target are now history."""
    row.status = GradeStatus.SENT
    row.attempts += 1
    row.last_error = None
    row.sent_lineitem_url = lineitem_url
    row.sent_timestamp = timestamp
    row.sent_at = now
    session.execute(
        update(GradeRow)
        .where(
            GradeRow.platform_id == row.platform_id,
            GradeRow.sub == row.sub,
            GradeRow.target_key == row.target_key,
            GradeRow.id < row.id,
            GradeRow.status.in_((GradeStatus.PENDING, GradeStatus.DEAD)),
        )
        .values(status=GradeStatus.SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def mark_failed(
    session: Session,
    row: GradeRow,
    error: str,
    *,
    retry_in: timedelta | None,
    now: datetime | None = None,
) -> None:
    """Record a failed attempt; retry_in None means give up (dead letter)."""
    now = now or utcnow()
    row.attempts += 1
    row.last_error = error
    if retry_in is None:
        row.status = GradeStatus.DEAD
    else:
        row.next_attempt_at = now + retry_in
    session.flush()


def next_due_in(session: Session, now: datetime | None = None) -> float | None:
    """Seconds until the earliest pending row is due (0 if one is due now); None if none."""
    first = session.scalar(
        select(func.min(GradeRow.next_attempt_at)).where(GradeRow.status == GradeStatus.PENDING)
    )
    if first is None:
        return None
    if isinstance(first, str):
        first = datetime.fromisoformat(first)
    if first.tzinfo is None:
        first = first.replace(tzinfo=utcnow().tzinfo)
    return max(0.0, (first - (now or utcnow())).total_seconds())


@dataclass(frozen=True)
class GradeStatusCount:
    """Counts per platform and status, for `cxa grades status`."""

    platform_id: int
    platform_name: str
    status: GradeStatus
    count: int


def count_by_status(session: Session) -> list[GradeStatusCount]:
    rows = session.execute(
        select(GradeRow.platform_id, Platform.name, GradeRow.status, func.count())
        .join(Platform, Platform.id == GradeRow.platform_id)
        .group_by(GradeRow.platform_id, Platform.name, GradeRow.status)
        .order_by(GradeRow.platform_id, GradeRow.status)
    )
    return [GradeStatusCount(pid, name, GradeStatus(status), n) for pid, name, status, n in rows]


def list_dead(session: Session, limit: int = 20) -> list[GradeRow]:
    """The most recent dead-lettered rows, newest first, with the LMS's reasons."""
    return list(
        session.scalars(
            select(GradeRow)
            .where(GradeRow.status == GradeStatus.DEAD)
            .order_by(GradeRow.id.desc())
            .limit(limit)
        )
    )


def replay_dead(
    session: Session,
    *,
    platform_id: int | None = None,
    error_contains: str | None = None,
    row_ids: list[int] | None = None,
) -> int:
    """Put dead rows back in the queue (all, or those matching every filter given)."""
    conditions: list[Any] = [GradeRow.status == GradeStatus.DEAD]
    if platform_id is not None:
        conditions.append(GradeRow.platform_id == platform_id)
    if error_contains:
        conditions.append(GradeRow.last_error.icontains(error_contains, autoescape=True))
    if row_ids:
        conditions.append(GradeRow.id.in_(row_ids))
    result = session.execute(
        update(GradeRow)
        .where(*conditions)
        .values(status=GradeStatus.PENDING, next_attempt_at=utcnow(), attempts=0)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- reconciliation ---------------------------------------------------------------------


def list_reconcilable(
    session: Session, *, sent_before: datetime, sent_after: datetime, limit: int = 500
) -> list[GradeRow]:
    """The scores worth comparing with the LMS: each learner's latest sent score per line
    item (nothing newer waits), sent in the window, not already known to be overridden,
    from a launch that granted the results scope."""
    newer = aliased(GradeRow)
    rows = session.scalars(
        select(GradeRow)
        .where(
            GradeRow.status == GradeStatus.SENT,
            GradeRow.overridden_at.is_(None),
            GradeRow.sent_lineitem_url.is_not(None),
            GradeRow.sent_at <= sent_before,
            GradeRow.sent_at >= sent_after,
            ~exists().where(
                newer.platform_id == GradeRow.platform_id,
                newer.sub == GradeRow.sub,
                newer.target_key == GradeRow.target_key,
                newer.id > GradeRow.id,
                newer.status != GradeStatus.SUPERSEDED,
            ),
        )
        .order_by(GradeRow.platform_id, GradeRow.sent_lineitem_url, GradeRow.id)
        .limit(limit)
    )
    return [row for row in rows if RESULTS_SCOPE in (row.scopes or [])]


#: The AGS scope reconciliation needs (lti_tool.lti.grades.SCOPE_RESULT_READONLY; the store
#: does not import the LTI layer).
RESULTS_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"


def resend_entry(row: GradeRow, now: datetime) -> GradeEntry:
    """The same score again, as a new event at ``now`` (its timestamp will be later)."""
    return GradeEntry(
        source_id=f"resend:{row.id}",
        platform_id=row.platform_id,
        deployment_id=row.deployment_id,
        sub=row.sub,
        context_id=row.context_id,
        resource_link_id=row.resource_link_id,
        lineitem_url=row.lineitem_url,
        lineitems_url=row.lineitems_url,
        scopes=tuple(row.scopes or ()),
        resource_id=row.resource_id,
        label=row.label,
        score_given=row.score_given,
        score_maximum=row.score_maximum,
        activity_progress=row.activity_progress,
        grading_progress=row.grading_progress,
        comment=row.comment,
        event_at=now,
    )


def count_overridden(session: Session) -> dict[int, int]:
    """Per platform, how many learners' latest scores an instructor overrode in the LMS."""
    return dict(
        session.execute(
            select(GradeRow.platform_id, func.count())
            .where(GradeRow.overridden_at.is_not(None))
            .group_by(GradeRow.platform_id)
        ).all()
    )
