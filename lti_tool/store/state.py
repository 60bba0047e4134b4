"""Launch state rows (OIDC state, nonces) for the database-backed state store."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lti_tool.store.models import LaunchState, utcnow


def put_state(session: Session, key: str, value: str, ttl_seconds: int) -> None:
    expires = utcnow() + timedelta(seconds=ttl_seconds)
    row = session.get(LaunchState, key)
    if row is None:
        session.add(LaunchState(key=key, value=value, expires_at=expires))
    else:
        row.value, row.expires_at = value, expires
    session.flush()


def get_state(session: Session, key: str) -> str | None:
    stmt = select(LaunchState.value).where(
        LaunchState.key == key, LaunchState.expires_at > utcnow()
    )
    return session.scalars(stmt).first()


def take_state(session: Session, key: str) -> str | None:
    """Delete and return an unexpired value; of two concurrent takers only one gets it."""
    stmt = (
        delete(LaunchState)
        .where(LaunchState.key == key, LaunchState.expires_at > utcnow())
        .returning(LaunchState.value)
    )
    return session.execute(stmt).scalars().first()


def purge_expired_state(session: Session, now: datetime | None = None) -> int:
    result = session.execute(delete(LaunchState).where(LaunchState.expires_at <= (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
