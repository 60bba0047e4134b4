"""SQLAlchemy models: platforms and deployments, tool keys, launches and their sessions,
launch state, outbox."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints, so Alembic migrations can refer to them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    # The lower-case values, not the member names, so SQL reads naturally.
    return [str(member.value) for member in enum_cls]


def stored_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """The column type of every status-like enum: its values as strings of at most 16
    characters, not a native PostgreSQL type, so a new member needs no ALTER TYPE. The
    migrations spell out the same column."""
    return Enum(enum_cls, native_enum=False, length=16, name=name, values_callable=_enum_values)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware UTC datetimes; SQLite drops the zone, so it is put back on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store times in UTC with a zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PlatformState(enum.StrEnum):
    ACTIVE = "active"
    PENDING = "pending"


class Platform(Base):
    """An LMS registration: one (issuer, client_id) pair. One issuer may register many times."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(255))
    # OIDC authorization endpoint the login initiation redirects to.
    auth_login_url: Mapped[str] = mapped_column(String(1000))
    # OAuth2 token endpoint (AGS and NRPS need it).
    auth_token_url: Mapped[str] = mapped_column(String(1000))
    # Platform JWKS the id_token signatures are checked against.
    key_set_url: Mapped[str] = mapped_column(String(1000))
    # Some platforms (Moodle) want a different audience in client assertions than the token URL.
    auth_audience: Mapped[str | None] = mapped_column(String(1000), default=None)
    # How this platform's learners appear in xAPI statements: "account" (LTI issuer + sub,
    # no personal data), "mbox" (their email) or "mbox_sha1sum" (a hash of it).
    actor_format: Mapped[str] = mapped_column(
        String(16), default="account", server_default="account"
    )
    # Whether statements carry the learner's name from the launch: "omit" (the default, so an
    # LRS holds no personal name) or "include" (the registration opted in).
    actor_name: Mapped[str] = mapped_column(String(8), default="omit", server_default="omit")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # "active" launches; "pending" waits for an operator (Dynamic Registration may leave a
    # registration pending, per CXA_NEW_REGISTRATIONS_PENDING).
    state: Mapped[PlatformState] = mapped_column(
        stored_enum(PlatformState, "platform_state"),
        default=PlatformState.ACTIVE,
        server_default=PlatformState.ACTIVE.value,
    )
    # A launch naming an unknown deployment of this registration is accepted and the
    # deployment added at once, instead of waiting for an operator (decision 0012).
    auto_approve_deployments: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    """A deployment id the platform announced; launches with any other id are refused."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    platform: Mapped[Platform] = relationship(back_populates="deployments")


class RegistrationInvitation(Base):
    """A one-time invitation for an LMS to register itself by LTI Dynamic Registration."""

    __tablename__ = "registration_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # SHA-256 of the token in the registration URL: a database leak gives no usable URL.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    auto_approve_deployments: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform.id", ondelete="SET NULL"), default=None
    )


class PendingDeployment(Base):
    """A deployment id a registered client launched with before anyone approved it."""

    __tablename__ = "pending_deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    # What the launch said about where it came from, so an operator can tell a course copy
    # from a stranger before approving.
    context_id: Mapped[str | None] = mapped_column(String(255), default=None)
    context_title: Mapped[str | None] = mapped_column(String(500), default=None)
    platform_name: Mapped[str | None] = mapped_column(String(500), default=None)
    launches: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship()


class KeyStatus(enum.StrEnum):
    # Published in the JWKS but not yet signing, so platforms can cache it first.
    NEXT = "next"
    ACTIVE = "active"
    # Still published until retire_after, then dropped from the JWKS.
    RETIRING = "retiring"
    RETIRED = "retired"


class ToolKey(Base):
    """One RSA key pair of the tool; the private half is encrypted with a configured secret."""

    __tablename__ = "tool_key"
    __table_args__ = (
        # Exactly one key signs: app processes starting at once on an empty database race to
        # create the first key, and this partial unique index lets only one of them win.
        Index(
            "uq_tool_key_one_active",
            "status",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[KeyStatus] = mapped_column(stored_enum(KeyStatus, "key_status"))
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    retire_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class Launch(Base):
    """A validated LTI launch: who, from where, in which role. Its id is the xAPI registration."""

    __tablename__ = "launch"
    __table_args__ = (
        # Progress pages list a learner's launches within one LMS.
        Index("ix_launch_platform_sub", "platform_id", "sub"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    context_id: Mapped[str | None] = mapped_column(String(255), default=None)
    context_title: Mapped[str | None] = mapped_column(String(500), default=None)
    resource_link_id: Mapped[str | None] = mapped_column(String(255), default=None)
    resource_link_title: Mapped[str | None] = mapped_column(String(500), default=None)
    locale: Mapped[str | None] = mapped_column(String(35), default=None)
    message_type: Mapped[str] = mapped_column(String(100))
    # The whole id_token body, for the LTI Advantage services that come later (AGS, NRPS, DL).
    claims: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    platform: Mapped[Platform] = relationship()


class LaunchSession(Base):
    """A learner's working session after a launch, named by the token in the page URL.

    Only a hash of the token is kept, so a copy of the database grants no session. The row
    lets an operator end a session (revoked_at) and ends idle ones (last_seen_at).
    """

    __tablename__ = "launch_session"
    __table_args__ = (
        # The purge removes sessions past their absolute expiry.
        Index("ix_launch_session_expires_at", "expires_at"),
        # Revoking by platform or learner finds their sessions through the launch.
        Index("ix_launch_session_launch_id", "launch_id"),
    )

    # SHA-256 of the URL token, hex; its first 12 characters appear in logs instead of it.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    launch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("launch.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Refreshed at most once a minute, so an ordinary page view costs no write.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Absolute end, however active the learner is.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    launch: Mapped[Launch] = relationship()


class LaunchState(Base):
    """Short-lived OIDC state and nonces, for the database-backed state store."""

    __tablename__ = "launch_state"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    # Expired rows are ignored on read and purged by the periodic sweep.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"
    # The row's destination left the configuration before it was delivered; its statement
    # was queued for the configured destinations instead (docs/decisions/0004).
    REROUTED = "rerouted"


class OutboxRow(Base):
    """One xAPI statement waiting for (or done with) delivery to one LRS destination."""

    __tablename__ = "outbox"
    __table_args__ = (
        # A re-emitted event maps to the same statement id; one row per destination is enough.
        UniqueConstraint("destination", "statement_id"),
        # The delivery task scans pending rows of a destination in id order.
        Index("ix_outbox_destination_status_id", "destination", "status", "id"),
        # Backfill and replay select statements by the date they were recorded.
        Index("ix_outbox_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    destination: Mapped[str] = mapped_column(String(100), default="default")
    statement_id: Mapped[str] = mapped_column(String(36))
    statement: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        stored_enum(OutboxStatus, "outbox_status"),
        default=OutboxStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # A dead "conflict": what the LRS holds under this statement id instead of ours, kept so
    # an operator can compare both versions (`cxa outbox dead`).
    lrs_statement: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )
    # The learner the statement is about (platform, LTI sub), when it is one of ours: the
    # goal engine reads progress from it and delivery keeps each learner's order by it.
    # No foreign key: a delivered statement outlives the platform's registration.
    platform_id: Mapped[int | None] = mapped_column(Integer, default=None)
    sub: Mapped[str | None] = mapped_column(String(255), default=None)
    # Stable hash of that learner (or of the actor, without one), fixed at insert: the
    # delivery lane is lane_key % the destination's lane count, so all of a learner's rows
    # share one lane whatever the count (docs/decisions/0021). The pending scan needs no
    # index of its own: the (destination, status, id) index reads the head in id order.
    lane_key: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The few members of the statement the goal engine reads (xapi.summary), written with
    # the row: the engine decodes these few hundred bytes, not the whole statement. None on
    # rows queued before migration 0021; for those the engine reads the statement itself.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)


class DestinationState(Base):
    """One LRS the outbox fans out to, with its own delivery state (cursor, circuit breaker).

    Credentials stay in the configuration; this row only says the destination exists, so the
    web process can fan out without knowing them, and keeps what delivery learned about it.
    """

    __tablename__ = "lrs_destination"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Disabled destinations get no new rows (removed from the configuration); old rows stay.
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Failed POSTs in a row; drives the breaker's back-off, reset by any delivered batch.
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    # Circuit breaker: no POST to this LRS before this time (None: closed).
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    # Cursor: the highest outbox id this destination has taken (sent or duplicate).
    last_sent_id: Mapped[int | None] = mapped_column(Integer, default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Lanes this destination's stream is split into, one worker per lane at a time; set by
    # the workers from CXA_OUTBOX_LANES, changed only while no batch is in flight.
    lanes: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
