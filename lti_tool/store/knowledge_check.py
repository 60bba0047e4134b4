"""Knowledge-check submissions: the server's record of each practice answer a learner sent.

Each accepted form gets a row with an id the server generated; the answers' statement ids
derive from that id, never from anything the browser sends, so no replayed or forged form
field can make a later answer look like one already recorded (issue 7, item 5).

Query functions take a session, may flush, never commit (the request owns the transaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.learning import LearnerKey, owned_by_param
from lti_tool.store.models import Base, Launch, UTCDateTime, utcnow


class KnowledgeCheckSubmission(Base):
    """One knowledge-check form a learner sent at the end of a lesson, as it was scored."""

    __tablename__ = "knowledge_check_submission"
    __table_args__ = (
        # The completion rule reads one learner's submissions in a course via their launches.
        Index("ix_knowledge_check_submission_launch_course", "launch_id", "course_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The launch carries the learner and the LMS context the statements need.
    launch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("launch.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(80))
    lesson_id: Mapped[str] = mapped_column(String(80))
    content_version: Mapped[str] = mapped_column(String(40))
    # The answers by question id, in the shape content.scoring takes.
    responses: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def record_knowledge_check(
    session: Session,
    launch: Launch,
    *,
    course_id: str,
    lesson_id: str,
    content_version: str,
    responses: Mapping[str, Any],
    now: datetime,
) -> KnowledgeCheckSubmission:
    """Keep a sent knowledge check; its fresh id is what its statements' ids come from."""
    submission = KnowledgeCheckSubmission(
        id=uuid.uuid4(),
        launch_id=launch.id,
        course_id=course_id,
        lesson_id=lesson_id,
        content_version=content_version,
        responses=dict(responses),
        submitted_at=now,
    )
    session.add(submission)
    session.flush()
    return submission


def list_answered_questions(
    session: Session, learner: LearnerKey, course_ids: Collection[str]
) -> dict[str, dict[str, set[str]]]:
    """The questions the learner has answered in each lesson's check, by course id and then
    lesson id, over every launch of theirs (a check answered through any link counts); one
    query for a whole learning path."""
    rows = session.execute(_ANSWERED, {**learner.params(), "course_ids": list(course_ids)})
    answered: dict[str, dict[str, set[str]]] = {}
    for course_id, lesson_id, responses in rows:
        answered.setdefault(course_id, {}).setdefault(lesson_id, set()).update(responses)
    return answered


# Built once: the landing page reads it on every launch (owned_by_param says why).
_ANSWERED = (
    select(
        KnowledgeCheckSubmission.course_id,
        KnowledgeCheckSubmission.lesson_id,
        KnowledgeCheckSubmission.responses,
    )
    .join(Launch, Launch.id == KnowledgeCheckSubmission.launch_id)
    # The ownership filter: one learner never reads another's answers.
    .where(
        *owned_by_param(Launch),
        KnowledgeCheckSubmission.course_id.in_(bindparam("course_ids", expanding=True)),
    )
)
