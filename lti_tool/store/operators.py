"""Operator accounts for the console at /admin: argon2 password hashes, server-side console
sessions, sign-in throttling and the audit log of every change an operator makes.

Flush, never commit: the request or the command owns the transaction (decision 0014).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    delete,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lti_tool.errors import ToolError
from lti_tool.store.models import Base, UTCDateTime, utcnow

#: argon2id with the library's defaults (RFC 9106's second recommended option).
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the name is unknown, so an unknown name costs what a wrong
    password costs and the response time does not say which names exist. Made on first
    use: hashing at import would slow every `cxa` command and worker start."""
    return _HASHER.hash("not-a-password-of-anyone")


#: Failed sign-ins that lock an account name, and those that lock a client address, within
#: one window; the lock then lasts LOCKOUT. An address gets more: offices share addresses.
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)

#: A console session ends after this long without a request, and at most this long after
#: sign-in, whatever the activity.
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=8)

MIN_PASSWORD_LENGTH = 12
_NAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")


class OperatorError(ToolError):
    """Raised when an operator account cannot be created or changed as asked."""

    title = "Operator account not changed"


class Operator(Base):
    """A person who may sign in to the operator console."""

    __tablename__ = "operator"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # argon2id, in the PHC string format (algorithm, parameters and salt included).
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class OperatorSession(Base):
    """A signed-in console: the cookie holds a random token, the row its hash, so a session
    can be revoked (sign-out, disabling, a new password) and a database leak signs no one in."""

    __tablename__ = "operator_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operator.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    operator: Mapped[Operator] = relationship()


class SignInThrottle(Base):
    """Recent failed sign-ins of one account name or client address (whether or not the
    name exists, so a lockout says nothing about which names do)."""

    __tablename__ = "operator_sign_in_throttle"

    # "account:<name>" or "address:<ip>".
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class AuditEntry(Base):
    """One change an operator made: who, what, to what, when. Rows are only ever added."""

    __tablename__ = "operator_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # "console:<operator name>" or "cli:<system user>": the CLI changes the same things.
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(500), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        at=now or utcnow(), actor=actor[:100], action=action, target=target, detail=detail
    )
    session.add(entry)
    session.flush()
    return entry


def list_audit(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


# --- accounts ---------------------------------------------------------------------------


def _require_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise OperatorError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def add_operator(session: Session, name: str, password: str) -> Operator:
    name = name.strip().lower()
    if not _NAME.match(name):
        raise OperatorError(
            "an operator name is 2-64 characters: lower-case letters, digits, '.', '_', '@', '-'"
        )
    _require_password(password)
    if get_operator(session, name) is not None:
        raise OperatorError(f"an operator named {name!r} already exists")
    operator = Operator(name=name, password_hash=_HASHER.hash(password))
    session.add(operator)
    session.flush()
    return operator


def get_operator(session: Session, name: str) -> Operator | None:
    return session.scalar(select(Operator).where(Operator.name == name.strip().lower()))


def require_operator(session: Session, name: str) -> Operator:
    found = get_operator(session, name)
    if found is None:
        raise OperatorError(f"no operator named {name!r} (see `cxa operators list`)")
    return found


def list_operators(session: Session) -> list[Operator]:
    return list(session.scalars(select(Operator).order_by(Operator.name)))


def set_password(session: Session, operator: Operator, password: str) -> None:
    """A new password; the operator's console sessions end (a reset is often a response
    to a leak)."""
    _require_password(password)
    operator.password_hash = _HASHER.hash(password)
    revoke_operator_sessions(session, operator)
    session.flush()


def set_disabled(session: Session, operator: Operator, disabled: bool) -> None:
    operator.disabled = disabled
    if disabled:
        revoke_operator_sessions(session, operator)
    session.flush()


# --- sign-in ----------------------------------------------------------------------------


class SignInOutcome:
    SIGNED_IN = "signed-in"
    REFUSED = "refused"
    LOCKED = "locked"


@dataclass(frozen=True)
class SignIn:
    outcome: str
    operator: Operator | None = None


def _throttle_keys(name: str, address: str) -> tuple[tuple[str, int], ...]:
    return (
        ("account:" + name.strip().lower()[:150], ACCOUNT_FAILURES),
        ("address:" + address[:150], ADDRESS_FAILURES),
    )


def _locked(session: Session, keys: tuple[tuple[str, int], ...], now: datetime) -> bool:
    rows = session.scalars(
        select(SignInThrottle).where(SignInThrottle.key.in_([k for k, _ in keys]))
    )
    return any(row.locked_until is not None and row.locked_until > now for row in rows)


def _count_failure(session: Session, keys: tuple[tuple[str, int], ...], now: datetime) -> None:
    for key, limit in keys:
        row = session.get(SignInThrottle, key)
        if row is None:
            row = SignInThrottle(key=key, failures=0, window_started_at=now)
            session.add(row)
        elif now - row.window_started_at >= FAILURE_WINDOW:
            row.failures, row.window_started_at = 0, now
        row.failures += 1
        if row.failures >= limit:
            row.locked_until = now + LOCKOUT
            row.failures, row.window_started_at = 0, now
    session.flush()


def check_sign_in(
    session: Session, name: str, password: str, address: str, *, now: datetime | None = None
) -> SignIn:
    """Verify a sign-in. Unknown name, wrong password and disabled account are one outcome
    (REFUSED), so the answer never tells which names exist; a locked name or address is
    LOCKED even with the right password."""
    now = now or utcnow()
    keys = _throttle_keys(name, address)
    if _locked(session, keys, now):
        return SignIn(SignInOutcome.LOCKED)
    operator = get_operator(session, name) if name.strip() else None
    try:
        _HASHER.verify(operator.password_hash if operator else _dummy_hash(), password)
        matched = operator is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        matched = False
    if not matched or operator is None or operator.disabled:
        _count_failure(session, keys, now)
        return SignIn(
            SignInOutcome.LOCKED if _locked(session, keys, now) else SignInOutcome.REFUSED
        )
    # A success clears the name's failures, never the address's: one good account must not
    # reset the budget for guessing the others.
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == keys[0][0]))
    if _HASHER.check_needs_rehash(operator.password_hash):
        operator.password_hash = _HASHER.hash(password)
    operator.last_sign_in_at = now
    session.flush()
    return SignIn(SignInOutcome.SIGNED_IN, operator)


def unlock(session: Session, name: str) -> int:
    """Clear an account name's lockout (the CLI's way out for a locked-out operator)."""
    result = session.execute(
        delete(SignInThrottle).where(SignInThrottle.key == "account:" + name.strip().lower())
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- console sessions -------------------------------------------------------------------


def session_id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_console_session(
    session: Session, operator: Operator, token: str, *, now: datetime | None = None
) -> OperatorSession:
    now = now or utcnow()
    row = OperatorSession(
        id=session_id_of(token),
        operator_id=operator.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX,
    )
    session.add(row)
    session.flush()
    return row


def get_live_console_session(
    session: Session, token: str, *, now: datetime | None = None
) -> OperatorSession | None:
    """The session the cookie names, if it is neither revoked, expired, idle, nor its
    operator disabled; its last-seen time is moved on."""
    now = now or utcnow()
    row = session.get(OperatorSession, session_id_of(token))
    if row is None or row.revoked_at is not None or row.operator.disabled:
        return None
    if now >= row.expires_at or now - row.last_seen_at >= SESSION_IDLE:
        return None
    row.last_seen_at = now
    session.flush()
    return row


def revoke_console_session(session: Session, token: str, *, now: datetime | None = None) -> None:
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.id == session_id_of(token))
        .where(OperatorSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def revoke_operator_sessions(
    session: Session, operator: Operator, *, now: datetime | None = None
) -> None:
    session.execute(
        update(OperatorSession)
        .where(OperatorSession.operator_id == operator.id)
        .where(OperatorSession.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
