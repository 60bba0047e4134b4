"""Personal goals: the goal rows, their check-ins, the practice log and the engine's ledger.

A goal belongs to a learner (platform + LTI ``sub``), never to one placement: a learner's
goals follow them from course to course. Every read by id also takes the learner (see
``lti_tool.store.learning._owned_by``), so one learner can never load another's goal.

The goal engine (workers/) owns ``progress`` and the ledger of counted statements; the web
side owns what the learner typed. Query functions take a session, may flush, never commit.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from lti_tool.store.models import Base, UTCDateTime, utcnow


def _values(enum_cls: type[enum.Enum]) -> list[str]:
    return [str(member.value) for member in enum_cls]


class GoalStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ACHIEVED = "achieved"
    MISSED = "missed"
    ABANDONED = "abandoned"


class GoalVisibility(enum.StrEnum):
    # Default: instructors and L&D see how far the learner is, never what they wrote.
    PROGRESS = "progress"
    # The learner chose to share the goal's text (title, why, check-ins) as well.
    CONTENT = "content"
    # Nobody but the learner sees the goal at all.
    PRIVATE = "private"


class Goal(Base):
    """One learner's goal: what, how it is measured, by when, and how far they are."""

    __tablename__ = "goal"
    __table_args__ = (
        # The goal engine's index by metric: a statement about a learner touches only that
        # learner's live goals whose metric can match it, never the whole history.
        Index("ix_goal_learner_metric", "platform_id", "sub", "metric_key", "status"),
        # The periodic deadline sweep reads active goals by due date.
        Index("ix_goal_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Opaque id for URLs and the goal's xAPI activity IRI; never the row id.
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    # The content/goals.yaml template it was set from; None for a goal written from scratch.
    template_id: Mapped[str | None] = mapped_column(String(80), default=None)
    skill: Mapped[str | None] = mapped_column(String(80), default=None)
    title: Mapped[str] = mapped_column(String(200))
    specific: Mapped[str] = mapped_column(Text, default="")
    relevance: Mapped[str] = mapped_column(Text, default="")
    # A key of the metric catalogue (content), and that metric's parameters (skill, minimum
    # score, practice kind, verb and activity type, ...). "self_reported" is counted by hand.
    metric_key: Mapped[str] = mapped_column(String(60))
    metric_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(120), default="")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[GoalStatus] = mapped_column(
        Enum(GoalStatus, native_enum=False, length=16, name="goal_status", values_callable=_values),
        default=GoalStatus.ACTIVE,
    )
    visibility: Mapped[GoalVisibility] = mapped_column(
        Enum(
            GoalVisibility,
            native_enum=False,
            length=16,
            name="goal_visibility",
            values_callable=_values,
        ),
        default=GoalVisibility.PROGRESS,
    )
    check_in_days: Mapped[int] = mapped_column(Integer, default=7)
    # Only learning done from this moment on counts towards the goal.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The LMS course the goal was set in, if any: what "goals of my class" starts from.
    context_id: Mapped[str | None] = mapped_column(String(255), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class GoalCheckIn(Base):
    """A weekly reflection on a goal; its text is the learner's and never leaves the tool."""

    __tablename__ = "goal_check_in"
    __table_args__ = (Index("ix_goal_check_in_goal", "goal_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    did: Mapped[str] = mapped_column(Text, default="")
    learned: Mapped[str] = mapped_column(Text, default="")
    confidence: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PracticeEntry(Base):
    """Practice done outside any course (mentoring, a knowledge-base article, ...)."""

    __tablename__ = "practice_entry"
    __table_args__ = (Index("ix_practice_entry_learner", "platform_id", "sub", "happened_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    # A kind from the content's practice catalogue (mentoring-given, kb-article, ...).
    kind: Mapped[str] = mapped_column(String(60))
    happened_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(2000), default=None)
    # Whether instructors and L&D may read the note; counts are always visible.
    share_note: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoalCountedStatement(Base):
    """The engine's ledger: one statement counted once towards one goal, and by how much.

    Redelivery meets the unique key and counts nothing; a voiding statement sets its
    target's rows to amount 0 (kept, so a redelivery of the voided statement still meets
    its row) and progress is recounted from what is left.
    """

    __tablename__ = "goal_counted_statement"
    __table_args__ = (
        UniqueConstraint("goal_id", "statement_id"),
        # Voiding looks a statement up by id across every goal it counted towards.
        Index("ix_goal_counted_statement_statement", "statement_id"),
        # The engine reads a goal's rows for the keys a batch can count (goal_ledger).
        Index("ix_goal_counted_statement_goal_key", "goal_id", "counted_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goal.id", ondelete="CASCADE"))
    statement_id: Mapped[str] = mapped_column(String(36))
    # What the statement counts as: the lesson, quiz or course for metrics that count each
    # one once (a hash when the IRI is long), else the statement id. Progress is the number
    # of distinct keys, so a lesson seen twice counts once, and voiding the first of two
    # passes of a quiz keeps the quiz counted. None on rows from before 0019: own statement.
    counted_key: Mapped[str | None] = mapped_column(String(64), default=None)
    amount: Mapped[float] = mapped_column(Float, default=1.0)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoalSourceCursor(Base):
    """Where the goal engine is in one stream: our outbox, or an external LRS."""

    __tablename__ = "goal_source_cursor"

    # "outbox", or "lrs:<name>" for an external LRS configured as a goal source.
    source: Mapped[str] = mapped_column(String(120), primary_key=True)
    # Outbox: the last outbox id processed. External LRS: the `since` stored timestamp
    # (ISO 8601) of the last statement processed, and the pending `more` URL, if any.
    position: Mapped[str] = mapped_column(String(2000), default="")
    more: Mapped[str | None] = mapped_column(String(2000), default=None)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    # Statements skipped because they could not be read (`cxa goals status`).
    malformed: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # Outbox only: ids below the position not yet seen, with when each was first missed
    # ({"id": ISO time}). A PostgreSQL transaction can commit a lower id after a higher one;
    # these are looked up again until they appear or are old enough to be rolled back ids.
    gaps: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
