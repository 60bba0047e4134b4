"""Open Badges issued for achieved goals, their revocation, and the issuer's signing keys.

A badge row is the durable fact "this learner achieved this goal": written once per goal
(idempotent), with its place in the revocation list. The signed credential (VC-JWT) is stored
on the row the first time it is needed, so the goal engine can award a badge without knowing
the issuer's settings. Query functions take a session, may flush, never commit.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.store.goals import Goal, GoalStatus
from lti_tool.store.keys import new_sealed_key_pair, open_private_key
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Base, UTCDateTime, utcnow


class BadgeIssuerKey(Base):
    """An RSA key the issuer signs credentials with.

    Unlike the LTI tool keys these are never dropped: a badge must verify for as long as it
    is kept, so a rotated key stops signing (``retired_at``) but stays published.
    """

    __tablename__ = "badge_issuer_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # RFC 7638 thumbprint; the JWT's kid is the URL that serves this key.
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class IssuedBadge(Base):
    """One OpenBadgeCredential awarded for one achieved goal."""

    __tablename__ = "issued_badge"
    __table_args__ = (
        # `cxa badges list` and a learner's own badges read by learner, newest first.
        Index("ix_issued_badge_learner", "platform_id", "sub", "issued_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The credential's public id (its URL and the verification page); never the row id.
    public_id: Mapped[uuid.UUID] = mapped_column(unique=True, default=uuid.uuid4)
    # Unique: one credential per achieved goal, however often the engine says "achieved".
    # SET NULL, not CASCADE: a credential in someone's wallet outlives the goal row.
    goal_id: Mapped[int | None] = mapped_column(
        ForeignKey("goal.id", ondelete="SET NULL"), unique=True
    )
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    # The goal template it rewards, or "goal-<goal public id>" for a goal set from scratch.
    achievement_key: Mapped[str] = mapped_column(String(120))
    achievement_name: Mapped[str] = mapped_column(String(300))
    skill: Mapped[str | None] = mapped_column(String(80), default=None)
    # Opaque recipient id (credentialSubject.id) and the salt of the hashed LTI user id: a
    # public credential names nobody.
    subject_id: Mapped[uuid.UUID] = mapped_column(default=uuid.uuid4)
    identity_salt: Mapped[str] = mapped_column(String(64))
    # The credential's bit in the revocation list (Bitstring Status List index).
    status_index: Mapped[int] = mapped_column(Integer, unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The Compact JWS, once signed (see the module docstring), and the key that signed it.
    credential_jws: Mapped[str | None] = mapped_column(Text, default=None)
    signed_kid: Mapped[str | None] = mapped_column(String(64), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_reason: Mapped[str | None] = mapped_column(String(500), default=None)

    @property
    def learner(self) -> LearnerKey:
        return LearnerKey(platform_id=self.platform_id, sub=self.sub)


def achievement_key_of(goal: Goal) -> str:
    return goal.template_id or f"goal-{goal.public_id}"


def get_badge_for_goal(session: Session, goal_id: int) -> IssuedBadge | None:
    return session.scalars(select(IssuedBadge).where(IssuedBadge.goal_id == goal_id)).first()


def issue_for_goal(session: Session, goal: Goal, *, now: datetime) -> IssuedBadge:
    """The badge for an achieved goal, awarding it on the first call (idempotent).

    ValueError for a goal that is not achieved: a badge is never awarded ahead of the goal.
    """
    if goal.status is not GoalStatus.ACHIEVED:
        raise ValueError(f"goal {goal.public_id} is {goal.status.value}, not achieved")
    existing = get_badge_for_goal(session, goal.id)
    if existing is not None:
        return existing
    for _ in range(5):
        last_index = session.scalar(select(func.coalesce(func.max(IssuedBadge.status_index), -1)))
        badge = IssuedBadge(
            goal_id=goal.id,
            platform_id=goal.platform_id,
            sub=goal.sub,
            achievement_key=achievement_key_of(goal),
            achievement_name=goal.title,
            skill=goal.skill,
            identity_salt=secrets.token_hex(16),
            status_index=int(last_index if last_index is not None else -1) + 1,
            issued_at=goal.ended_at or now,
        )
        try:
            # A savepoint: a concurrent award (same goal, or the same next index) loses
            # cleanly and the caller's transaction stays usable.
            with session.begin_nested():
                session.add(badge)
        except IntegrityError:
            existing = get_badge_for_goal(session, goal.id)
            if existing is not None:
                return existing
            continue  # another badge took the index: take the next one
        return badge
    raise RuntimeError("could not reserve a revocation-list index")


def get_badge(session: Session, public_id: uuid.UUID) -> IssuedBadge | None:
    return session.scalars(select(IssuedBadge).where(IssuedBadge.public_id == public_id)).first()


def get_badge_by_achievement(session: Session, key: str) -> IssuedBadge | None:
    """Any badge of this achievement: a from-scratch goal's achievement exists only through it."""
    return session.scalars(
        select(IssuedBadge).where(IssuedBadge.achievement_key == key).limit(1)
    ).first()


def get_own_badge(
    session: Session, public_id: uuid.UUID, learner: LearnerKey
) -> IssuedBadge | None:
    """The badge if it belongs to ``learner``; None for anyone else's (so the page says 404)."""
    return session.scalars(
        select(IssuedBadge).where(
            IssuedBadge.public_id == public_id,
            IssuedBadge.platform_id == learner.platform_id,
            IssuedBadge.sub == learner.sub,
        )
    ).first()


def list_own_badges(session: Session, learner: LearnerKey) -> list[IssuedBadge]:
    return list(
        session.scalars(
            select(IssuedBadge)
            .where(IssuedBadge.platform_id == learner.platform_id, IssuedBadge.sub == learner.sub)
            .order_by(IssuedBadge.issued_at.desc(), IssuedBadge.id.desc())
        )
    )


def list_badges(session: Session, *, limit: int = 200) -> list[IssuedBadge]:
    return list(
        session.scalars(
            select(IssuedBadge)
            .order_by(IssuedBadge.issued_at.desc(), IssuedBadge.id.desc())
            .limit(limit)
        )
    )


def revoke_badge(session: Session, badge: IssuedBadge, *, reason: str, now: datetime) -> bool:
    """Revoke once; False if it already was (the first reason and date stand)."""
    if badge.revoked_at is not None:
        return False
    badge.revoked_at = now
    badge.revoked_reason = reason
    session.flush()
    return True


def revoked_indices(session: Session) -> list[int]:
    return list(
        session.scalars(select(IssuedBadge.status_index).where(IssuedBadge.revoked_at.is_not(None)))
    )


def store_signature(session: Session, badge: IssuedBadge, compact_jws: str, kid: str) -> str:
    """Keep the first signature: a concurrent first view that signed too loses to it."""
    session.execute(
        update(IssuedBadge)
        .where(IssuedBadge.id == badge.id, IssuedBadge.credential_jws.is_(None))
        .values(credential_jws=compact_jws, signed_kid=kid)
    )
    session.refresh(badge)
    assert badge.credential_jws is not None
    return badge.credential_jws


# --- issuer keys ------------------------------------------------------------------------


def _new_issuer_key(secret: str, now: datetime) -> BadgeIssuerKey:
    pair = new_sealed_key_pair(secret)
    return BadgeIssuerKey(
        kid=pair.kid,
        private_key_encrypted=pair.private_key_encrypted,
        public_jwk=pair.public_jwk,
        created_at=now,
    )


def _current_key(session: Session) -> BadgeIssuerKey | None:
    return session.scalars(
        select(BadgeIssuerKey)
        .where(BadgeIssuerKey.retired_at.is_(None))
        .order_by(BadgeIssuerKey.created_at.desc(), BadgeIssuerKey.id.desc())
        .limit(1)
    ).first()


def require_issuer_key(session: Session, secret: str, *, now: datetime) -> tuple[str, str]:
    """(kid, private PEM) of the signing key, creating the first one on first use.

    Two first uses at once may each create a key; both stay published, the newer signs.
    """
    key = _current_key(session)
    if key is None:
        key = _new_issuer_key(secret, now)
        session.add(key)
        session.flush()
    return key.kid, open_private_key(secret, key.private_key_encrypted)


def rotate_issuer_key(session: Session, secret: str, *, now: datetime) -> str:
    """A new signing key; earlier ones stop signing but stay published for verification."""
    session.execute(
        update(BadgeIssuerKey).where(BadgeIssuerKey.retired_at.is_(None)).values(retired_at=now)
    )
    key = _new_issuer_key(secret, now)
    session.add(key)
    session.flush()
    return key.kid


def get_issuer_public_jwk(session: Session, kid: str) -> dict[str, Any] | None:
    key = session.scalars(select(BadgeIssuerKey).where(BadgeIssuerKey.kid == kid)).first()
    return dict(key.public_jwk) if key is not None else None
