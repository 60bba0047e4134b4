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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.learning import LearnerKey, SelfAssessmentRecord, owned_by_param
from lti_tool.store.models import Base, Launch, UTCDateTime, stored_enum, utcnow


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
        stored_enum(GoalStatus, "goal_status"),
        default=GoalStatus.ACTIVE,
    )
    visibility: Mapped[GoalVisibility] = mapped_column(
        stored_enum(GoalVisibility, "goal_visibility"),
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
    # passes of a quiz keeps the quiz counted. None on older rows: own statement.
    counted_key: Mapped[str | None] = mapped_column(String(64), default=None)
    amount: Mapped[float] = mapped_column(Float, default=1.0)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class GoalVoidedStatement(Base):
    """A statement the goal engine has seen voided (xAPI 1.0.3 Part Two, 2.3.2).

    Kept so the voided statement never counts, also when it is read after the statement
    that voids it: an external LRS page read again over the ``since`` overlap, or an outbox
    id committed after a later one. Inserting an id that is already here changes nothing.
    """

    __tablename__ = "goal_voided_statement"

    statement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


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


# --- queries --------------------------------------------------------------------------------
# Learner reads filter by owner (platform + sub); staff reads filter by platform first, so
# nothing here ever reads across LMS registrations.

#: Goals still being worked on: shown first, counted by the engine, reminded about.
LIVE = (GoalStatus.ACTIVE, GoalStatus.PAUSED)
#: Goals that ended; their progress no longer moves.
ENDED = (GoalStatus.ACHIEVED, GoalStatus.MISSED, GoalStatus.ABANDONED)


def _owned_by(model: Any, learner: LearnerKey) -> tuple[ColumnElement[bool], ...]:
    return (model.platform_id == learner.platform_id, model.sub == learner.sub)


def add_goal(session: Session, learner: LearnerKey, **values: Any) -> Goal:
    """A new goal of the learner's; ``values`` are Goal columns (title, target, due_at...)."""
    now = values.pop("now", None) or utcnow()
    goal = Goal(
        platform_id=learner.platform_id,
        sub=learner.sub,
        starts_at=now,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(goal)
    session.flush()
    return goal


def get_goal(session: Session, learner: LearnerKey, public_id: uuid.UUID) -> Goal | None:
    """The goal if it exists and is this learner's; None for anyone else's."""
    return session.scalar(
        select(Goal).where(Goal.public_id == public_id, *_owned_by(Goal, learner))
    )


def list_goals(session: Session, learner: LearnerKey) -> list[Goal]:
    """Every goal of the learner's, soonest due first."""
    return list(session.scalars(_GOALS, learner.params()))


# Built once: the landing page reads the goals on every launch (owned_by_param says why).
_GOALS = select(Goal).where(*owned_by_param(Goal)).order_by(Goal.due_at, Goal.id)


def set_status(session: Session, goal: Goal, status: GoalStatus, *, now: datetime) -> None:
    """Move a goal to ``status``; an ended goal keeps when it ended."""
    goal.status = status
    goal.updated_at = now
    goal.ended_at = now if status in ENDED else None
    session.flush()


def add_check_in(
    session: Session, goal: Goal, *, did: str, learned: str, confidence: int, now: datetime
) -> GoalCheckIn:
    check_in = GoalCheckIn(
        goal_id=goal.id, did=did, learned=learned, confidence=confidence, created_at=now
    )
    session.add(check_in)
    session.flush()
    return check_in


def list_check_ins(session: Session, goal: Goal) -> list[GoalCheckIn]:
    """The goal's check-ins, newest first (the caller already owns ``goal``)."""
    return list(
        session.scalars(
            select(GoalCheckIn)
            .where(GoalCheckIn.goal_id == goal.id)
            .order_by(GoalCheckIn.created_at.desc(), GoalCheckIn.id.desc())
        )
    )


def last_check_ins(session: Session, goal_ids: Iterable[int]) -> dict[int, datetime]:
    """When each goal was last checked in on (goals never checked in on are absent)."""
    ids = list(goal_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(GoalCheckIn.goal_id, func.max(GoalCheckIn.created_at))
        .where(GoalCheckIn.goal_id.in_(ids))
        .group_by(GoalCheckIn.goal_id)
    )
    return {goal_id: at for goal_id, at in rows}


def check_in_due(goal: Goal, last: datetime | None, now: datetime) -> bool:
    """A live, unpaused goal is due a check-in every ``check_in_days`` since it was set or
    last checked in on."""
    if goal.status is not GoalStatus.ACTIVE:
        return False
    since = last or goal.starts_at
    return now - since >= timedelta(days=goal.check_in_days)


def list_due_check_ins(session: Session, learner: LearnerKey, now: datetime) -> list[Goal]:
    """The learner's active goals whose check-in is due (the reminder after a launch)."""
    goals = list(
        session.scalars(
            select(Goal).where(*_owned_by(Goal, learner), Goal.status == GoalStatus.ACTIVE)
        )
    )
    return select_due_check_ins(session, goals, now)


def select_due_check_ins(session: Session, goals: Iterable[Goal], now: datetime) -> list[Goal]:
    """Of goals already loaded (one learner's), those due a check-in; no query without an
    active one."""
    active = [g for g in goals if g.status is GoalStatus.ACTIVE]
    last = last_check_ins(session, (g.id for g in active))
    return [g for g in active if check_in_due(g, last.get(g.id), now)]


def add_practice_entry(
    session: Session,
    learner: LearnerKey,
    *,
    kind: str,
    happened_on: date,
    note: str,
    link: str | None,
    share_note: bool,
    now: datetime,
) -> PracticeEntry:
    entry = PracticeEntry(
        platform_id=learner.platform_id,
        sub=learner.sub,
        kind=kind,
        happened_on=happened_on,
        note=note,
        link=link,
        share_note=share_note,
        created_at=now,
    )
    session.add(entry)
    session.flush()
    return entry


def list_practice_entries(
    session: Session, learner: LearnerKey, *, limit: int = 100
) -> list[PracticeEntry]:
    """The learner's practice log, latest first."""
    return list(
        session.scalars(
            select(PracticeEntry)
            .where(*_owned_by(PracticeEntry, learner))
            .order_by(PracticeEntry.happened_on.desc(), PracticeEntry.id.desc())
            .limit(limit)
        )
    )


# --- staff views ----------------------------------------------------------------------------


def list_course_goals(session: Session, platform_id: int, context_id: str) -> list[Goal]:
    """Goals set in one LMS course that their learners let staff see (never private ones)."""
    return list(
        session.scalars(
            select(Goal)
            .where(
                Goal.platform_id == platform_id,
                Goal.context_id == context_id,
                Goal.visibility != GoalVisibility.PRIVATE,
            )
            .order_by(Goal.sub, Goal.due_at)
        )
    )


@dataclass(frozen=True)
class OutcomeCount:
    """How many goals of one skill, in one LMS course, are in one status (no goal's text)."""

    skill: str | None
    context_id: str | None
    status: GoalStatus
    goals: int


def _shared_goals(platform_id: int) -> tuple[ColumnElement[bool], ...]:
    # What the L&D overview may count: one platform, never a goal its learner kept private.
    return (Goal.platform_id == platform_id, Goal.visibility != GoalVisibility.PRIVATE)


def count_shared_outcomes(session: Session, platform_id: int) -> list[OutcomeCount]:
    """Goals their learners let staff see on one platform, counted per skill, course and
    status by the database (one row per group, however many goals)."""
    rows = session.execute(
        select(Goal.skill, Goal.context_id, Goal.status, func.count())
        .where(*_shared_goals(platform_id))
        .group_by(Goal.skill, Goal.context_id, Goal.status)
    )
    return [OutcomeCount(*row) for row in rows]


def list_middle_achievements(
    session: Session, platform_id: int, group: Literal["skill", "course", "all"]
) -> dict[str | None, list[tuple[datetime, datetime]]]:
    """Per skill, course or overall ("all", keyed None): the (start, end) of the one or two
    achieved shared goals in the middle when ordered by time to achieve - all a median
    needs, so no other goal leaves the database."""
    # An empty skill or course id counts as none, as the overview labels it.
    key: Any = {
        "skill": func.nullif(Goal.skill, ""),
        "course": func.nullif(Goal.context_id, ""),
        "all": literal(None),
    }[group]
    partition = [] if group == "all" else [key]
    ranked = (
        select(
            key.label("key"),
            Goal.starts_at,
            Goal.ended_at,
            func.row_number()
            .over(partition_by=partition, order_by=(_time_to_achieve(session), Goal.id))
            .label("rank"),
            func.count().over(partition_by=partition).label("goals"),
        )
        .where(
            *_shared_goals(platform_id),
            Goal.status == GoalStatus.ACHIEVED,
            Goal.ended_at.is_not(None),
        )
        .subquery()
    )
    # The middle ranks: k+1 of 2k+1 goals; k and k+1 of 2k.
    rows = session.execute(
        select(ranked.c.key, ranked.c.starts_at, ranked.c.ended_at)
        .where(2 * ranked.c.rank >= ranked.c.goals, 2 * ranked.c.rank <= ranked.c.goals + 2)
        .order_by(ranked.c.rank)
    )
    middles: dict[str | None, list[tuple[datetime, datetime]]] = {}
    for group_key, starts_at, ended_at in rows:
        middles.setdefault(group_key, []).append((starts_at, ended_at))
    return middles


def _time_to_achieve(session: Session) -> ColumnElement[Any]:
    # Only orders goals: SQLite keeps times as text, so julianday() (millisecond-exact);
    # PostgreSQL subtracts timestamps exactly. The days shown are computed in Python.
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(Goal.ended_at) - func.julianday(Goal.starts_at)
    return Goal.ended_at - Goal.starts_at


def count_practice_by_kind(session: Session, platform_id: int) -> dict[str, int]:
    """Practice-log entries per kind on one platform (counts only; notes stay private)."""
    rows = session.execute(
        select(PracticeEntry.kind, func.count())
        .where(PracticeEntry.platform_id == platform_id)
        .group_by(PracticeEntry.kind)
    )
    return {kind: count for kind, count in rows}


def list_shared_practice(
    session: Session, platform_id: int, subs: Iterable[str], *, limit: int = 200
) -> list[PracticeEntry]:
    """Practice entries whose learner ticked "share" (never others), of these learners on
    one platform, latest first."""
    wanted = list(subs)
    if not wanted:
        return []
    return list(
        session.scalars(
            select(PracticeEntry)
            .where(
                PracticeEntry.platform_id == platform_id,
                PracticeEntry.sub.in_(wanted),
                PracticeEntry.share_note.is_(True),
            )
            .order_by(PracticeEntry.happened_on.desc(), PracticeEntry.id.desc())
            .limit(limit)
        )
    )


def latest_check_ins(session: Session, goal_ids: Iterable[int]) -> dict[int, GoalCheckIn]:
    """Each goal's latest check-in (goals never checked in on are absent)."""
    ids = list(goal_ids)
    if not ids:
        return {}
    latest: dict[int, GoalCheckIn] = {}
    rows = session.scalars(
        select(GoalCheckIn)
        .where(GoalCheckIn.goal_id.in_(ids))
        .order_by(GoalCheckIn.created_at, GoalCheckIn.id)
    )
    for row in rows:
        latest[row.goal_id] = row
    return latest


def list_context_titles(session: Session, platform_id: int) -> dict[str, str]:
    """The latest title the LMS sent for each of its courses (context ids mean nothing);
    one row per course leaves the database, not one per launch."""
    ranked = (
        select(
            Launch.context_id,
            Launch.context_title,
            func.row_number()
            .over(
                partition_by=Launch.context_id,
                order_by=(Launch.created_at.desc(), Launch.id.desc()),
            )
            .label("newest"),
        )
        .where(
            Launch.platform_id == platform_id,
            Launch.context_id.is_not(None),
            Launch.context_id != "",
            Launch.context_title.is_not(None),
            Launch.context_title != "",
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.context_id, ranked.c.context_title).where(ranked.c.newest == 1)
    )
    return {context_id: title for context_id, title in rows}


@dataclass(frozen=True)
class RatingMovement:
    """One skill's self-ratings: of learners who rated it twice or more, how many, and their
    average first and latest rating (unrounded)."""

    skill: str
    learners: int
    first: float
    latest: float


def list_rating_movement(session: Session, platform_id: int) -> list[RatingMovement]:
    """Per skill, each learner's first self-rating against their latest on one platform,
    averaged by the database over the learners who rated the skill twice or more."""
    record = SelfAssessmentRecord
    sqlite = session.get_bind().dialect.name == "sqlite"
    # Each record's averages object, one row per skill (json_each in both databases).
    skills = func.json_each(record.averages).table_valued("key", "value").alias("skills")
    is_object = func.json_type if sqlite else func.json_typeof
    per_learner = (record.sub, skills.c.key)
    ratings = (
        select(
            skills.c.key.label("skill"),
            cast(cast(skills.c.value, Text), Float).label("value"),
            func.row_number()
            .over(partition_by=per_learner, order_by=(record.created_at, record.id))
            .label("oldest"),
            func.row_number()
            .over(partition_by=per_learner, order_by=(record.created_at.desc(), record.id.desc()))
            .label("newest"),
            func.count().over(partition_by=per_learner).label("times"),
        )
        .select_from(record)
        .join(skills, true())
        .where(record.platform_id == platform_id, is_object(record.averages) == "object")
        .subquery()
    )
    first = case((ratings.c.oldest == 1, ratings.c.value))
    latest = case((ratings.c.newest == 1, ratings.c.value))
    rows = session.execute(
        select(
            ratings.c.skill,
            func.count(first),
            func.avg(first),
            func.avg(latest),
        )
        .where(ratings.c.times >= 2, or_(ratings.c.oldest == 1, ratings.c.newest == 1))
        .group_by(ratings.c.skill)
    )
    return [RatingMovement(skill, n, float(a), float(b)) for skill, n, a, b in rows]
