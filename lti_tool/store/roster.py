"""A course's membership as the LMS last told it (LTI NRPS), with when it was read.

One set of rows per (platform, context): a refresh replaces the whole set, so a member the
LMS no longer lists is gone, and the fetch row says how old the set is and why the last
refresh failed, if it did. Query functions take a session, may flush, never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.models import Base, UTCDateTime, utcnow


class RosterMember(Base):
    """One person of an LMS course, as its membership service listed them."""

    __tablename__ = "roster_member"
    __table_args__ = (
        # One row per person and course; the class view reads a course's rows together.
        UniqueConstraint("platform_id", "context_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    # The LTI user id: the same value as a launch's ``sub`` (NRPS 2.0 section 2.3).
    user_id: Mapped[str] = mapped_column(String(255))
    # Active, Inactive or Deleted (NRPS 2.0 section 2.3).
    status: Mapped[str] = mapped_column(String(16))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)


class RosterFetch(Base):
    """When a course's membership was last read, and the last refresh's failure."""

    __tablename__ = "roster_fetch"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    # When the stored members were read (None: never read successfully).
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # When a refresh was last tried, successful or not: failures are not retried on every
    # page view.
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


@dataclass(frozen=True)
class MemberRecord:
    """What the store keeps of a member (built by the web side from the NRPS client's)."""

    user_id: str
    status: str
    roles: tuple[str, ...]
    name: str | None
    email: str | None


def get_fetch(session: Session, platform_id: int, context_id: str) -> RosterFetch | None:
    return session.scalar(
        select(RosterFetch).where(
            RosterFetch.platform_id == platform_id, RosterFetch.context_id == context_id
        )
    )


def list_members(session: Session, platform_id: int, context_id: str) -> list[RosterMember]:
    return list(
        session.scalars(
            select(RosterMember)
            .where(RosterMember.platform_id == platform_id, RosterMember.context_id == context_id)
            .order_by(RosterMember.name, RosterMember.user_id)
        )
    )


def _fetch_row(session: Session, platform_id: int, context_id: str) -> RosterFetch:
    row = get_fetch(session, platform_id, context_id)
    if row is None:
        row = RosterFetch(platform_id=platform_id, context_id=context_id)
        session.add(row)
    return row


def replace_members(
    session: Session,
    platform_id: int,
    context_id: str,
    members: Sequence[MemberRecord],
    *,
    now: datetime | None = None,
) -> None:
    """Store a fresh membership in place of the old one."""
    now = now or utcnow()
    session.execute(
        delete(RosterMember).where(
            RosterMember.platform_id == platform_id, RosterMember.context_id == context_id
        )
    )
    session.add_all(
        RosterMember(
            platform_id=platform_id,
            context_id=context_id,
            user_id=m.user_id,
            status=m.status,
            roles=list(m.roles),
            name=m.name,
            email=m.email,
        )
        for m in {m.user_id: m for m in members}.values()
    )
    row = _fetch_row(session, platform_id, context_id)
    row.fetched_at = now
    row.attempted_at = now
    row.last_error = None
    session.flush()


def record_failure(
    session: Session, platform_id: int, context_id: str, error: str, *, now: datetime | None = None
) -> None:
    """Keep the stored members; note the failed refresh and its reason."""
    row = _fetch_row(session, platform_id, context_id)
    row.attempted_at = now or utcnow()
    row.last_error = error[:1000]
    session.flush()
