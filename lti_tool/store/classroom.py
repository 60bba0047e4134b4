"""What an instructor sees of one LMS course: who launched, their quiz attempts, role-play
runs, lesson views and grade sync rows, read in a fixed number of queries however large the
class; plus the instructors' actions on learners' records (who, when, what).

The course is (platform, context_id): a record belongs to it when it was made in a launch
from that course (the record's launch row), so an instructor of one course never reads
another's. Query functions take a session, may flush, never commit.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    case,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.grades import GradeRow, GradeStatus
from lti_tool.store.learning import (
    AttemptStatus,
    LessonView,
    QuizAttempt,
    ScenarioRun,
)
from lti_tool.store.models import Base, Launch, UTCDateTime, utcnow


@dataclass(frozen=True)
class CourseKey:
    """One LMS course: the registration and the LTI context id there."""

    platform_id: int
    context_id: str

    @classmethod
    def of(cls, launch: Launch) -> CourseKey | None:
        if not launch.context_id:
            return None
        return cls(launch.platform_id, launch.context_id)


class ActionKind(enum.StrEnum):
    GRANT_ATTEMPT = "grant_attempt"
    RESET_ATTEMPT = "reset_attempt"
    RESEND_GRADE = "resend_grade"


class InstructorAction(Base):
    """One change an instructor made to a learner's records, and who made it when."""

    __tablename__ = "instructor_action"
    __table_args__ = (
        # The quiz page counts a learner's granted attempts at one quiz.
        Index("ix_instructor_action_learner", "platform_id", "learner_sub", "action", "quiz_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    # The instructor (LTI sub of their launch) and their name then.
    actor_sub: Mapped[str] = mapped_column(String(255))
    actor_name: Mapped[str | None] = mapped_column(String(255), default=None)
    action: Mapped[str] = mapped_column(String(32))
    learner_sub: Mapped[str] = mapped_column(String(255))
    quiz_id: Mapped[str | None] = mapped_column(String(80), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- the class ----------------------------------------------------------------------------


def _in_course(course: CourseKey) -> tuple[ColumnElement[bool], ...]:
    """Records made in the course's launches (the query joins ``launch`` on launch_id):
    a join on the launch's primary key, which PostgreSQL plans well however many rows."""
    return (Launch.platform_id == course.platform_id, Launch.context_id == course.context_id)


def _course_subs(course: CourseKey) -> Select[str]:
    return select(Launch.sub).where(
        Launch.platform_id == course.platform_id, Launch.context_id == course.context_id
    )


@dataclass(frozen=True)
class Launcher:
    sub: str
    name: str | None
    email: str | None
    roles: tuple[str, ...]
    last_launch_at: datetime


def list_launchers(session: Session, course: CourseKey) -> list[Launcher]:
    """Everyone who launched in the course, with their latest name, email and roles."""
    latest: dict[str, Launcher] = {}
    rows = session.execute(
        select(Launch.sub, Launch.name, Launch.email, Launch.roles, Launch.created_at)
        .where(Launch.platform_id == course.platform_id, Launch.context_id == course.context_id)
        .order_by(Launch.created_at)
    )
    for sub, name, email, roles, at in rows:
        latest[sub] = Launcher(sub, name, email, tuple(roles or ()), at)
    return list(latest.values())


@dataclass(frozen=True)
class QuizTally:
    """One learner's attempts at one quiz in the course, summed up by the database."""

    sub: str
    course_id: str
    quiz_id: str
    attempts: int
    open: int
    best: float | None
    passed: bool
    last_at: datetime | None
    # Seconds between start and submission, over the submitted attempts.
    seconds: float


def _seconds_between(session: Session, start: Any, end: Any) -> Any:
    # Date arithmetic is the one thing the two databases spell differently.
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _as_time(value: Any) -> datetime | None:
    # An aggregate bypasses the column type: SQLite hands back text or a naive time.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=utcnow().tzinfo)
    return value  # type: ignore[no-any-return]


def tally_course_attempts(session: Session, course: CourseKey) -> list[QuizTally]:
    """Per learner and quiz: attempts, unfinished ones, best score, passed, last activity
    and time spent, aggregated in SQL so 15 000 attempts come back as one row per learner
    and quiz."""
    submitted = QuizAttempt.status == AttemptStatus.SUBMITTED
    rows = session.execute(
        select(
            QuizAttempt.sub,
            QuizAttempt.course_id,
            QuizAttempt.quiz_id,
            func.count(),
            func.sum(case((submitted, 0), else_=1)),
            func.max(case((submitted, QuizAttempt.score_scaled))),
            func.max(case((QuizAttempt.passed.is_(True), 1), else_=0)),
            func.max(func.coalesce(QuizAttempt.submitted_at, QuizAttempt.started_at)),
            func.sum(
                case(
                    (
                        submitted,
                        _seconds_between(session, QuizAttempt.started_at, QuizAttempt.submitted_at),
                    ),
                    else_=0,
                )
            ),
        )
        .join(Launch, Launch.id == QuizAttempt.launch_id)
        .where(
            QuizAttempt.platform_id == course.platform_id,
            *_in_course(course),
        )
        .group_by(QuizAttempt.sub, QuizAttempt.course_id, QuizAttempt.quiz_id)
    )
    return [
        QuizTally(
            sub=sub,
            course_id=course_id,
            quiz_id=quiz_id,
            attempts=int(count),
            open=int(still_open or 0),
            best=float(best) if best is not None else None,
            passed=bool(passed),
            last_at=_as_time(last_at),
            seconds=float(seconds or 0.0),
        )
        for sub, course_id, quiz_id, count, still_open, best, passed, last_at, seconds in rows
    ]


def last_scores(session: Session, course: CourseKey) -> dict[str, float]:
    """Each learner's score in their latest submitted attempt in the course (any quiz)."""
    ranked = (
        select(
            QuizAttempt.sub.label("sub"),
            QuizAttempt.score_scaled.label("score"),
            func.row_number()
            .over(partition_by=QuizAttempt.sub, order_by=QuizAttempt.submitted_at.desc())
            .label("rank"),
        )
        .join(Launch, Launch.id == QuizAttempt.launch_id)
        .where(
            QuizAttempt.platform_id == course.platform_id,
            *_in_course(course),
            QuizAttempt.status == AttemptStatus.SUBMITTED,
            QuizAttempt.score_scaled.is_not(None),
        )
        .subquery()
    )
    rows = session.execute(select(ranked.c.sub, ranked.c.score).where(ranked.c.rank == 1))
    return {sub: float(score) for sub, score in rows}


@dataclass(frozen=True)
class AnsweredAttempt:
    sub: str
    question_ids: list[str]
    responses: dict[str, Any]
    score_scaled: float | None


def list_submitted_answers(
    session: Session, course: CourseKey, quiz_id: str
) -> list[AnsweredAttempt]:
    """The submitted attempts at one quiz in the course, with their answers."""
    rows = session.execute(
        select(
            QuizAttempt.sub,
            QuizAttempt.question_ids,
            QuizAttempt.responses,
            QuizAttempt.score_scaled,
        )
        .join(Launch, Launch.id == QuizAttempt.launch_id)
        .where(
            QuizAttempt.platform_id == course.platform_id,
            *_in_course(course),
            QuizAttempt.quiz_id == quiz_id,
            QuizAttempt.status == AttemptStatus.SUBMITTED,
        )
    )
    return [AnsweredAttempt(s, list(q or []), dict(r or {}), sc) for s, q, r, sc in rows]


@dataclass(frozen=True)
class RunSummary:
    sub: str
    course_id: str
    scenario_id: str
    finished: bool
    ending_id: str | None
    skill_scores: dict[str, Any]
    started_at: datetime
    finished_at: datetime | None


def list_course_runs(session: Session, course: CourseKey) -> list[RunSummary]:
    rows = session.execute(
        select(
            ScenarioRun.sub,
            ScenarioRun.course_id,
            ScenarioRun.scenario_id,
            ScenarioRun.status,
            ScenarioRun.ending_id,
            ScenarioRun.skill_scores,
            ScenarioRun.started_at,
            ScenarioRun.finished_at,
        )
        .join(Launch, Launch.id == ScenarioRun.launch_id)
        .where(
            ScenarioRun.platform_id == course.platform_id,
            *_in_course(course),
        )
        .order_by(ScenarioRun.started_at)
    )
    return [
        RunSummary(sub, cid, sid, str(status) == "finished", end, dict(scores or {}), s, f)
        for sub, cid, sid, status, end, scores, s, f in rows
    ]


def last_lesson_views(session: Session, course: CourseKey) -> dict[str, datetime]:
    """Per learner of the course, when they last opened any lesson (lesson views are the
    learner's, not the launch's: the course's learners are those who launched in it)."""
    rows = session.execute(
        select(LessonView.sub, func.max(LessonView.last_viewed_at))
        .where(
            LessonView.platform_id == course.platform_id,
            LessonView.sub.in_(_course_subs(course)),
        )
        .group_by(LessonView.sub)
    )
    result: dict[str, datetime] = {}
    for sub, at in rows:
        when = _as_time(at)
        if when is not None:
            result[sub] = when
    return result


@dataclass(frozen=True)
class GradeSummary:
    id: int
    sub: str
    label: str
    target_key: str
    status: GradeStatus
    score_given: float
    score_maximum: float
    last_error: str | None
    sent_at: datetime | None
    lms_score: float | None
    lms_maximum: float | None
    overridden_at: datetime | None


def list_latest_grades(session: Session, course: CourseKey) -> list[GradeSummary]:
    """Each learner's latest grade row per line item in the course (superseded rows are
    history), oldest first."""
    rows = session.execute(
        select(
            GradeRow.id,
            GradeRow.sub,
            GradeRow.label,
            GradeRow.target_key,
            GradeRow.status,
            GradeRow.score_given,
            GradeRow.score_maximum,
            GradeRow.last_error,
            GradeRow.sent_at,
            GradeRow.lms_score,
            GradeRow.lms_maximum,
            GradeRow.overridden_at,
        )
        .where(
            GradeRow.platform_id == course.platform_id,
            GradeRow.context_id == course.context_id,
            GradeRow.status != GradeStatus.SUPERSEDED,
        )
        .order_by(GradeRow.id)
    )
    latest: dict[tuple[str, str], GradeSummary] = {}
    for row in rows:
        summary = GradeSummary(*tuple(row))
        latest[(summary.sub, summary.target_key)] = summary
    return list(latest.values())


def get_course_grade(session: Session, course: CourseKey, grade_id: int) -> GradeRow | None:
    """A grade row of this course (None for another course's)."""
    return session.scalar(
        select(GradeRow).where(
            GradeRow.id == grade_id,
            GradeRow.platform_id == course.platform_id,
            GradeRow.context_id == course.context_id,
        )
    )


# --- attempts an instructor changes -----------------------------------------------------


def count_granted_attempts(session: Session, course: CourseKey) -> dict[tuple[str, str], int]:
    """Extra attempts granted in the course, per (learner, quiz)."""
    rows = session.execute(
        select(InstructorAction.learner_sub, InstructorAction.quiz_id, func.count())
        .where(
            InstructorAction.platform_id == course.platform_id,
            InstructorAction.context_id == course.context_id,
            InstructorAction.action == ActionKind.GRANT_ATTEMPT.value,
        )
        .group_by(InstructorAction.learner_sub, InstructorAction.quiz_id)
    )
    return {(sub, quiz): int(n) for sub, quiz, n in rows if quiz}


def granted_attempts(session: Session, platform_id: int, sub: str, quiz_id: str) -> int:
    """Extra attempts any instructor granted this learner at this quiz (the quiz page adds
    them to the quiz's allowance)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(InstructorAction)
            .where(
                InstructorAction.platform_id == platform_id,
                InstructorAction.learner_sub == sub,
                InstructorAction.action == ActionKind.GRANT_ATTEMPT.value,
                InstructorAction.quiz_id == quiz_id,
            )
        )
        or 0
    )


def get_course_open_attempt(
    session: Session, course: CourseKey, sub: str, quiz_id: str
) -> QuizAttempt | None:
    """The learner's unfinished attempt at the quiz, if it was started in this course."""
    return session.scalar(
        select(QuizAttempt)
        .join(Launch, Launch.id == QuizAttempt.launch_id)
        .where(
            QuizAttempt.platform_id == course.platform_id,
            QuizAttempt.sub == sub,
            QuizAttempt.quiz_id == quiz_id,
            QuizAttempt.status == AttemptStatus.IN_PROGRESS,
            *_in_course(course),
        )
    )


def discard_attempt(session: Session, attempt: QuizAttempt) -> None:
    """Remove an unfinished attempt: the learner starts afresh without spending one (it is
    always their highest-numbered, so numbering stays gapless)."""
    session.execute(
        delete(QuizAttempt).where(
            QuizAttempt.id == attempt.id, QuizAttempt.status == AttemptStatus.IN_PROGRESS
        )
    )
    session.flush()


def record_action(
    session: Session,
    course: CourseKey,
    *,
    actor: Launch,
    action: ActionKind,
    learner_sub: str,
    quiz_id: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> InstructorAction:
    row = InstructorAction(
        platform_id=course.platform_id,
        context_id=course.context_id,
        actor_sub=actor.sub,
        actor_name=(actor.name or "")[:255] or None,
        action=action.value,
        learner_sub=learner_sub,
        quiz_id=quiz_id,
        detail=detail or {},
        created_at=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def list_actions(session: Session, course: CourseKey, limit: int = 50) -> list[InstructorAction]:
    """The course's latest instructor actions, newest first."""
    return list(
        session.scalars(
            select(InstructorAction)
            .where(
                InstructorAction.platform_id == course.platform_id,
                InstructorAction.context_id == course.context_id,
            )
            .order_by(InstructorAction.id.desc())
            .limit(limit)
        )
    )


def get_learner_launch(session: Session, course: CourseKey, sub: str) -> Launch | None:
    """The learner's latest launch in the course (their name and LMS context for xAPI)."""
    return session.scalar(
        select(Launch)
        .where(
            Launch.platform_id == course.platform_id,
            Launch.context_id == course.context_id,
            Launch.sub == sub,
        )
        .order_by(Launch.created_at.desc())
        .limit(1)
    )
