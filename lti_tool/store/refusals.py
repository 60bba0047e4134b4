"""Refused launches: the reference id a person saw on the error page, why the tool refused,
and where the launch claimed to come from, kept for a bounded time so an operator can answer
"what happened to reference 3f2a…?". Never the id_token, a state or any secret.

Flush, never commit: the caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.models import Base, UTCDateTime, utcnow

#: Kept this long, and at most this many: a flood of forged launches cannot grow the table
#: without bound.
RETENTION = timedelta(days=30)
MAX_ROWS = 10_000


class RefusedLaunch(Base):
    """One launch the tool refused, found by the reference id shown to the person."""

    __tablename__ = "refused_launch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    # Why the retention prune is cheap: it deletes by age.
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    status: Mapped[int] = mapped_column(Integer)
    endpoint: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # What the request claimed, unverified when the refusal was about verification.
    issuer: Mapped[str | None] = mapped_column(String(500), default=None)
    client_id: Mapped[str | None] = mapped_column(String(255), default=None)
    deployment_id: Mapped[str | None] = mapped_column(String(255), default=None)


def _clip(value: object, length: int) -> str | None:
    return value[:length] if isinstance(value, str) and value else None


def record_refusal(
    session: Session,
    *,
    reference: str,
    status: int,
    endpoint: str,
    reason: str,
    issuer: object = None,
    client_id: object = None,
    deployment_id: object = None,
    now: datetime | None = None,
) -> RefusedLaunch:
    now = now or utcnow()
    row = RefusedLaunch(
        reference=reference[:32],
        at=now,
        status=status,
        endpoint=endpoint[:64],
        reason=reason[:2000],
        issuer=_clip(issuer, 500),
        client_id=_clip(client_id, 255),
        deployment_id=_clip(deployment_id, 255),
    )
    session.add(row)
    session.flush()
    # Bounded retention in the same statement as nothing else: older than RETENTION, or
    # further back than MAX_ROWS ids.
    session.execute(
        delete(RefusedLaunch)
        .where(or_(RefusedLaunch.at < now - RETENTION, RefusedLaunch.id <= row.id - MAX_ROWS))
        .execution_options(synchronize_session=False)
    )
    return row


def find_refusal(session: Session, reference: str) -> RefusedLaunch | None:
    """The refusal with this reference id; people paste it with spaces or capitals."""
    cleaned = reference.strip().lower()
    if not cleaned:
        return None
    return session.scalar(select(RefusedLaunch).where(RefusedLaunch.reference == cleaned))


def count_refusals_since(session: Session, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(RefusedLaunch).where(RefusedLaunch.at >= since)
        )
        or 0
    )


def list_refusals(session: Session, limit: int = 50) -> list[RefusedLaunch]:
    return list(
        session.scalars(select(RefusedLaunch).order_by(RefusedLaunch.id.desc()).limit(limit))
    )
