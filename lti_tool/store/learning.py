"""A learner's record: lessons viewed, quiz attempts, scenario runs, self-assessments.

Records belong to a learner (platform + LTI ``sub``), not to one launch, so progress and an
unfinished attempt survive the next launch from the LMS. Every query that reads a record by
id also takes the learner, so one learner can never load another's row.

Quiz attempts and role-play runs also carry their placement (deployment, context, resource
link: the gradebook column they count towards). Queries that count attempts or pick the
score that counts take the placement; only the learner's history reads across placements
(docs/decisions/0011-per-placement-records.md).

Query functions take a session, may flush, never commit (the request owns the transaction).
"""

from __future__ import annotations

import enum
import hashlib
import json
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.models import Base, Launch, UTCDateTime, stored_enum, utcnow


@dataclass(frozen=True)
class LearnerKey:
    """Who a record belongs to: the LMS registration and the user's LTI ``sub`` there."""

    platform_id: int
    sub: str

    @classmethod
    def of(cls, launch: Launch) -> LearnerKey:
        return cls(platform_id=launch.platform_id, sub=launch.sub)

    def params(self) -> dict[str, Any]:
        """The values for a statement built with owned_by_param."""
        return {"owner_platform_id": self.platform_id, "owner_sub": self.sub}


def placement_key(deployment_id: str, context_id: str | None, resource_link_id: str | None) -> str:
    """The placement a record counts towards, as one fixed-length column value.

    A placement is (platform, deployment, context, resource link): what a gradebook keys a
    column by (LTI 1.3 section 5.3.5, a resource link id is unique within its deployment
    only). The platform is the record's own ``platform_id``; the rest is hashed, because the
    three ids may each be 255 characters and must sit in a unique constraint.

    WARNING: migration 0010 repeats this recipe for existing rows; change both or neither.
    """
    parts = [deployment_id, context_id or "", resource_link_id or ""]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def placement_of(launch: Launch) -> str:
    """The placement a launch runs in."""
    return placement_key(launch.deployment_id, launch.context_id, launch.resource_link_id)


def _owned_by(model: Any, learner: LearnerKey) -> tuple[ColumnElement[bool], ...]:
    """The filter every learner read goes through: one learner never sees another's rows."""
    return (model.platform_id == learner.platform_id, model.sub == learner.sub)


def owned_by_param(model: Any) -> tuple[ColumnElement[bool], ...]:
    """_owned_by for a statement built once per process, bound per call to
    ``LearnerKey.params()``. The landing page runs its reads on every launch, and building a
    select costs about twice as much CPU as running it (issue 12)."""
    return (
        model.platform_id == bindparam("owner_platform_id"),
        model.sub == bindparam("owner_sub"),
    )


class AttemptStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


class RunStatus(enum.StrEnum):
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"


class LessonView(Base):
    """The first and latest time a learner opened a lesson."""

    __tablename__ = "lesson_view"
    __table_args__ = (
        # One row per learner and lesson; a repeat view only moves last_viewed_at.
        UniqueConstraint("platform_id", "sub", "lesson_id"),
        # The progress page reads one learner's views of one course.
        Index("ix_lesson_view_learner_course", "platform_id", "sub", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[str] = mapped_column(String(80))
    lesson_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(40))
    first_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_viewed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuizAttempt(Base):
    """One attempt at a quiz: the questions drawn, in the order served, and the answers."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (
        # Numbers attempts per learner and quiz; a second "start" racing the first fails here
        # instead of giving the learner an extra attempt.
        # Numbered per placement: each gradebook column has its own attempt limit.
        UniqueConstraint("platform_id", "sub", "placement", "quiz_id", "number"),
        # The learner's history of a quiz across placements (progress page).
        Index("ix_quiz_attempt_learner_quiz", "platform_id", "sub", "quiz_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    # The launch the attempt was started in (its LMS context goes into the statements).
    launch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("launch.id", ondelete="CASCADE"))
    # placement_key() of that launch: the gradebook column the attempt counts towards.
    placement: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[str] = mapped_column(String(80))
    quiz_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(40))
    number: Mapped[int] = mapped_column(Integer)
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    # Saved answers, by question id, in the shape content.scoring takes.
    responses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[AttemptStatus] = mapped_column(
        stored_enum(AttemptStatus, "attempt_status"),
        default=AttemptStatus.IN_PROGRESS,
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    score_raw: Mapped[float | None] = mapped_column(Float, default=None)
    score_max: Mapped[float | None] = mapped_column(Float, default=None)
    score_scaled: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)


class ScenarioRun(Base):
    """One play-through of a role-play: the choices made so far and, at the end, the scores."""

    __tablename__ = "scenario_run"
    __table_args__ = (
        # The learner's history of a role-play across placements (progress page); runs of
        # one placement are a subset of these few rows.
        Index("ix_scenario_run_learner_scenario", "platform_id", "sub", "scenario_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    launch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("launch.id", ondelete="CASCADE"))
    # placement_key() of that launch: the gradebook column the run counts towards.
    placement: Mapped[str] = mapped_column(String(64))
    course_id: Mapped[str] = mapped_column(String(80))
    scenario_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(40))
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)
    # len(choices), as a plain column so "only if still at step n" is a portable WHERE.
    steps: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[RunStatus] = mapped_column(
        stored_enum(RunStatus, "run_status"),
        default=RunStatus.IN_PROGRESS,
    )
    ending_id: Mapped[str | None] = mapped_column(String(80), default=None)
    # {skill: {"raw": int, "max": int, "scaled": float}} once finished.
    skill_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class SelfAssessmentRecord(Base):
    """One completed skills self-assessment and the modules it recommended."""

    __tablename__ = "self_assessment_record"
    __table_args__ = (Index("ix_self_assessment_record_learner", "platform_id", "sub"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    launch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("launch.id", ondelete="CASCADE"))
    assessment_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(40))
    ratings: Mapped[dict[str, int]] = mapped_column(JSON)
    averages: Mapped[dict[str, float]] = mapped_column(JSON)
    modules: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- lessons ----------------------------------------------------------------------------


def record_lesson_view(
    session: Session,
    learner: LearnerKey,
    *,
    course_id: str,
    lesson_id: str,
    content_version: str,
    now: datetime | None = None,
) -> None:
    """Note that the learner opened the lesson; safe against two tabs opening it at once."""
    now = now or utcnow()
    values = {
        "platform_id": learner.platform_id,
        "sub": learner.sub,
        "course_id": course_id,
        "lesson_id": lesson_id,
        "content_version": content_version,
        "first_viewed_at": now,
        "last_viewed_at": now,
    }
    keys = ["platform_id", "sub", "lesson_id"]
    update_values = {"last_viewed_at": now, "content_version": content_version}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = (
            postgresql.insert(LessonView)
            .values(values)
            .on_conflict_do_update(index_elements=keys, set_=update_values)
        )
    elif dialect == "sqlite":
        stmt = (
            sqlite.insert(LessonView)
            .values(values)
            .on_conflict_do_update(index_elements=keys, set_=update_values)
        )
    else:  # pragma: no cover - only the two supported databases reach here
        stmt = insert(LessonView).values(values)
    session.execute(stmt)


def list_lesson_views(
    session: Session, learner: LearnerKey, course_ids: Collection[str]
) -> list[LessonView]:
    """The learner's views of lessons in these courses, first viewed first (one query for a
    whole learning path)."""
    return list(
        session.scalars(_LESSON_VIEWS, {**learner.params(), "course_ids": list(course_ids)})
    )


_LESSON_VIEWS = (
    select(LessonView)
    .where(
        *owned_by_param(LessonView),
        LessonView.course_id.in_(bindparam("course_ids", expanding=True)),
    )
    .order_by(LessonView.first_viewed_at)
)


# --- quiz attempts ------------------------------------------------------------------------


def list_attempts(
    session: Session, learner: LearnerKey, quiz_id: str, *, placement: str
) -> list[QuizAttempt]:
    """The learner's attempts at a quiz in one placement, oldest first: the ones the attempt
    limit, the counted score and the grade are about."""
    return list(
        session.scalars(
            select(QuizAttempt)
            .where(
                *_owned_by(QuizAttempt, learner),
                QuizAttempt.placement == placement,
                QuizAttempt.quiz_id == quiz_id,
            )
            .order_by(QuizAttempt.number)
        )
    )


def list_attempt_history(
    session: Session, learner: LearnerKey, quiz_ids: Collection[str]
) -> list[QuizAttempt]:
    """The learner's attempts at these quizzes in every placement, oldest first (their
    history; one query for a whole learning path)."""
    if not quiz_ids:
        return []
    return list(session.scalars(_ATTEMPT_HISTORY, {**learner.params(), "quiz_ids": list(quiz_ids)}))


_ATTEMPT_HISTORY = (
    select(QuizAttempt)
    .where(
        *owned_by_param(QuizAttempt),
        QuizAttempt.quiz_id.in_(bindparam("quiz_ids", expanding=True)),
    )
    .order_by(QuizAttempt.started_at, QuizAttempt.number)
)


def get_open_attempt(
    session: Session, learner: LearnerKey, quiz_id: str, *, placement: str
) -> QuizAttempt | None:
    return session.scalar(
        select(QuizAttempt).where(
            *_owned_by(QuizAttempt, learner),
            QuizAttempt.placement == placement,
            QuizAttempt.quiz_id == quiz_id,
            QuizAttempt.status == AttemptStatus.IN_PROGRESS,
        )
    )


def get_attempt(session: Session, learner: LearnerKey, attempt_id: uuid.UUID) -> QuizAttempt | None:
    """The attempt if it exists and is this learner's; None for anyone else's."""
    return session.scalar(
        select(QuizAttempt).where(
            QuizAttempt.id == attempt_id,
            *_owned_by(QuizAttempt, learner),
        )
    )


def add_attempt(
    session: Session,
    learner: LearnerKey,
    *,
    launch_id: uuid.UUID,
    placement: str,
    course_id: str,
    quiz_id: str,
    content_version: str,
    number: int,
    attempt_id: uuid.UUID,
    question_ids: list[str],
    now: datetime | None = None,
) -> QuizAttempt:
    attempt = QuizAttempt(
        id=attempt_id,
        platform_id=learner.platform_id,
        sub=learner.sub,
        launch_id=launch_id,
        placement=placement,
        course_id=course_id,
        quiz_id=quiz_id,
        content_version=content_version,
        number=number,
        question_ids=question_ids,
        responses={},
        status=AttemptStatus.IN_PROGRESS,
        started_at=now or utcnow(),
    )
    session.add(attempt)
    session.flush()
    return attempt


def save_responses(session: Session, attempt: QuizAttempt, responses: dict[str, Any]) -> bool:
    """Store answers on an open attempt; False when it was submitted in the meantime."""
    result = session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS)
        .values(responses=responses)
        .execution_options(synchronize_session=False)
    )
    session.refresh(attempt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def finish_attempt(
    session: Session,
    attempt: QuizAttempt,
    *,
    responses: dict[str, Any],
    raw: float,
    maximum: float,
    scaled: float,
    passed: bool,
    now: datetime | None = None,
) -> bool:
    """Close an open attempt with its score; False if another request closed it first.

    A conditional UPDATE rather than read-then-write: two submits racing each other (a
    double click, two tabs) both reach this line, and only one may win.
    """
    result = session.execute(
        update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS)
        .values(
            responses=responses,
            status=AttemptStatus.SUBMITTED,
            submitted_at=now or utcnow(),
            score_raw=raw,
            score_max=maximum,
            score_scaled=scaled,
            passed=passed,
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(attempt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def has_passed(session: Session, learner: LearnerKey, quiz_id: str, *, placement: str) -> bool:
    """Whether the learner passed the quiz in this placement."""
    count = session.scalar(
        select(func.count())
        .select_from(QuizAttempt)
        .where(
            *_owned_by(QuizAttempt, learner),
            QuizAttempt.placement == placement,
            QuizAttempt.quiz_id == quiz_id,
            QuizAttempt.passed.is_(True),
        )
    )
    return bool(count)


def list_own_launches(
    session: Session, learner: LearnerKey, launch_ids: set[uuid.UUID]
) -> list[Launch]:
    """The learner's own launches among ``launch_ids`` (where their records were made)."""
    if not launch_ids:
        return []
    return list(
        session.scalars(
            select(Launch).where(Launch.id.in_(launch_ids), *_owned_by(Launch, learner))
        )
    )


# --- scenario runs ------------------------------------------------------------------------


def list_runs(
    session: Session, learner: LearnerKey, scenario_id: str, *, placement: str
) -> list[ScenarioRun]:
    """The learner's runs of a role-play in one placement, oldest first."""
    return list(
        session.scalars(
            select(ScenarioRun)
            .where(
                *_owned_by(ScenarioRun, learner),
                ScenarioRun.placement == placement,
                ScenarioRun.scenario_id == scenario_id,
            )
            .order_by(ScenarioRun.started_at)
        )
    )


def list_run_history(
    session: Session, learner: LearnerKey, scenario_ids: Collection[str]
) -> list[ScenarioRun]:
    """The learner's runs of these role-plays in every placement, oldest first (their
    history; one query for a whole learning path)."""
    if not scenario_ids:
        return []
    return list(
        session.scalars(_RUN_HISTORY, {**learner.params(), "scenario_ids": list(scenario_ids)})
    )


_RUN_HISTORY = (
    select(ScenarioRun)
    .where(
        *owned_by_param(ScenarioRun),
        ScenarioRun.scenario_id.in_(bindparam("scenario_ids", expanding=True)),
    )
    .order_by(ScenarioRun.started_at)
)


def get_run(session: Session, learner: LearnerKey, run_id: uuid.UUID) -> ScenarioRun | None:
    """The run if it exists and is this learner's; None for anyone else's."""
    return session.scalar(
        select(ScenarioRun).where(
            ScenarioRun.id == run_id,
            *_owned_by(ScenarioRun, learner),
        )
    )


def add_run(
    session: Session,
    learner: LearnerKey,
    *,
    launch_id: uuid.UUID,
    placement: str,
    course_id: str,
    scenario_id: str,
    content_version: str,
    now: datetime | None = None,
) -> ScenarioRun:
    run = ScenarioRun(
        platform_id=learner.platform_id,
        sub=learner.sub,
        launch_id=launch_id,
        placement=placement,
        course_id=course_id,
        scenario_id=scenario_id,
        content_version=content_version,
        choices=[],
        steps=0,
        status=RunStatus.IN_PROGRESS,
        skill_scores={},
        started_at=now or utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def append_choice(
    session: Session,
    run: ScenarioRun,
    *,
    choices_before: int,
    choice_id: str,
    ending_id: str | None = None,
    skill_scores: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Add a choice if the run still has ``choices_before`` choices; False if it moved on.

    The count guard makes a repeated POST of the same step (double click, back button) a
    no-op instead of a second choice at the wrong point of the conversation.
    """
    values: dict[str, Any] = {"choices": [*run.choices, choice_id], "steps": choices_before + 1}
    if ending_id is not None:
        values.update(
            status=RunStatus.FINISHED,
            ending_id=ending_id,
            skill_scores=skill_scores or {},
            finished_at=now or utcnow(),
        )
    result = session.execute(
        update(ScenarioRun)
        .where(
            ScenarioRun.id == run.id,
            ScenarioRun.status == RunStatus.IN_PROGRESS,
            ScenarioRun.steps == choices_before,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(run)
    return bool(result.rowcount)  # type: ignore[attr-defined]


# --- self-assessment ----------------------------------------------------------------------


def add_self_assessment(
    session: Session,
    learner: LearnerKey,
    *,
    launch_id: uuid.UUID,
    assessment_id: str,
    content_version: str,
    ratings: dict[str, int],
    averages: dict[str, float],
    modules: list[str],
    now: datetime | None = None,
) -> SelfAssessmentRecord:
    record = SelfAssessmentRecord(
        platform_id=learner.platform_id,
        sub=learner.sub,
        launch_id=launch_id,
        assessment_id=assessment_id,
        content_version=content_version,
        ratings=ratings,
        averages=averages,
        modules=modules,
        created_at=now or utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def get_self_assessment(
    session: Session, learner: LearnerKey, record_id: uuid.UUID
) -> SelfAssessmentRecord | None:
    return session.scalar(
        select(SelfAssessmentRecord).where(
            SelfAssessmentRecord.id == record_id,
            *_owned_by(SelfAssessmentRecord, learner),
        )
    )


def get_latest_self_assessment(
    session: Session, learner: LearnerKey
) -> SelfAssessmentRecord | None:
    return session.scalar(_LATEST_SELF_ASSESSMENT, learner.params())


_LATEST_SELF_ASSESSMENT = (
    select(SelfAssessmentRecord)
    .where(*owned_by_param(SelfAssessmentRecord))
    .order_by(SelfAssessmentRecord.created_at.desc())
    .limit(1)
)
