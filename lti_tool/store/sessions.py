"""Queries for learner sessions (the launch a URL token names). Never commit."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, bindparam, delete, insert, inspect, select, update
from sqlalchemy.orm import Session, joinedload

from lti_tool.store.db import attach_inserted
from lti_tool.store.models import Launch, LaunchSession

#: How stale last_seen_at may get before a request refreshes it: page views within a minute
#: of each other cost no write, and the idle timeout is exact to within this.
TOUCH_INTERVAL = timedelta(minutes=1)

#: Shortest session reference an operator may revoke by (what log lines show): 48 bits, so
#: a reference names one session among any realistic number.
MIN_REFERENCE_LENGTH = 12


def session_id_of(token: str) -> str:
    """The row id of the session a URL token names: only this hash is stored, never the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def add_session(
    session: Session, launch: Launch, session_id: str, *, now: datetime, lifetime: timedelta
) -> LaunchSession:
    if inspect(launch).pending:  # its row must exist before ours refers to it
        session.flush()
    values = {
        "id": session_id,
        "launch_id": launch.id,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + lifetime,
        "revoked_at": None,
    }
    # A Core insert, as for the launch row (store/launches.py says why).
    session.connection().execute(_INSERT_SESSION, values)
    return attach_inserted(session, LaunchSession(**values, launch=launch))


_INSERT_SESSION = insert(LaunchSession)


def get_session(session: Session, session_id: str) -> LaunchSession | None:
    """The session, its launch and the launch's platform in one primary-key read (every
    learner page asks, and every page shows or records something of the platform)."""
    return session.scalar(_SESSION_WITH_LAUNCH, {"session_id": session_id})


# Built once per process: session.get would build this select on every page (issue 12).
_SESSION_WITH_LAUNCH = (
    select(LaunchSession)
    .where(LaunchSession.id == bindparam("session_id"))
    .options(joinedload(LaunchSession.launch).joinedload(Launch.platform))
)


def touch_session(session: Session, record: LaunchSession, now: datetime) -> bool:
    """Record activity if the last record is over a minute old; True if a row was written."""
    if now - record.last_seen_at < TOUCH_INTERVAL:
        return False
    # Conditional, so concurrent requests of one learner write once, not once each.
    result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        update(LaunchSession)
        .where(
            LaunchSession.id == record.id,
            LaunchSession.last_seen_at <= now - TOUCH_INTERVAL,
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    record.last_seen_at = now
    return result.rowcount > 0


def revoke_sessions(
    session: Session,
    *,
    now: datetime,
    platform_id: int | None = None,
    sub: str | None = None,
    reference: str | None = None,
) -> int:
    """End the live sessions of a platform, of one learner (platform and sub) or one session
    (a reference: the session id or its first characters, as log lines show it).

    Returns how many were revoked. ValueError when the selection is empty or ambiguous.
    """
    live = LaunchSession.revoked_at.is_(None) & (LaunchSession.expires_at > now)
    if reference is not None:
        reference = reference.strip().lower()
        if len(reference) < MIN_REFERENCE_LENGTH or any(
            c not in "0123456789abcdef" for c in reference
        ):
            raise ValueError(
                f"a session reference is {MIN_REFERENCE_LENGTH} to 64 hex characters "
                "(as log lines show it after /s/~)"
            )
        ids = list(
            session.scalars(
                select(LaunchSession.id).where(LaunchSession.id.startswith(reference)).limit(2)
            )
        )
        if len(ids) > 1:
            raise ValueError(f"session reference {reference} names more than one session")
        condition = live & LaunchSession.id.in_(ids)
    elif platform_id is not None:
        launches = select(Launch.id).where(Launch.platform_id == platform_id)
        if sub is not None:
            launches = launches.where(Launch.sub == sub)
        condition = live & LaunchSession.launch_id.in_(launches)
    else:
        raise ValueError("name a platform, a platform and user, or a session")
    result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        update(LaunchSession)
        .where(condition)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def purge_sessions(session: Session, *, now: datetime, idle: timedelta) -> int:
    """Delete sessions that can never be used again (expired, idle or revoked)."""
    result: CursorResult[tuple[()]] = session.execute(  # type: ignore[assignment]
        delete(LaunchSession)
        .where(
            (LaunchSession.expires_at <= now)
            | (LaunchSession.last_seen_at <= now - idle)
            | LaunchSession.revoked_at.is_not(None)
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def list_sessions(
    session: Session, *, platform_id: int, sub: str | None = None
) -> list[LaunchSession]:
    query = (
        select(LaunchSession)
        .join(LaunchSession.launch)
        .where(Launch.platform_id == platform_id)
        .options(joinedload(LaunchSession.launch))
        .order_by(LaunchSession.created_at)
    )
    if sub is not None:
        query = query.where(Launch.sub == sub)
    return list(session.scalars(query))
