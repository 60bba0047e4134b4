"""The statement outbox: rows written in the learner's transaction, one per LRS destination."""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Text,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from lti_tool.config import DEFAULT_DESTINATION
from lti_tool.store.models import (
    DestinationState,
    OutboxRow,
    OutboxStatus,
    UTCDateTime,
    utcnow,
)
from xapi.summary import summarize

__all__ = [
    "DEFAULT_DESTINATION",
    "ClaimedRow",
    "DestinationStatus",
    "Entry",
    "LaneClaim",
    "add_statement",
    "add_statements",
    "claim_lanes",
    "copy_statements",
    "database_now",
    "enter_destination",
    "lane_key",
    "list_backfill_ids",
    "list_dead",
    "list_destination_status",
    "list_sending_destinations",
    "lock_destination",
    "lock_destination_state",
    "mark_conflict",
    "mark_failed",
    "mark_sent",
    "record_delivery",
    "record_success",
    "register_destinations",
    "replay_dead",
    "reroute_unconfigured",
    "sync_destinations",
    "try_lock_lane",
]


def _now_sql(session: Session) -> ColumnElement[datetime]:
    """The database's current time as SQL: the one clock every node shares.

    Web nodes and workers run on different machines whose clocks drift; comparing a row's
    created_at written by one with "now" read on another held batches back by the skew.
    PostgreSQL: clock_timestamp(), the time of the call (now() would be the transaction's
    start, before a POST). SQLite: only ever one machine, its clock, with milliseconds.
    """
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(func.clock_timestamp(), UTCDateTime())
    return type_coerce(func.strftime("%Y-%m-%d %H:%M:%f", "now"), UTCDateTime())


def database_now(session: Session) -> datetime:
    """The database's current time (aware, UTC); see ``_now_sql``."""
    now: datetime | None = session.scalar(select(_now_sql(session)))
    assert now is not None
    return now


def _insert_ignoring_duplicates(
    session: Session, model: type[Any], rows: list[dict[str, Any]]
) -> int:
    """INSERT rows, skipping those that hit a unique key; the number actually inserted.

    Re-emits, re-runs of a backfill and two workers registering the same destination all
    meet an existing row: that is the idempotency we rely on, not an error.
    """
    if not rows:
        return 0
    # One row (a statement for the one destination, every launch) as a single VALUES:
    # SQLAlchemy caches that statement's compiled form; a multi-row VALUES it compiles anew
    # on every call.
    values: Any = rows[0] if len(rows) == 1 else rows
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - only the two supported databases reach here
        stmt = insert(model).values(values)
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


def lane_key(owner: tuple[int | None, str | None] | None, statement: dict[str, Any]) -> int:
    """A stable 31-bit hash of whose statement this is: the learner, else the actor.

    Every row of one learner gets the same key, so they share a delivery lane whatever the
    lane count (lane = key % count). WARNING: stored at insert and frozen into migration
    0020; changing the recipe splits a learner's pending rows across lanes and lets newer
    ones overtake older ones. Not Python's hash(): that differs per process.
    """
    platform_id, sub = owner or (None, None)
    if sub is not None:
        key = f"learner:{platform_id}:{sub}"
    else:
        # Statements about nobody in particular (or recorded before 0014) follow their actor,
        # which for a learner's own statements is that learner's account.
        key = "actor:" + json.dumps(statement.get("actor"), sort_keys=True, separators=(",", ":"))
    return zlib.crc32(key.encode()) & 0x7FFFFFFF


def _outbox_row(
    destination: str,
    statement: dict[str, Any],
    now: datetime | ColumnElement[datetime],
    owner: tuple[int | None, str | None] | None = None,
) -> dict[str, Any]:
    platform_id, sub = owner or (None, None)
    return {
        "destination": destination,
        "platform_id": platform_id,
        "sub": sub,
        "lane_key": lane_key(owner, statement),
        "statement_id": str(statement["id"]),
        "statement": statement,
        "summary": summarize(statement),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


# Built once per process: every launch records a statement (issue 12).
_ENABLED_NAMES = (
    select(DestinationState.name)
    .where(DestinationState.enabled.is_(True))
    .order_by(DestinationState.name)
)


def add_statement(
    session: Session,
    statement: dict[str, Any],
    destination: str | None = None,
    *,
    owner: tuple[int, str] | None = None,
) -> bool:
    """Queue a statement for every enabled destination (or just ``destination``).

    ``owner`` is the (platform id, sub) of the learner the statement is about, when known.
    False when every row already existed (the same event recorded again). With no enabled
    destination at all the row goes to "default", so a statement is never recorded nowhere.
    """
    if destination is None:
        names = list(session.scalars(_ENABLED_NAMES)) or [DEFAULT_DESTINATION]
    else:
        names = [destination]
    # created_at on the database's clock, so a batch's age never depends on a web node's.
    now = _now_sql(session)
    rows = [_outbox_row(name, statement, now, owner) for name in names]
    return _insert_ignoring_duplicates(session, OutboxRow, rows) > 0


def add_statements(
    session: Session, statements: Sequence[tuple[dict[str, Any], tuple[int, str]]]
) -> int:
    """Queue many (statement, owner) pairs for every enabled destination in one INSERT, as
    ``add_statement`` does for one (a worker recording many at once); the rows offered
    (a statement already queued is skipped, as there)."""
    if not statements:
        return 0
    names = list(session.scalars(_ENABLED_NAMES)) or [DEFAULT_DESTINATION]
    now = database_now(session)
    rows = [
        _outbox_row(name, statement, now, owner)
        for statement, owner in statements
        for name in names
    ]
    # executemany of one cached statement (a multi-row VALUES is compiled anew per size).
    dialect = session.get_bind().dialect.name
    stmt: Any = (postgresql if dialect == "postgresql" else sqlite).insert(OutboxRow)
    session.execute(stmt.on_conflict_do_nothing(), rows)
    return len(rows)


def register_destinations(
    session: Session, names: Iterable[str], *, lanes: int | None = None
) -> None:
    """Make sure ``names`` exist and are enabled; never disables anything.

    The web process calls this at start-up, before it serves, so its first recorded
    statement already fans out to every configured LRS (a worker may not have run yet).
    Disabling stays with ``sync_destinations``, so a web process started without the LRS
    settings cannot switch off the destinations the workers deliver to.
    """
    wanted = set(names)
    if not wanted:
        return
    _insert_ignoring_duplicates(
        session,
        DestinationState,
        [
            {
                "name": name,
                "enabled": True,
                "consecutive_failures": 0,
                "created_at": utcnow(),
                "lanes": lanes or 1,
            }
            for name in sorted(wanted)
        ],
    )
    # Only rows whose flag actually changes are touched, so registering never waits on the
    # row lock a delivery holds for the length of its POST.
    session.execute(
        update(DestinationState)
        .where(DestinationState.name.in_(wanted), DestinationState.enabled.is_not(True))
        .values(enabled=True)
    )


def sync_destinations(session: Session, names: Iterable[str], *, lanes: int | None = None) -> int:
    """Make ``names`` the enabled destinations and re-route what the others still owe.

    Others stop receiving rows and keep their delivered history; their pending rows go to
    the configured destinations (``reroute_unconfigured``). ``lanes``, when given, becomes
    the configured destinations' lane count. The number re-routed.
    """
    wanted = set(names) or {DEFAULT_DESTINATION}
    if lanes is not None:
        # First, before this transaction holds any row lock a batch might wait for.
        _set_lanes(session, wanted, lanes)
    register_destinations(session, wanted, lanes=lanes)
    session.execute(
        update(DestinationState)
        .where(DestinationState.name.not_in(wanted), DestinationState.enabled.is_not(False))
        .values(enabled=False)
    )
    return reroute_unconfigured(session, wanted)


_REROUTE_CHUNK = 500


def reroute_unconfigured(session: Session, configured: Iterable[str]) -> int:
    """Queue the pending statements of destinations outside ``configured`` for those inside.

    Without this, rows recorded while only the seeded "default" existed (or for an LRS since
    removed from the configuration) would wait forever for a destination nobody delivers
    to (docs/decisions/0004). Each configured destination gets the statements it lacks, in
    recording order and with their recording time; the old rows become "rerouted". A
    destination a worker is sending to right now is left for the next sync.
    """
    wanted = sorted(set(configured))
    if not wanted:
        return 0
    # Candidates come from the small destination table, and each is probed through the
    # (destination, status, id) index: this runs on every sweep, and scanning the outbox's
    # ever-growing sent rows for unknown names would not stay cheap.
    candidates = session.scalars(
        select(DestinationState.name).where(DestinationState.name.not_in(wanted))
    ).all()
    moved = 0
    for orphan in sorted(candidates):
        waiting = session.scalar(
            select(OutboxRow.id)
            .where(OutboxRow.destination == orphan, OutboxRow.status == OutboxStatus.PENDING)
            .limit(1)
        )
        if waiting is None:
            continue
        if lock_destination(session, orphan) is None:
            continue  # a worker holds it mid-POST; the next sweep re-routes what is left
        note = f"rerouted to {', '.join(wanted)}: destination {orphan!r} is not configured"
        while True:
            # In chunks: one multi-row INSERT per chunk stays within SQLite's bound-parameter
            # limit however long the backlog.
            rows = session.scalars(
                select(OutboxRow)
                .where(OutboxRow.destination == orphan, OutboxRow.status == OutboxStatus.PENDING)
                .order_by(OutboxRow.id)
                .limit(_REROUTE_CHUNK)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                break
            for name in wanted:
                _insert_reviving_rerouted(
                    session,
                    [
                        _outbox_row(name, row.statement, row.created_at, (row.platform_id, row.sub))
                        for row in rows
                    ],
                )
            session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([row.id for row in rows]))
                .values(status=OutboxStatus.REROUTED, last_error=note)
                .execution_options(synchronize_session="fetch")
            )
            moved += len(rows)
    return moved


def _insert_reviving_rerouted(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT outbox rows; one that exists but was itself re-routed away becomes pending
    again, so two syncs with different configurations cannot strand a statement."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(OutboxRow).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[OutboxRow.destination, OutboxRow.statement_id],
            # The new row's key: a row re-routed away before migration 0020 has none (0).
            set_={
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "last_error": None,
                "lane_key": stmt.excluded.lane_key,
            },
            where=OutboxRow.status == OutboxStatus.REROUTED,
        )
    )


# Transaction-level advisory locks (PostgreSQL) keyed (destination key, lane). Lane -1 is
# the whole destination: every batch holds it shared, and whoever must know that no batch
# is in flight (a lane count change, a re-route) takes it exclusively.
_WHOLE = -1


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _destination_key(destination: str) -> int:
    """The advisory-lock key of a destination: a signed 32-bit hash of its name."""
    key = zlib.crc32(f"cxa.outbox:{destination}".encode())
    return key - (1 << 32) if key >= (1 << 31) else key


def _try_advisory(session: Session, destination: str, lane: int, *, shared: bool = False) -> bool:
    function = "pg_try_advisory_xact_lock_shared" if shared else "pg_try_advisory_xact_lock"
    return bool(
        session.scalar(
            text(f"SELECT {function}(:key, :lane)"),
            {"key": _destination_key(destination), "lane": lane},
        )
    )


def _enter_select(session: Session) -> Any:
    entered: ColumnElement[Any] = (
        func.pg_try_advisory_xact_lock_shared(bindparam("key"), _WHOLE)
        if _is_postgresql(session)
        else literal(True)
    )
    columns: list[Any] = [
        DestinationState.lanes,
        DestinationState.open_until,
        entered,
        _now_sql(session),
    ]
    if _is_postgresql(session):
        # The head's lane keys ride along, so a kick that finds nothing due costs one round
        # trip (SQLite reads them in claim_lanes: it has no arrays, and no network either).
        columns.append(func.array(_head_select(session).scalar_subquery()))
    return select(*columns).where(DestinationState.name == bindparam("destination"))


@dataclass(frozen=True)
class Entry:
    """What one batch reads as it enters its destination (the state row is not locked)."""

    lanes: int
    open_until: datetime | None
    # The database's clock when the batch entered.
    now: datetime
    # Lane keys of the next pending rows in id order (at most the ``head`` asked for);
    # None where the database cannot read them in the same round trip (SQLite).
    head: list[int] | None


def enter_destination(session: Session, destination: str, *, head: int = 0) -> Entry | None:
    """The destination's lane count, breaker and the database's time for one batch, with the
    lane keys of its next ``head`` pending rows; None while its lanes are being changed (or
    it does not exist).

    On PostgreSQL the batch holds the destination's shared advisory lock until it commits, so
    the lane count it reads cannot change under it. SQLite has one writer: nothing to hold.
    One round trip for all of it: the worker's CPU per statement is a figure we publish.
    """
    arguments = {"destination": destination, "key": _destination_key(destination), "limit": head}
    found = _core(session).execute(_built(session, "enter", _enter_select), arguments).first()
    if found is None or not found[2]:
        return None
    keys = list(found[4]) if len(found) > 4 else None
    return Entry(lanes=found[0], open_until=found[1], now=found[3], head=keys)


def lock_destination_state(session: Session, destination: str) -> DestinationState:
    """The destination's state row locked (waiting) to open its breaker after a failure.

    Taken after the POST, so workers in different lanes queue only for their few ms of
    bookkeeping; a stale read would lose another lane's failure count.
    """
    return session.scalars(
        select(DestinationState)
        .where(DestinationState.name == destination)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def lock_destination(session: Session, destination: str) -> DestinationState | None:
    """The destination held exclusively for this transaction; None while a batch is in flight.

    No lane can start a batch until this transaction ends. PostgreSQL does not wait for a
    busy destination, so a sweep moves on. SQLite has one writer at a time anyway and relies
    on idempotent ids.
    """
    if _is_postgresql(session) and not _try_advisory(session, destination, _WHOLE):
        return None
    return session.scalars(
        select(DestinationState)
        .where(DestinationState.name == destination)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).first()


def _set_lanes(session: Session, names: Iterable[str], lanes: int) -> None:
    """Give ``names`` ``lanes`` lanes, waiting until none of them has a batch in flight.

    A learner's rows share a lane under any count, but two workers using two counts at once
    could each hold one of that learner's lanes; the exclusive lock rules that out.
    """
    if lanes < 1:
        raise ValueError(f"a destination needs at least one lane, not {lanes}")
    changing = session.scalars(
        select(DestinationState.name).where(
            DestinationState.name.in_(sorted(set(names))), DestinationState.lanes != lanes
        )
    ).all()
    for name in sorted(changing):
        if _is_postgresql(session):
            session.execute(
                text("SELECT pg_advisory_xact_lock(:key, :lane)"),
                {"key": _destination_key(name), "lane": _WHOLE},
            )
        session.execute(
            update(DestinationState).where(DestinationState.name == name).values(lanes=lanes)
        )


def list_sending_destinations(session: Session) -> dict[str, int] | None:
    """Destinations with batches in flight right now, and how many lanes each is sending.

    Only PostgreSQL can tell (None elsewhere): it reads the lane locks from pg_locks, which
    takes no lock of its own, so a status probe never gets in a worker's way.
    """
    if not _is_postgresql(session):
        return None
    keys = {
        _destination_key(name) & 0xFFFFFFFF: name
        for name in session.scalars(select(DestinationState.name))
    }
    held = session.execute(
        text(
            "SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory' "
            "AND objsubid = 2 AND granted AND mode = 'ExclusiveLock' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
    ).all()
    sending: dict[str, int] = {}
    for classid, objid in held:
        if classid in keys and objid < (1 << 31):  # a lane, not the whole destination
            sending[keys[classid]] = sending.get(keys[classid], 0) + 1
    return sending


def _pending(destination: str | ColumnElement[str]) -> ColumnElement[bool]:
    return (OutboxRow.destination == destination) & (OutboxRow.status == OutboxStatus.PENDING)


@dataclass(frozen=True)
class ClaimedRow:
    """A pending row held for one batch: what delivery needs, and the statement as stored.

    The statement stays the JSON text the outbox holds; it is sent as it is, and decoded
    only when an LRS answer has to be compared with it (a 409).
    """

    id: int
    statement_id: str
    lane_key: int
    attempts: int
    created_at: datetime
    statement_json: str


def _claim_columns() -> list[Any]:
    return [
        OutboxRow.id,
        OutboxRow.statement_id,
        OutboxRow.lane_key,
        OutboxRow.attempts,
        OutboxRow.created_at,
        # The column's text, not its decoded value: no decode here and no re-encode for the POST.
        cast(OutboxRow.statement, Text),
    ]


def _claim_locking_select(_: Session) -> Any:
    # Holds whichever of the wanted lanes nobody else holds (an initplan, run once, in lane
    # order) and reads their oldest rows, in one round trip. Its snapshot may predate a lane's
    # release by another worker; FOR UPDATE re-checks each row's status after locking it, so
    # a row that worker sent meanwhile is skipped, never sent twice.
    held = text(
        "ARRAY(SELECT lane FROM unnest(CAST(:want AS integer[])) WITH ORDINALITY AS t(lane, n) "
        "WHERE pg_try_advisory_xact_lock(:key, lane) ORDER BY n)"
    )
    return (
        select(*_claim_columns())
        .where(_pending(bindparam("destination")))
        .where((OutboxRow.lane_key % bindparam("lanes")) == func.any(held))
        .order_by(OutboxRow.id)
        .limit(bindparam("limit"))
        .with_for_update()
    )


def _claim_select(_: Session) -> Any:
    return (
        select(*_claim_columns())
        .where(_pending(bindparam("destination")))
        .where((OutboxRow.lane_key % bindparam("lanes")).in_(bindparam("want", expanding=True)))
        .order_by(OutboxRow.id)
        .limit(bindparam("limit"))
    )


def _claim(
    session: Session, destination: str, lanes: int, want: Sequence[int], limit: int
) -> list[ClaimedRow]:
    """Hold those of lanes ``want`` nobody else holds, until commit, and take their oldest
    ``limit`` pending rows in id order (none from a lane another worker holds).

    Inside a held lane the rows are locked waiting, never skipped: only a replay could hold
    one, and skipping it would let the row behind it overtake. SQLite has one writer and no
    advisory locks: every lane is granted.
    """
    arguments = {"destination": destination, "lanes": lanes, "want": list(want), "limit": limit}
    if _is_postgresql(session):
        stmt = _built(session, "claim", _claim_locking_select)
        arguments["key"] = _destination_key(destination)
    else:
        stmt = _built(session, "claim", _claim_select)
    return [ClaimedRow(*found) for found in _core(session).execute(stmt, arguments)]


@dataclass
class LaneClaim:
    """The rows one batch took, and what it saw of the lanes it did not take."""

    rows: list[ClaimedRow] = field(default_factory=list)
    # Lanes with work that another worker holds.
    busy: bool = False
    # Lanes with work left untouched for the next worker: it is worth bringing one in.
    spare: bool = False
    # The batch holds everything that was due when it looked: no need to look again now
    # (a row committed since has its own kick, sent after its commit).
    drained: bool = False


def _try_lanes(session: Session, destination: str, lanes: Sequence[int]) -> list[int]:
    """Hold those of ``lanes`` nobody else holds, until commit (one round trip); the held ones."""
    if not _is_postgresql(session):
        return list(lanes)
    held = session.scalars(
        text(
            "SELECT lane FROM unnest(CAST(:lanes AS integer[])) WITH ORDINALITY AS t(lane, n) "
            "WHERE pg_try_advisory_xact_lock(:key, lane) ORDER BY n"
        ),
        {"lanes": list(lanes), "key": _destination_key(destination)},
    )
    return list(held)


def try_lock_lane(session: Session, destination: str, lane: int) -> bool:
    """Hold one lane of the destination until commit; False if another worker holds it."""
    return bool(_try_lanes(session, destination, [lane]))


def _head_select(_: Session) -> Any:
    return (
        select(OutboxRow.lane_key)
        .where(_pending(bindparam("destination")))
        .order_by(OutboxRow.id)
        .limit(bindparam("limit"))
    )


def claim_lanes(
    session: Session,
    destination: str,
    lanes: int,
    limit: int,
    *,
    head: Sequence[int] | None = None,
) -> LaneClaim:
    """Up to ``limit`` pending rows of lanes this worker now holds, in id order.

    The head of the queue (the lane keys of the next ``limit`` rows, as the single stream
    would send them; read here unless ``enter_destination`` brought them) decides. If it is
    all that is due, or all one lane, every lane in it is held at once and sent as one batch:
    under a trickle that is as few POSTs as before lanes. Under a backlog the batch is one
    lane, the free one with the oldest row, so the next worker takes the next lane and N
    workers send N lanes at once.
    """
    if head is None:
        head = session.scalars(
            _built(session, "head", _head_select), {"destination": destination, "limit": limit}
        ).all()
    if not head:
        return LaneClaim()
    due = list(dict.fromkeys(key % lanes for key in head))
    claim = LaneClaim()
    if len(head) < limit or len(due) == 1:
        claim.rows = _claim(session, destination, lanes, due, limit)
        # A due lane that gave no rows is held by another worker (or was emptied by one
        # since the head was read): either way someone else delivers it.
        taken = {row.lane_key % lanes for row in claim.rows}
        claim.busy = any(lane not in taken for lane in due)
        claim.drained = len(head) < limit and not claim.busy
    else:
        claim.spare = True
        for lane in due:
            claim.rows = _claim(session, destination, lanes, [lane], limit)
            if claim.rows:
                break
            claim.busy = True
    return claim


# The per-batch statements, built once: constructing them anew on every batch was a tenth of
# the worker's CPU per small batch (benchmarks/delivery.py). Keyed by database dialect where
# the SQL differs.
_BUILT: dict[tuple[str, str], Any] = {}


def _core(session: Session) -> Connection:
    """The session's connection, for the per-batch statements: they read and write plain
    columns, so the ORM's execution layer (a third of their CPU) has nothing to do."""
    return session.connection()


def _built(session: Session, name: str, build: Callable[[Session], Any]) -> Any:
    key = (session.get_bind().dialect.name, name)
    if key not in _BUILT:
        _BUILT[key] = build(session)
    return _BUILT[key]


def _success_update(_: Session) -> Any:
    return (
        update(DestinationState)
        .where(DestinationState.name == bindparam("destination"))
        .values(
            consecutive_failures=0,
            open_until=None,
            last_error=None,
            last_sent_id=case(
                (
                    (DestinationState.last_sent_id.is_(None))
                    | (DestinationState.last_sent_id < bindparam("last_sent_id")),
                    bindparam("last_sent_id"),
                ),
                else_=DestinationState.last_sent_id,
            ),
            last_success_at=bindparam("now", type_=UTCDateTime()),
        )
        .execution_options(synchronize_session=False)
    )


def _breaker_reset(_: Session) -> Any:
    return (
        update(DestinationState)
        .where(DestinationState.name == bindparam("destination"))
        .values(consecutive_failures=0, open_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )


def record_success(
    session: Session, destination: str, last_sent_id: int | None, now: datetime
) -> None:
    """Close the breaker and move the cursor after a batch the LRS answered.

    One UPDATE, read-free: workers in other lanes write the same row, so the cursor only
    ever moves forward (CASE) and nothing read before the POST is written back.
    """
    if last_sent_id is None:
        session.execute(
            _built(session, "breaker_reset", _breaker_reset), {"destination": destination}
        )
        return
    session.execute(
        _built(session, "success", _success_update),
        {"destination": destination, "last_sent_id": last_sent_id, "now": now},
    )


def _sent_update(session: Session) -> Any:
    return (
        update(OutboxRow)
        .where(OutboxRow.id.in_(bindparam("ids", expanding=True)))
        .values(
            status=OutboxStatus.SENT,
            # The database's clock, like created_at: sent_at - created_at is the true lag.
            sent_at=_now_sql(session),
            attempts=OutboxRow.attempts + 1,
            last_error=None,
        )
        # The rows are not read again before commit expires them: no need to refresh them.
        .execution_options(synchronize_session=False)
    )


def mark_sent(session: Session, ids: Sequence[int]) -> None:
    # One UPDATE for the batch, not one per row: on PostgreSQL the round trips were a third
    # of the delivery time (benchmarks/delivery.py).
    if not ids:
        return
    session.execute(_built(session, "sent", _sent_update), {"ids": list(ids)})


# PostgreSQL: the batch's rows and the destination's cursor and breaker in one statement
# (a data-modifying WITH), so a delivered batch costs one round trip to record. Same values
# as _sent_update and _success_update; GREATEST ignores a NULL cursor.
_DELIVERED_SQL = text(
    "WITH sent AS ("
    " UPDATE outbox SET status = :sent, sent_at = clock_timestamp(),"
    " attempts = attempts + 1, last_error = NULL WHERE id = ANY(CAST(:ids AS integer[])))"
    " UPDATE lrs_destination SET consecutive_failures = 0, open_until = NULL,"
    " last_error = NULL, last_sent_id = GREATEST(last_sent_id, :last_sent_id),"
    " last_success_at = :now WHERE name = :destination"
)


def record_delivery(
    session: Session, destination: str, sent_ids: Sequence[int], now: datetime
) -> None:
    """Mark the rows the LRS took as sent, close the breaker and move the cursor: the whole
    bookkeeping of a batch that went through."""
    if not sent_ids:
        record_success(session, destination, None, now)
    elif _is_postgresql(session):
        _core(session).execute(
            _DELIVERED_SQL,
            {
                "sent": OutboxStatus.SENT.value,
                "ids": list(sent_ids),
                "last_sent_id": max(sent_ids),
                "now": now,
                "destination": destination,
            },
        )
    else:
        mark_sent(session, sent_ids)
        record_success(session, destination, max(sent_ids), now)


def mark_failed(
    session: Session,
    rows: Sequence[ClaimedRow],
    error: str,
    *,
    retry_in: timedelta | None,
    now: datetime | None = None,
) -> None:
    """Record a failed attempt; retry_in None means give up (dead letter)."""
    if not rows:
        return
    now = now or utcnow()
    changes: dict[str, Any] = {"attempts": OutboxRow.attempts + 1, "last_error": error}
    if retry_in is None:
        changes["status"] = OutboxStatus.DEAD
    else:
        # Informational (what `cxa outbox status` shows); the breaker decides when.
        changes["next_attempt_at"] = now + retry_in
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_([row.id for row in rows]))
        .values(**changes)
        .execution_options(synchronize_session=False)
    )


def mark_conflict(
    session: Session, row: ClaimedRow | OutboxRow, lrs_statement: dict[str, Any], error: str
) -> None:
    """Dead-letter a row whose id the LRS holds with other content, keeping both versions.

    Nothing retries it: re-sending would meet the same 409. The operator compares
    ``statement`` and ``lrs_statement`` (`cxa outbox dead`) and decides.
    """
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row.id)
        .values(
            attempts=OutboxRow.attempts + 1,
            status=OutboxStatus.DEAD,
            last_error=error,
            lrs_statement=lrs_statement,
        )
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class DestinationStatus:
    """What an operator (or /healthz/delivery) needs to know about one destination."""

    name: str
    enabled: bool
    pending: int
    dead: int
    oldest_pending_at: datetime | None
    last_sent_id: int | None
    last_success_at: datetime | None
    consecutive_failures: int
    open_until: datetime | None
    last_error: str | None
    # Dead rows that are conflicts (the LRS holds other content under the id).
    conflicts: int = 0

    def lag_seconds(self, now: datetime) -> float:
        """How long the oldest undelivered statement has waited (0 when none waits)."""
        if self.oldest_pending_at is None:
            return 0.0
        return max(0.0, (now - self.oldest_pending_at).total_seconds())

    def circuit_open(self, now: datetime) -> bool:
        return self.open_until is not None and self.open_until > now


def list_destination_status(session: Session) -> list[DestinationStatus]:
    """Pending and dead counts, lag and breaker state of every destination, by name.

    Sent rows are not counted: they grow without bound, and the two statuses asked for
    here are what the (destination, status, id) index answers quickly.
    """
    counts: dict[tuple[str, OutboxStatus], int] = {}
    oldest: dict[str, datetime] = {}
    for name, status, n, first in session.execute(
        select(
            OutboxRow.destination, OutboxRow.status, func.count(), func.min(OutboxRow.created_at)
        )
        .where(OutboxRow.status.in_((OutboxStatus.PENDING, OutboxStatus.DEAD)))
        .group_by(OutboxRow.destination, OutboxRow.status)
    ):
        counts[(name, status)] = n
        if status is OutboxStatus.PENDING and first is not None:
            # An aggregate bypasses the column type, so SQLite hands back a naive time (as
            # text when the row was stamped by the database's own clock).
            if isinstance(first, str):
                first = datetime.fromisoformat(first)
            oldest[name] = first if first.tzinfo else first.replace(tzinfo=utcnow().tzinfo)
    conflicts = dict(
        session.execute(
            select(OutboxRow.destination, func.count())
            .where(OutboxRow.status == OutboxStatus.DEAD, OutboxRow.lrs_statement.is_not(None))
            .group_by(OutboxRow.destination)
        ).all()
    )
    states = {s.name: s for s in session.scalars(select(DestinationState))}
    names = sorted(set(states) | {name for name, _ in counts})
    result = []
    for name in names:
        state = states.get(name)
        result.append(
            DestinationStatus(
                name=name,
                enabled=state.enabled if state else False,
                pending=counts.get((name, OutboxStatus.PENDING), 0),
                dead=counts.get((name, OutboxStatus.DEAD), 0),
                oldest_pending_at=oldest.get(name),
                last_sent_id=state.last_sent_id if state else None,
                last_success_at=state.last_success_at if state else None,
                consecutive_failures=state.consecutive_failures if state else 0,
                open_until=state.open_until if state else None,
                last_error=state.last_error if state else None,
                conflicts=conflicts.get(name, 0),
            )
        )
    return result


def list_dead(
    session: Session,
    *,
    destination: str | None = None,
    conflicts_only: bool = False,
    limit: int | None = None,
) -> list[OutboxRow]:
    """Dead-lettered rows, oldest first, with their error (and the LRS's version for a
    conflict), for an operator to inspect before a replay."""
    conditions = [OutboxRow.status == OutboxStatus.DEAD]
    if destination is not None:
        conditions.append(OutboxRow.destination == destination)
    if conflicts_only:
        conditions.append(OutboxRow.lrs_statement.is_not(None))
    stmt = select(OutboxRow).where(*conditions).order_by(OutboxRow.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def replay_dead(
    session: Session,
    *,
    destination: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    error_contains: str | None = None,
) -> int:
    """Put dead rows back in the queue (all, or those matching every filter given).

    They keep their ids, so they go out next, ahead of anything recorded after them.
    """
    conditions = [OutboxRow.status == OutboxStatus.DEAD]
    if destination is not None:
        conditions.append(OutboxRow.destination == destination)
    if since is not None:
        conditions.append(OutboxRow.created_at >= since)
    if until is not None:
        conditions.append(OutboxRow.created_at < until)
    if error_contains:
        conditions.append(OutboxRow.last_error.icontains(error_contains, autoescape=True))
    _key_unkeyed(session, conditions)
    result = session.execute(
        update(OutboxRow)
        .where(*conditions)
        .values(
            status=OutboxStatus.PENDING,
            next_attempt_at=_now_sql(session),
            attempts=0,
            lrs_statement=None,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _key_unkeyed(session: Session, conditions: Sequence[ColumnElement[bool]]) -> None:
    """Give the rows matching ``conditions`` that have no lane key yet their learner's.

    Rows that were no longer pending at migration 0020 kept key 0. Replayed as they were,
    they would all share lane 0: one worker for a whole replay, the learners whose lane is 0
    queued behind it, and each replayed row in another lane than its learner's newer rows,
    free to reach the LRS after them.
    """
    unkeyed = session.execute(
        select(OutboxRow.id, OutboxRow.platform_id, OutboxRow.sub, OutboxRow.statement).where(
            *conditions, OutboxRow.lane_key == 0
        )
    ).all()
    if unkeyed:
        session.execute(
            update(OutboxRow).execution_options(synchronize_session=False),
            [
                {"id": row_id, "lane_key": lane_key((platform_id, sub), statement)}
                for row_id, platform_id, sub, statement in unkeyed
            ],
        )


def list_backfill_ids(
    session: Session, destination: str, since: datetime, until: datetime
) -> list[int]:
    """One outbox row id per statement recorded in [since, until) that ``destination`` lacks.

    Any destination's copy will do (the statement is the same); the earliest row stands in,
    and ids are returned in recording order so the new LRS receives them in that order.
    """
    already = select(OutboxRow.statement_id).where(OutboxRow.destination == destination)
    return list(
        session.scalars(
            select(func.min(OutboxRow.id))
            .where(
                OutboxRow.created_at >= since,
                OutboxRow.created_at < until,
                OutboxRow.statement_id.not_in(already),
            )
            .group_by(OutboxRow.statement_id)
            .order_by(func.min(OutboxRow.id))
        )
    )


def copy_statements(session: Session, row_ids: Sequence[int], destination: str) -> int:
    """Queue the statements of these outbox rows for ``destination``; the number newly queued."""
    sources = session.execute(
        select(OutboxRow.statement, OutboxRow.platform_id, OutboxRow.sub)
        .where(OutboxRow.id.in_(row_ids))
        .order_by(OutboxRow.id)
    )
    now = _now_sql(session)
    return _insert_ignoring_duplicates(
        session,
        OutboxRow,
        [
            _outbox_row(destination, statement, now, (platform_id, sub))
            for statement, platform_id, sub in sources
        ],
    )
