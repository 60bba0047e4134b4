"""The goal engine: counts learning records towards learners' goals as they are committed.

Plain functions over a session (the task owns the transaction), testable without a broker.
Two kinds of stream feed it, each with its own cursor (``goal_source_cursor``):

- our outbox, read by id. Ids come from a sequence, and on PostgreSQL a transaction that
  took a lower id can commit after one that took a higher id; a plain "last id" cursor
  would skip the late row forever. The cursor keeps a high-water mark plus the ids below it
  it has not seen ("gaps", each with when it was first missed on the database clock) and
  looks them up again on every run until they appear, or until ``gap_wait`` has passed
  (rolled-back inserts and ON CONFLICT DO NOTHING also burn ids that never appear).
- external LRSs (``CXA_GOAL_SOURCES``), read with ``since`` and ``more`` (xAPI 1.0.3 Part
  Three 2.1.3), ascending by stored time. The cursor moves only in the transaction that
  processed the page; an LRS that is down leaves it where it was. ``since`` re-reads a
  short overlap, because an LRS too can make a statement visible after a later-stored one.

Every statement is read once per batch, even when the outbox holds it once per destination,
and counts towards a goal at most once: the ledger's (goal, statement) key makes a redelivery
or a re-read count nothing. A statement loads only its learner's active goals whose metric
can match it (``GoalRules.metrics_for``, served by the goal table's learner-and-metric
index), so a batch costs what is in it, not the history behind it. The rules themselves are
pure (``workers.goal_rules``); ``replay_history`` there recomputes from a whole history and
the property test proves both paths agree.
"""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from sqlalchemy.orm import Session

from content.catalog import Catalog
from lti_tool import goal_events
from lti_tool.recording import IRI_BASE, OUTBOX_TOUCHED
from lti_tool.store import goal_ledger, outbox
from lti_tool.store.badges import issue_for_goal
from lti_tool.store.goal_ledger import OUTBOX_SOURCE, Learner, LiveGoal, lrs_source
from lti_tool.store.goals import Goal, GoalSourceCursor, GoalStatus
from lti_tool.store.installation import statement_namespace
from lti_tool.store.models import Launch
from lti_tool.store.outbox import database_now
from workers.goal_rules import (
    ACHIEVED,
    GoalRules,
    GoalSpec,
    GoalState,
    MalformedStatementError,
    Reading,
    counted_key,
    live_keys,
    read_statement,
)
from xapi.errors import LRSError, StatementError
from xapi.events import LearningEvent
from xapi.lrs import LRSClient
from xapi.statements import build_statement, mbox, mbox_sha1sum

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnginePolicy:
    """How much the engine reads per run and how long it waits for a missing outbox id."""

    # Outbox rows per batch (one transaction each). Each batch costs about a dozen queries
    # whatever its size: 5 000 rows took about a tenth less CPU per statement than 2 000
    # (benchmarks/goals.py), and still commit within a fraction of a second.
    batch_size: int = 5000
    # How long an outbox id below the high-water mark is looked for before it is taken for a
    # rolled-back insert. A web request's transaction lasts seconds; ten minutes is generous.
    gap_wait: timedelta = timedelta(minutes=10)
    # Open gaps kept at most; past it the oldest are dropped (and logged).
    max_gaps: int = 20_000
    # Statements asked per LRS page.
    page_size: int = 500
    # How far before its last stored time the LRS cursor reads again (see the docstring).
    lrs_overlap: timedelta = timedelta(seconds=5)
    # How long after its deadline a goal waits before it is marked missed: learning done
    # just before the deadline may still be on its way (outbox kick, an LRS page).
    missed_grace: timedelta = timedelta(minutes=15)


@dataclass
class EngineReport:
    """What one run did; ``busy`` means more is waiting (the task runs again)."""

    source: str
    processed: int = 0
    malformed: int = 0
    counted: int = 0
    voided: int = 0
    progressed: int = 0
    achieved: int = 0
    busy: bool = False
    locked: bool = False
    error: str | None = None


def on_goal_achieved(session: Session, goal: Goal, now: datetime) -> None:
    """Called once when ``goal`` becomes achieved, inside the engine's transaction.

    The hook point for what achievement unlocks: the badges feature issues its Open Badges
    credential here. Whatever it writes commits (or rolls back) with the achievement, so an
    achievement is never recorded without its credential nor the other way round.
    """
    issue_for_goal(session, goal, now=now)


AchievedHook = Callable[[Session, Goal, datetime], None]


class GoalEngine:
    """Counts readings towards goals and records what changed (progressed, achieved)."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        policy: EnginePolicy | None = None,
        achieved_hook: AchievedHook | None = None,
    ) -> None:
        self.catalog = catalog
        self.rules = GoalRules(catalog)
        self.policy = policy or EnginePolicy()
        self.achieved_hook = achieved_hook or on_goal_achieved

    # --- sources ----------------------------------------------------------------------------

    def process_outbox(self, session: Session) -> EngineReport:
        """One batch of the outbox stream, with the cursor moved in the same transaction."""
        with _collector_paused():
            return self._process_outbox(session)

    def _process_outbox(self, session: Session) -> EngineReport:
        report = EngineReport(OUTBOX_SOURCE)
        cursor = goal_ledger.lock_cursor(session, OUTBOX_SOURCE)
        if cursor is None:
            report.locked = True
            return report
        now = database_now(session)
        after = int(cursor.position or 0)
        gaps = dict(cursor.gaps or {})
        rows = goal_ledger.read_outbox(
            session, after=after, also=[int(i) for i in gaps], limit=self.policy.batch_size
        )
        fresh = [row.id for row in rows if row.id > after]
        high = max(fresh, default=after)
        late = [row.id for row in rows if row.id <= after]
        for row in rows:
            gaps.pop(str(row.id), None)
        stamp = now.isoformat()
        present = set(fresh)
        for missing in range(after + 1, high):
            if missing not in present:
                gaps[str(missing)] = stamp
        gaps = self._expire_gaps(gaps, now)

        items: list[tuple[tuple[Learner, ...], Reading]] = []
        statement_ids: set[str] = set()
        for row in rows:
            # One row per destination: the first one read stands for the statement, and
            # every statement the batch covers is processed, read or not.
            if row.statement_id in statement_ids:
                continue
            statement_ids.add(row.statement_id)
            if row.statement is None:
                continue
            try:
                items.append(((row.owner,), read_statement(row.statement)))
            except MalformedStatementError as err:
                report.malformed += 1
                log.warning("goal engine skipped outbox row %s: %s", row.id, err)

        def load(wanted: Collection[tuple[Learner, str]]) -> list[LiveGoal]:
            return goal_ledger.list_live_goals_in_outbox(
                session, wanted, after=after, high=high, also=late
            )

        report.processed = len(statement_ids)
        self.apply(session, items, now, report, load)
        cursor.position = str(high)
        cursor.gaps = gaps or None
        self._advance(cursor, report, now)
        report.busy = len(fresh) >= self.policy.batch_size
        return report

    def process_lrs_page(self, session: Session, name: str, client: LRSClient) -> EngineReport:
        """One page from an external LRS; the cursor stays put when the LRS fails."""
        with _collector_paused():
            return self._process_lrs_page(session, name, client)

    def _process_lrs_page(self, session: Session, name: str, client: LRSClient) -> EngineReport:
        source = lrs_source(name)
        report = EngineReport(source)
        cursor = goal_ledger.lock_cursor(session, source)
        if cursor is None:
            report.locked = True
            return report
        now = database_now(session)
        previous = _parse_time(cursor.position)
        try:
            if cursor.more:
                page, more = client.read_statements_page(more=cursor.more)
            else:
                params = {"ascending": "true", "limit": str(self.policy.page_size)}
                # A first pull starts at the earliest goal (nothing older can count), not at
                # the beginning of an LRS that may hold years of other tools' records.
                start = previous or goal_ledger.get_earliest_goal_start(session) or now
                since = start - self.policy.lrs_overlap
                params["since"] = since.isoformat().replace("+00:00", "Z")
                page, more = client.read_statements_page(**params)
        except LRSError as err:
            # Nothing is lost: the cursor (position and "more") is left as it was.
            report.error = str(err)
            cursor.last_error = f"{now.isoformat()}: {err}"[:2000]
            cursor.updated_at = now
            return report

        identities = _Identities(session)
        items: list[tuple[tuple[Learner, ...], Reading]] = []
        newest = previous
        for data in page:
            stored = _parse_time(data.get("stored")) if isinstance(data, dict) else None
            if stored is not None and (newest is None or stored > newest):
                newest = stored
            try:
                reading = read_statement(data)
            except MalformedStatementError as err:
                report.malformed += 1
                log.warning("goal engine skipped a statement from LRS %s: %s", name, err)
                continue
            # Statements in the re-read overlap were counted as processed the first time.
            if previous is None or stored is None or stored > previous:
                report.processed += 1
            owners = identities.owners(reading.actor) if reading.voids is None else ()
            items.append((owners, reading))
        self.apply(
            session, items, now, report, lambda wanted: goal_ledger.list_live_goals(session, wanted)
        )
        cursor.more = more
        if newest is not None:
            cursor.position = newest.isoformat()
        cursor.last_error = None
        self._advance(cursor, report, now)
        report.busy = more is not None
        return report

    def mark_missed(self, session: Session, now: datetime | None = None) -> int:
        """Mark active goals past their deadline missed and record it; the number marked."""
        moment = now or database_now(session)
        goals = goal_ledger.list_overdue_goals(session, moment - self.policy.missed_grace)
        launches = goal_ledger.list_latest_launches(
            session, {(g.platform_id, g.sub) for g in goals}
        )
        events: list[tuple[LearningEvent, Launch]] = []
        for goal in goals:
            goal.status = GoalStatus.MISSED
            goal.ended_at = moment
            goal.updated_at = moment
            launch = launches.get((goal.platform_id, goal.sub))
            if launch is not None:
                event = goal_events.goal_missed_event(launch, goal, self.catalog, goal.due_at)
                events.append((event, launch))
        self._record(session, events)
        return len(goals)

    # --- counting -------------------------------------------------------------------------

    def apply(
        self,
        session: Session,
        items: Sequence[tuple[tuple[Learner, ...], Reading]],
        now: datetime,
        report: EngineReport,
        load_goals: Callable[[Collection[tuple[Learner, str]]], list[LiveGoal]],
    ) -> None:
        """Count ``items`` (owners, reading) in stream order towards their learners' goals.

        ``load_goals`` returns the active goals of the given (learner, metric key) pairs:
        the metric index keeps goals no statement of the batch can count for out of memory.
        """
        wanted: set[tuple[Learner, str]] = set()
        metrics_of: list[frozenset[str]] = []
        for owners, reading in items:
            metrics = self.rules.metrics_for(reading)
            metrics_of.append(metrics)
            wanted.update((owner, metric) for owner in owners for metric in metrics)
        # Only the goals some statement of the batch can count for: a learner's goal on
        # another metric stays in the database, ledger and all.
        live = load_goals(wanted) if wanted else []
        by_learner: dict[Learner, list[LiveGoal]] = {}
        for goal in live:
            by_learner.setdefault(goal.owner, []).append(goal)
        # A statement voided by a voiding statement read in an earlier batch never counts,
        # however late it arrives (an LRS page read again, an outbox id committed late).
        voided_ids = goal_ledger.list_voided(
            session,
            {
                reading.statement_id
                for (owners, reading), metrics in zip(items, metrics_of, strict=True)
                if metrics and any(owner in by_learner for owner in owners)
            },
        )
        states: dict[int, GoalState] = {goal.id: GoalState(_spec(goal)) for goal in live}
        for row in self._touchable_rows(session, states, items):
            states[row.goal_id].rows[row.statement_id] = [row.key, row.amount]
        for goal in live:
            state = states[goal.id]
            # The stored progress stands for every row not loaded (see GoalState).
            state.base = goal.progress - live_keys(state.rows)
        known = {goal_id: set(state.rows) for goal_id, state in states.items()}

        # Each change of each goal, in stream order: one progressed statement per step, so
        # the learner's record says the same whatever the batch boundaries were.
        steps: dict[int, list[tuple[float, Reading, bool]]] = {}
        last = {goal_id: state.progress for goal_id, state in states.items()}

        def step(goal_id: int, reading: Reading, was_active: bool) -> None:
            state = states[goal_id]
            if state.progress != last[goal_id]:
                last[goal_id] = state.progress
                reached = was_active and state.status == ACHIEVED
                steps.setdefault(goal_id, []).append((state.progress, reading, reached))

        voided: list[str] = []
        for (owners, reading), metrics in zip(items, metrics_of, strict=True):
            if reading.voids is not None:
                voided.append(reading.voids)
                voided_ids.add(reading.voids)
                for goal_id, state in states.items():
                    if state.void(reading.voids):
                        step(goal_id, reading, False)
                continue
            if not metrics or reading.statement_id in voided_ids:
                continue
            for owner in owners:
                for goal in by_learner.get(owner, ()):
                    state = states[goal.id]
                    was_active = state.status != ACHIEVED
                    if state.offer(self.rules, reading):
                        report.counted += 1
                        step(goal.id, reading, was_active)

        new_rows = [
            {
                "goal_id": goal_id,
                "statement_id": statement_id,
                "counted_key": key,
                "amount": amount,
                "counted_at": now,
            }
            for goal_id, state in states.items()
            for statement_id, (key, amount) in state.rows.items()
            if statement_id not in known[goal_id]
        ]
        goal_ledger.add_ledger_rows(session, new_rows)
        elsewhere: set[int] = set()
        if voided:
            goal_ledger.add_voided(session, set(voided), now)
            elsewhere = goal_ledger.void_statements(session, voided) - set(states)
            report.voided = len(voided)

        # ORM rows only for the goals that changed: loading every candidate as an object
        # cost more than all the counting.
        goals = goal_ledger.list_goals(session, set(steps))
        others = goal_ledger.list_goals(session, elsewhere)
        launches = goal_ledger.list_latest_launches(
            session, {(g.platform_id, g.sub) for g in [*goals, *others]}
        )
        events: list[tuple[LearningEvent, Launch]] = []
        with session.no_autoflush:
            for changed in goals:
                for after, reading, reached in steps.get(changed.id, ()):
                    self._update(session, changed, after, reading, launches, report, events)
                    if reached and changed.status is GoalStatus.ACTIVE:
                        self._achieve(session, changed, reading, launches, now, report, events)
        if others:
            # Goals the batch did not load (no statement in it could count for them) whose
            # counted statements were voided: their progress is recounted from the ledger.
            progress = goal_ledger.count_progress(session, elsewhere)
            void_reading = next(r for _, r in items if r.voids is not None)
            for other in others:
                self._update(
                    session, other, progress[other.id], void_reading, launches, report, events
                )
        self._record(session, events)

    @staticmethod
    def _touchable_rows(
        session: Session,
        states: Mapping[int, GoalState],
        items: Sequence[tuple[tuple[Learner, ...], Reading]],
    ) -> list[goal_ledger.LedgerRow]:
        """The ledger rows the batch can touch: rows of its statements (redeliveries), of
        the keys they could count as, and every row sharing a key with a voided statement."""
        statement_ids = {reading.statement_id for _, reading in items}
        voided = {reading.voids for _, reading in items if reading.voids is not None}
        keys = set(statement_ids)
        keys.update(counted_key(reading.object_id) for _, reading in items if reading.voids is None)
        rows = goal_ledger.list_ledger_rows(
            session, states, statement_ids=statement_ids | voided, keys=keys
        )
        more = {row.key for row in rows if row.statement_id in voided} - keys
        if more:
            rows += goal_ledger.list_ledger_rows(session, states, statement_ids=(), keys=more)
        return rows

    def _update(
        self,
        session: Session,
        goal: Goal,
        after: float,
        trigger: Reading,
        launches: Mapping[Learner, Launch],
        report: EngineReport,
        events: list[tuple[LearningEvent, Launch]],
    ) -> None:
        if after == goal.progress:
            return
        before = goal.progress
        goal.progress = after
        goal.updated_at = datetime.now(UTC)
        report.progressed += 1
        launch = launches.get((goal.platform_id, goal.sub))
        if launch is None:
            return
        event = goal_events.goal_progressed_event(
            launch,
            goal,
            self.catalog,
            trigger=trigger.statement_id,
            at=trigger.timestamp,
            milestone=crossed_milestone(before, after, goal.target),
        )
        events.append((event, launch))

    def _achieve(
        self,
        session: Session,
        goal: Goal,
        trigger: Reading,
        launches: Mapping[Learner, Launch],
        now: datetime,
        report: EngineReport,
        events: list[tuple[LearningEvent, Launch]],
    ) -> None:
        goal.status = GoalStatus.ACHIEVED
        goal.ended_at = now
        report.achieved += 1
        launch = launches.get((goal.platform_id, goal.sub))
        if launch is not None:
            event = goal_events.goal_achieved_event(launch, goal, self.catalog, trigger.timestamp)
            events.append((event, launch))
        self.achieved_hook(session, goal, now)

    def _record(self, session: Session, events: Sequence[tuple[LearningEvent, Launch]]) -> None:
        """Queue the goal statements of a batch in one INSERT (``record_event`` one at a time
        would cost a destination query and a flush each)."""
        if not events:
            return
        namespace = statement_namespace(session)
        iri_base = session.info.get(IRI_BASE)
        statements = []
        for event, launch in events:
            try:
                statement = build_statement(event, namespace=namespace, iri_base=iri_base)
            except StatementError as err:
                # A goal statement that cannot be built (a launch row with odd data) must not
                # stop the engine: the progress itself is already in the goal row.
                log.warning("goal statement not recorded: %s", err)
                continue
            statements.append((statement, (launch.platform_id, launch.sub)))
        outbox.add_statements(session, statements)
        session.info[OUTBOX_TOUCHED] = True

    def _expire_gaps(self, gaps: dict[str, str], now: datetime) -> dict[str, str]:
        oldest = now - self.policy.gap_wait
        kept = {gap: first for gap, first in gaps.items() if (_parse_time(first) or now) >= oldest}
        if len(kept) > self.policy.max_gaps:
            dropped = sorted(kept, key=int)[: len(kept) - self.policy.max_gaps]
            log.warning("goal engine stopped waiting for %d outbox ids early", len(dropped))
            for gap in dropped:
                kept.pop(gap)
        return kept

    @staticmethod
    def _advance(cursor: GoalSourceCursor, report: EngineReport, now: datetime) -> None:
        cursor.processed += report.processed
        cursor.malformed += report.malformed
        cursor.updated_at = now


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector is kept from running during a batch.

    A batch makes tens of thousands of short-lived containers (rows, decoded summaries,
    readings, ledger maps). Each batch's survivors triggered full collections, and a full
    collection walks every object in the process (the curriculum, SQLAlchemy's caches):
    about a fifth of the engine's CPU in benchmarks/goals.py. Reference counting still frees
    the batch's objects; what cycles it leaves are collected once the collector is back on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def crossed_milestone(before: float, after: float, target: float) -> float | None:
    """The highest milestone (0.5, 1.0 of the target) passed going from before to after."""
    if target <= 0 or after <= before:
        return None
    crossed = [m for m in goal_events.MILESTONES if before / target < m <= after / target]
    return crossed[-1] if crossed else None


def _spec(goal: LiveGoal) -> GoalSpec:
    return GoalSpec(
        id=goal.id,
        metric=goal.metric_key,
        params=_params(goal.metric_params_json),
        target=goal.target,
        starts_at=goal.starts_at,
        due_at=goal.due_at,
    )


@lru_cache(maxsize=4096)
def _params(text: str) -> Mapping[str, Any]:
    # Most goals share a handful of parameter sets: each is decoded once per process. The
    # rules only read a goal's parameters, so one shared (read-only) mapping is safe.
    return MappingProxyType(json.loads(text) or {})


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class _Identities:
    """Who an external statement's actor is, as each platform identifies its learners
    (``Platform.actor_format``): an LTI account (homePage = issuer, name = sub), or an mbox
    or mbox_sha1sum made from the email of their launches."""

    session: Session
    _issuers: dict[str, list[int]] = field(default_factory=dict)
    _emails: dict[str, list[Learner]] | None = None

    def owners(self, actor: Mapping[str, Any]) -> tuple[Learner, ...]:
        account = actor.get("account")
        if isinstance(account, Mapping):
            home, name = account.get("homePage"), account.get("name")
            if not isinstance(home, str) or not isinstance(name, str):
                return ()
            if home not in self._issuers:
                self._issuers.update(goal_ledger.list_platforms_by_issuer(self.session, [home]))
                self._issuers.setdefault(home, [])
            return tuple((platform_id, name) for platform_id in self._issuers[home])
        if self._emails is None:
            self._emails = {}
            for platform_id, sub, email, actor_format in goal_ledger.list_goal_learner_emails(
                self.session
            ):
                try:
                    key = mbox(email) if actor_format == "mbox" else mbox_sha1sum(email)
                except StatementError:
                    continue
                self._emails.setdefault(key, []).append((platform_id, sub))
        address = actor.get("mbox")
        if isinstance(address, str) and address.startswith("mailto:"):
            try:
                return tuple(self._emails.get(mbox(address[len("mailto:") :]), ()))
            except StatementError:
                return ()
        digest = actor.get("mbox_sha1sum")
        if isinstance(digest, str):
            return tuple(self._emails.get(digest.lower(), ()))
        return ()
