"""The goal engine's queries: its cursors over statement streams, the ledger of counted
statements, live goals by learner and metric, and who a statement's actor is.

Query functions take a session, may flush, never commit: the engine's task owns the
transaction, so a batch's ledger rows, progress and cursor move commit together.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Text,
    any_,
    case,
    cast,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from lti_tool.store.goals import (
    Goal,
    GoalCountedStatement,
    GoalSourceCursor,
    GoalStatus,
    GoalVoidedStatement,
)
from lti_tool.store.models import Launch, OutboxRow, Platform, utcnow

OUTBOX_SOURCE = "outbox"
"""The cursor name of our own outbox stream."""

Learner = tuple[int, str]
"""(platform id, LTI sub): the owner key the outbox stores beside each statement."""


def lrs_source(name: str) -> str:
    """The cursor name of an external LRS configured as a goal source."""
    return f"lrs:{name}"


# --- cursors ---------------------------------------------------------------------------------


def lock_cursor(session: Session, source: str) -> GoalSourceCursor | None:
    """The cursor of ``source``, locked for this transaction; None while another worker
    holds it (that worker is processing the same stream, so this one has nothing to do).

    The row is created on first use. PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite has one
    writer at a time anyway.
    """
    _insert_ignoring_duplicates(
        session,
        GoalSourceCursor,
        [
            {
                "source": source,
                "position": "",
                "processed": 0,
                "malformed": 0,
                "updated_at": utcnow(),
            }
        ],
    )
    query = select(GoalSourceCursor).where(GoalSourceCursor.source == source)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.scalars(query.execution_options(populate_existing=True)).first()


def list_cursors(session: Session) -> list[GoalSourceCursor]:
    return list(session.scalars(select(GoalSourceCursor).order_by(GoalSourceCursor.source)))


@dataclass(frozen=True)
class LiveGoal:
    """What the engine reads of an active goal to count towards it (a plain row, not an ORM
    object: a batch reads thousands)."""

    id: int
    owner: Learner
    metric_key: str
    # As stored (JSON text): most candidates of a batch are dropped unread, and decoding
    # thousands of parameter objects cost as much as the counting.
    metric_params_json: str
    target: float
    starts_at: datetime
    due_at: datetime
    progress: float


_LIVE_COLUMNS = (
    Goal.id,
    Goal.platform_id,
    Goal.sub,
    Goal.metric_key,
    cast(Goal.metric_params, Text).label("metric_params"),
    Goal.target,
    Goal.starts_at,
    Goal.due_at,
    Goal.progress,
)


def _live(rows: Iterable[Any], wanted: Collection[tuple[Learner, str]]) -> list[LiveGoal]:
    # Filtered before a LiveGoal is made: a batch's query returns every goal of its learners
    # on any metric it can count, and most of them no statement of theirs matches.
    found = []
    for goal_id, platform_id, sub, metric_key, params, target, starts_at, due_at, progress in rows:
        owner = (platform_id, sub)
        if (owner, metric_key) in wanted:
            found.append(
                LiveGoal(
                    goal_id, owner, metric_key, params or "{}", target, starts_at, due_at, progress
                )
            )
    return found


# --- the outbox stream -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxStatement:
    id: int
    statement_id: str
    owner: Learner
    # What the engine reads of the statement (its summary, or the statement itself on rows
    # queued before the outbox kept summaries), on the first row of the batch with this
    # statement id whose learner has a goal; None on every other row (see read_outbox).
    statement: Mapping[str, Any] | None


def read_outbox(
    session: Session, *, after: int, also: Collection[int] = (), limit: int = 1000
) -> list[OutboxStatement]:
    """One engine batch: the outbox rows above ``after`` (at most ``limit``) plus the ``also``
    ids that exist (earlier gaps now committed), in id order.

    Every row comes back, since the cursor must see every id, but only rows whose learner
    has a goal (any status) carry what the engine reads: the bulk of a busy outbox is never
    sent nor decoded. What is sent is the row's summary (``xapi.summary``), a few hundred
    bytes, or the whole statement on a row queued before summaries were kept. A statement
    queued for several destinations is decoded once, on its first row in the batch; the
    others carry None.
    """
    wanted: ColumnElement[bool] = OutboxRow.id > after
    if also:
        wanted = wanted | _among(session, OutboxRow.id, sorted(also))
    has_goal = tuple_(OutboxRow.platform_id, OutboxRow.sub).in_(select(Goal.platform_id, Goal.sub))
    # As text, decoded here: only the first row of a statement is worth decoding.
    payload = cast(func.coalesce(OutboxRow.summary, OutboxRow.statement), Text)
    rows = _execute(
        session,
        select(
            OutboxRow.id,
            OutboxRow.statement_id,
            OutboxRow.platform_id,
            OutboxRow.sub,
            case((has_goal, payload), else_=None),
        )
        .where(wanted)
        .order_by(OutboxRow.id)
        .limit(limit + len(also)),
    )
    found = []
    decoded: set[str] = set()
    for row_id, statement_id, platform_id, sub, text in rows:
        statement = None
        if text is not None and statement_id not in decoded:
            decoded.add(statement_id)
            statement = json.loads(text)
        found.append(OutboxStatement(int(row_id), str(statement_id), (platform_id, sub), statement))
    return found


def _window(session: Session, after: int, high: int, also: Collection[int]) -> ColumnElement[bool]:
    # A batch is an id range plus a few late ids: ranges keep the statements small and
    # their plans cheap, however many rows the batch holds.
    inside: ColumnElement[bool] = (OutboxRow.id > after) & (OutboxRow.id <= high)
    if also:
        inside = inside | _among(session, OutboxRow.id, sorted(also))
    return inside


def list_live_goals_in_outbox(
    session: Session,
    wanted: Collection[tuple[Learner, str]],
    *,
    after: int,
    high: int,
    also: Collection[int] = (),
) -> list[LiveGoal]:
    """Active goals of the (learner, metric key) pairs in ``wanted``, each learner owning a
    statement of the batch, oldest first (served by ix_goal_learner_metric: the engine's
    index by learner and metric). The batch names the learners, so they are not sent."""
    if not wanted:
        return []
    metric_keys = sorted({metric for _, metric in wanted})
    owners = select(OutboxRow.platform_id, OutboxRow.sub).where(_window(session, after, high, also))
    return _live(
        _execute(
            session,
            select(*_LIVE_COLUMNS)
            .where(tuple_(Goal.platform_id, Goal.sub).in_(owners))
            .where(Goal.metric_key.in_(metric_keys))
            .where(Goal.status == GoalStatus.ACTIVE)
            .order_by(Goal.id),
        ),
        wanted,
    )


def _execute(session: Session, statement: Any) -> list[Any]:
    """Rows of a column query as plain tuples, past the ORM's row loading (which more than
    doubled the cost of reading a 2 000-row batch).

    It goes to the session's connection, so nothing is flushed first: only for reads that
    no change pending in the session can affect.
    """
    return list(session.connection().execute(statement).all())


def _among(
    session: Session, column: InstrumentedAttribute[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` as one array parameter on PostgreSQL (thousands of ids would
    otherwise be thousands of parameters to send and parse), a plain IN elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        item = Integer() if values and isinstance(values[0], int) else String()
        return column == any_(literal(list(values), postgresql.ARRAY(item)))
    return column.in_(values)


# --- goals and the ledger ------------------------------------------------------------------------


def list_live_goals(session: Session, wanted: Collection[tuple[Learner, str]]) -> list[LiveGoal]:
    """Active goals of the (learner, metric key) pairs in ``wanted``, oldest first (served by
    ix_goal_learner_metric: the engine's index by learner and metric)."""
    found: list[LiveGoal] = []
    learners = sorted({learner for learner, _ in wanted})
    metric_keys = sorted({metric for _, metric in wanted})
    # Chunked so one batch of many learners stays within the database's parameter limits.
    for start in range(0, len(learners), 500):
        chunk = learners[start : start + 500]
        found.extend(
            _live(
                _execute(
                    session,
                    select(*_LIVE_COLUMNS)
                    .where(tuple_(Goal.platform_id, Goal.sub).in_(chunk))
                    .where(Goal.metric_key.in_(metric_keys))
                    .where(Goal.status == GoalStatus.ACTIVE),
                ),
                wanted,
            )
        )
    return sorted(found, key=lambda goal: goal.id)


def list_ledger(session: Session, goal_ids: Collection[int]) -> list[GoalCountedStatement]:
    """Every ledger row of ``goal_ids``: the statements each has counted (voided ones too)."""
    if not goal_ids:
        return []
    return list(
        session.scalars(
            select(GoalCountedStatement).where(
                _among(session, GoalCountedStatement.goal_id, sorted(goal_ids))
            )
        )
    )


@dataclass(frozen=True)
class LedgerRow:
    goal_id: int
    statement_id: str
    key: str
    amount: float


def list_ledger_rows(
    session: Session,
    goal_ids: Collection[int],
    *,
    statement_ids: Collection[str],
    keys: Collection[str],
) -> list[LedgerRow]:
    """The ledger rows of ``goal_ids`` for these statements or counted keys: what a batch
    can touch, so reading them costs what the batch holds, not the goals' history."""
    if not goal_ids or not (statement_ids or keys):
        return []
    touched: ColumnElement[bool] = _among(
        session, GoalCountedStatement.statement_id, sorted(statement_ids) or [""]
    )
    if keys:
        touched = touched | _among(session, GoalCountedStatement.counted_key, sorted(keys))
    rows = _execute(
        session,
        select(
            GoalCountedStatement.goal_id,
            GoalCountedStatement.statement_id,
            GoalCountedStatement.counted_key,
            GoalCountedStatement.amount,
        )
        .where(_among(session, GoalCountedStatement.goal_id, sorted(goal_ids)))
        .where(touched),
    )
    return [
        LedgerRow(int(goal_id), str(statement_id), str(key or statement_id), float(amount))
        for goal_id, statement_id, key, amount in rows
    ]


def add_ledger_rows(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert counted statements; a (goal, statement) pair already there is skipped, so a
    redelivered statement counts nothing."""
    if not rows:
        return
    # executemany of one cached statement: a multi-row VALUES would be compiled afresh for
    # every batch size, which cost more than the insert itself.
    dialect = session.get_bind().dialect.name
    insert_stmt: Any = (postgresql if dialect == "postgresql" else sqlite).insert(
        GoalCountedStatement
    )
    session.execute(insert_stmt.on_conflict_do_nothing(), [dict(r) for r in rows])


def void_statements(session: Session, statement_ids: Collection[str]) -> set[int]:
    """Uncount voided statements (their rows keep amount 0, so a redelivery of the voided
    statement meets its row and stays uncounted). The goals whose ledger changed."""
    if not statement_ids:
        return set()
    goal_ids = set(
        session.scalars(
            select(GoalCountedStatement.goal_id).where(
                _among(session, GoalCountedStatement.statement_id, sorted(statement_ids)),
                GoalCountedStatement.amount > 0,
            )
        )
    )
    if goal_ids:
        session.execute(
            update(GoalCountedStatement)
            .where(GoalCountedStatement.statement_id.in_(sorted(statement_ids)))
            .values(amount=0.0)
        )
    return goal_ids


def list_voided(session: Session, statement_ids: Collection[str]) -> set[str]:
    """Which of ``statement_ids`` a voiding statement already read has voided."""
    if not statement_ids:
        return set()
    return {
        str(statement_id)
        for (statement_id,) in _execute(
            session,
            select(GoalVoidedStatement.statement_id).where(
                _among(session, GoalVoidedStatement.statement_id, sorted(statement_ids))
            ),
        )
    }


def add_voided(session: Session, statement_ids: Collection[str], now: datetime) -> None:
    """Remember voided statements, so one read later (after its voiding statement) never
    counts; an id already remembered is skipped."""
    _insert_ignoring_duplicates(
        session,
        GoalVoidedStatement,
        [
            {"statement_id": statement_id, "voided_at": now}
            for statement_id in sorted(statement_ids)
        ],
    )


def count_progress(session: Session, goal_ids: Collection[int]) -> dict[int, float]:
    """Progress from the ledger: distinct counted keys of rows not voided, per goal."""
    if not goal_ids:
        return {}
    key = func.coalesce(GoalCountedStatement.counted_key, GoalCountedStatement.statement_id)
    rows = session.execute(
        select(GoalCountedStatement.goal_id, func.count(func.distinct(key)))
        .where(GoalCountedStatement.goal_id.in_(sorted(goal_ids)))
        .where(GoalCountedStatement.amount > 0)
        .group_by(GoalCountedStatement.goal_id)
    ).all()
    found = {goal_id: float(count) for goal_id, count in rows}
    return {goal_id: found.get(goal_id, 0.0) for goal_id in goal_ids}


def list_goals(session: Session, goal_ids: Collection[int]) -> list[Goal]:
    if not goal_ids:
        return []
    return list(session.scalars(select(Goal).where(Goal.id.in_(sorted(goal_ids)))))


def list_overdue_goals(session: Session, now: datetime, limit: int = 500) -> list[Goal]:
    """Active goals whose deadline has passed (served by ix_goal_status_due)."""
    return list(
        session.scalars(
            select(Goal)
            .where(Goal.status == GoalStatus.ACTIVE, Goal.due_at < now)
            .order_by(Goal.due_at, Goal.id)
            .limit(limit)
        )
    )


def get_earliest_goal_start(session: Session) -> datetime | None:
    """When the earliest goal (any status) started counting: where a new LRS source begins."""
    return session.scalar(select(func.min(Goal.starts_at)))


def count_goals_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Goal.status, func.count()).group_by(Goal.status)).all()
    return {str(GoalStatus(status).value): int(n) for status, n in rows}


# --- learners ---------------------------------------------------------------------------------


def list_latest_launches(session: Session, learners: Collection[Learner]) -> dict[Learner, Launch]:
    """Each learner's most recent launch: the engine's actor (platform actor format, email)
    for statements it records with no request at hand."""
    if not learners:
        return {}
    latest: dict[Learner, Launch] = {}
    ordered = sorted(learners)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        newest = (
            select(Launch.platform_id, Launch.sub, func.max(Launch.created_at).label("at"))
            .where(tuple_(Launch.platform_id, Launch.sub).in_(chunk))
            .group_by(Launch.platform_id, Launch.sub)
            .subquery()
        )
        for launch in session.scalars(
            select(Launch).join(
                newest,
                (Launch.platform_id == newest.c.platform_id)
                & (Launch.sub == newest.c.sub)
                & (Launch.created_at == newest.c.at),
            )
        ):
            latest[(launch.platform_id, launch.sub)] = launch
    return latest


def get_latest_launch(session: Session, learner: Learner) -> Launch | None:
    return list_latest_launches(session, [learner]).get(learner)


def list_platforms_by_issuer(session: Session, issuers: Collection[str]) -> dict[str, list[int]]:
    """Platform ids per issuer (one LMS may be registered more than once)."""
    if not issuers:
        return {}
    found: dict[str, list[int]] = {}
    for platform_id, issuer in session.execute(
        select(Platform.id, Platform.issuer).where(Platform.issuer.in_(sorted(issuers)))
    ):
        found.setdefault(issuer, []).append(platform_id)
    return found


def list_goal_learner_emails(session: Session) -> list[tuple[int, str, str, str]]:
    """(platform id, sub, email, the platform's actor format) for learners with an active
    goal on a platform that identifies actors by email: who an mbox or mbox_sha1sum actor
    from an external LRS can be."""
    live = select(Goal.platform_id, Goal.sub).where(Goal.status == GoalStatus.ACTIVE)
    rows = session.execute(
        select(Launch.platform_id, Launch.sub, Launch.email, Platform.actor_format)
        .join(Platform, Platform.id == Launch.platform_id)
        .where(Platform.actor_format.in_(("mbox", "mbox_sha1sum")))
        .where(Launch.email.is_not(None))
        .where(tuple_(Launch.platform_id, Launch.sub).in_(live))
        .distinct()
    ).all()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def _insert_ignoring_duplicates(
    session: Session, model: type[Any], rows: Iterable[dict[str, Any]]
) -> int:
    values = list(rows)
    if not values:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(model).values(values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(model).values(values).on_conflict_do_nothing()
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]
