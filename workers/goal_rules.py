"""The goal engine's pure rules: what a statement says, which metrics it can count for, how
much, and how a goal's progress follows from the statements counted towards it.

No database and no queue: the engine (``workers.goal_engine``) feeds statements in and
persists what comes out, and the property test replays whole histories through
``replay_history`` to prove the incremental path reaches the same result.

Progress is the number of distinct *counted keys* among the goal's counted statements that
are not voided: a lesson, quiz or course counts once however often it is repeated; a
role-play run, a practice entry, a self-assessment or an external record counts each time.
A goal counts only learning whose time lies in [starts_at, due_at] and only while it is
active; reaching the target makes it achieved, and achievement is final (a later voiding
lowers the progress shown, never the status, since a badge may have been issued).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from content.catalog import Catalog
from content.goals import SELF_REPORTED
from xapi import vocabulary

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
"""xAPI 1.0.3 Part Two, 2.3.2: a statement with this verb voids the statement it refers to."""

ACTIVE = "active"
ACHIEVED = "achieved"

# Every metric an external record can count for: any statement may match a verb and type.
_EXTERNAL = "external_statements"


class MalformedStatementError(ValueError):
    """Raised when a statement lacks what the engine reads (id, actor, verb, object, time)."""


_SUFFIXES: dict[str, str] = {}


def _suffix(iri: str) -> str:
    # Our own IRIs are moved under each operator's base (xapi.iris), so they are recognised
    # by what follows the base; ADL, cmi5 and Tin Can IRIs are compared whole.
    found = _SUFFIXES.get(iri)
    if found is None:
        found = _SUFFIXES[iri] = iri[len(vocabulary.CX_BASE) - 1 :]
    return found


def _is(value: object, iri: str) -> bool:
    if not isinstance(value, str):
        return False
    if iri.startswith(vocabulary.CX_BASE):
        return value.endswith(_suffix(iri))
    return value == iri


def _extension(extensions: object, iri: str) -> Any:
    if not isinstance(extensions, Mapping):
        return None
    for key, value in extensions.items():
        if _is(key, iri):
            return value
    return None


@dataclass(frozen=True)
class Reading:
    """What the engine reads from one statement."""

    statement_id: str
    actor: Mapping[str, Any]
    verb: str
    object_id: str
    object_type: str | None
    timestamp: datetime
    # The day logged practice happened (practice-date extension), compared by day.
    practice_date: date | None = None
    # The id of the statement this one voids, for a voiding statement.
    voids: str | None = None
    scaled: float | None = None
    skill_scores: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    skill_ratings: Mapping[str, float] = field(default_factory=dict)

    @property
    def kind_and_slug(self) -> tuple[str, str]:
        """The last two path segments of the object id (``lesson``, ``active-listening``)."""
        parts = self.object_id.rstrip("/").rsplit("/", 2)
        return (parts[-2], parts[-1]) if len(parts) == 3 else ("", parts[-1])


def read_statement(data: object) -> Reading:
    """The engine's reading of a statement; ``MalformedStatementError`` if it cannot be read.

    Reads only members that ``xapi.summary`` keeps: the outbox hands the engine a summary
    instead of the statement, and the two must read alike (tests/unit/workers/
    test_goal_summary.py fails when a member read here is left out there).
    """
    if not isinstance(data, Mapping):
        raise MalformedStatementError("a statement must be a JSON object")
    statement_id = data.get("id")
    actor = data.get("actor")
    verb = data.get("verb")
    obj = data.get("object")
    stamp = data.get("timestamp") or data.get("stored")
    if not isinstance(statement_id, str) or not statement_id or len(statement_id) > 36:
        raise MalformedStatementError("statement without a usable id")
    if not isinstance(actor, Mapping):
        raise MalformedStatementError(f"statement {statement_id} has no actor")
    if not isinstance(verb, Mapping) or not isinstance(verb.get("id"), str):
        raise MalformedStatementError(f"statement {statement_id} has no verb id")
    if not isinstance(obj, Mapping) or not isinstance(obj.get("id"), str):
        raise MalformedStatementError(f"statement {statement_id} has no object id")
    timestamp = _timestamp(stamp)
    if timestamp is None:
        raise MalformedStatementError(f"statement {statement_id} has no valid timestamp")
    verb_id = str(verb["id"])
    if verb_id == VOIDED:
        if obj.get("objectType") != "StatementRef":
            raise MalformedStatementError(
                f"voiding statement {statement_id} refers to no statement"
            )
        return Reading(
            statement_id, actor, verb_id, str(obj["id"]), None, timestamp, voids=str(obj["id"])
        )
    definition = obj.get("definition")
    object_type = definition.get("type") if isinstance(definition, Mapping) else None
    context = data.get("context")
    result = data.get("result")
    context_ext = context.get("extensions") if isinstance(context, Mapping) else None
    result_ext = result.get("extensions") if isinstance(result, Mapping) else None
    score = result.get("score") if isinstance(result, Mapping) else None
    scaled = score.get("scaled") if isinstance(score, Mapping) else None
    return Reading(
        statement_id=statement_id,
        actor=actor,
        verb=verb_id,
        object_id=str(obj["id"]),
        object_type=object_type if isinstance(object_type, str) else None,
        timestamp=timestamp,
        practice_date=_date(_extension(context_ext, vocabulary.PRACTICE_DATE)),
        scaled=float(scaled) if isinstance(scaled, int | float) and _number(scaled) else None,
        skill_scores=_skill_scores(_extension(result_ext, vocabulary.SKILL_SCORES)),
        skill_ratings=_skill_ratings(_extension(result_ext, vocabulary.SKILL_RATINGS)),
    )


def _timestamp(value: object) -> datetime | None:
    # Python's ISO 8601 reader is a fraction of the cost of a full RFC 3339 check and reads
    # every form an LRS sends; a time without a zone is taken as UTC.
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _skill_scores(value: object) -> dict[str, tuple[float, float]]:
    if not isinstance(value, Mapping):
        return {}
    scores: dict[str, tuple[float, float]] = {}
    for skill, points in value.items():
        if (
            isinstance(points, Mapping)
            and _number(points.get("raw"))
            and _number(points.get("max"))
        ):
            scores[str(skill)] = (float(points["raw"]), float(points["max"]))
    return scores


def _skill_ratings(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        return {}
    return {str(skill): float(rating) for skill, rating in value.items() if _number(rating)}


@dataclass(frozen=True)
class Count:
    """A statement counted towards a goal: what it counts as (``key``)."""

    key: str


def counted_key(value: str) -> str:
    """A ledger key of at most 64 characters: the value itself, or its SHA-256 when longer."""
    return value if len(value) <= 64 else hashlib.sha256(value.encode("utf-8")).hexdigest()


class GoalRules:
    """The metric rules over one curriculum (lesson skills are looked up once, here)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._metrics: dict[str, frozenset[str]] = {}
        self._lesson_skills: dict[str, frozenset[str]] = {
            lesson.id: frozenset(
                question.skill
                for question_id in lesson.knowledge_check
                if (question := catalog.get_question(question_id)) is not None
            )
            for lesson in catalog.list_lessons()
        }

    def metrics_for(self, reading: Reading) -> frozenset[str]:
        """The metric keys ``reading`` could count for: the engine's index into goals, so a
        statement only ever loads goals whose metric can match it."""
        # Asked once per goal a statement is offered to; a statement id names one statement.
        found = self._metrics.get(reading.statement_id)
        if found is None:
            if len(self._metrics) > 100_000:
                self._metrics.clear()
            found = self._metrics[reading.statement_id] = self._metrics_for(reading)
        return found

    def _metrics_for(self, reading: Reading) -> frozenset[str]:
        if reading.voids is not None or _is_goal_record(reading):
            return frozenset()
        keys = {_EXTERNAL}
        kind, _slug = reading.kind_and_slug
        verb, kind_type = reading.verb, reading.object_type
        if verb == vocabulary.EXPERIENCED.iri and kind_type == vocabulary.LESSON:
            keys.add("lessons_experienced")
        elif verb == vocabulary.PASSED.iri and kind_type == vocabulary.ASSESSMENT:
            keys.add("quizzes_passed")
        elif verb == vocabulary.COMPLETED.iri and kind_type == vocabulary.SIMULATION:
            keys.add("roleplays_finished")
        elif (
            verb == vocabulary.COMPLETED.iri and kind_type == vocabulary.COURSE and kind == "course"
        ):
            keys.add("courses_completed")
        elif verb == vocabulary.COMPLETED.iri and kind_type == vocabulary.SURVEY:
            keys.add("skill_rated")
        elif _is(verb, vocabulary.LOGGED.iri) and _is(kind_type, vocabulary.PRACTICE):
            keys.add("practice_logged")
        return frozenset(keys)

    def count(self, metric: str, params: Mapping[str, Any], reading: Reading) -> Count | None:
        """What ``reading`` counts as for a goal with this metric, or None if it does not."""
        kind, slug = reading.kind_and_slug
        if metric not in self.metrics_for(reading) or metric == SELF_REPORTED:
            return None
        own = Count(reading.statement_id)
        item = Count(counted_key(reading.object_id))
        if metric == "lessons_experienced":
            skills = self._lesson_skills.get(slug, frozenset())
            return item if kind == "lesson" and params.get("skill") in skills else None
        if metric == "quizzes_passed":
            minimum = float(params.get("min_score", 0.0))
            scaled = reading.scaled
            return item if scaled is not None and scaled >= minimum else None
        if metric == "roleplays_finished":
            points = reading.skill_scores.get(str(params.get("skill")))
            if points is None or points[1] <= 0:
                return None
            return (
                own if points[0] * 100 / points[1] >= float(params.get("min_percent", 0)) else None
            )
        if metric == "courses_completed":
            wanted = params.get("course")
            return item if not wanted or wanted == slug else None
        if metric == "skill_rated":
            rating = reading.skill_ratings.get(str(params.get("skill")))
            return own if rating is not None and rating >= float(params["min_rating"]) else None
        if metric == "practice_logged":
            return own if slug == params.get("kind") else None
        if metric == _EXTERNAL:
            matches = reading.verb == params.get("verb") and reading.object_type == params.get(
                "activity_type"
            )
            return own if matches else None
        return None


def _is_goal_record(reading: Reading) -> bool:
    # Our own goal statements never count towards a goal: a goal "progressed on a goal"
    # would feed on its own progressed statements forever.
    return _is(reading.object_type, vocabulary.GOAL) or _is(
        reading.object_type, vocabulary.LEARNER_GOALS
    )


@dataclass(frozen=True)
class GoalSpec:
    """What the rules need of a goal."""

    id: int
    metric: str
    params: Mapping[str, Any]
    target: float
    starts_at: datetime
    due_at: datetime


def in_window(goal: GoalSpec, reading: Reading) -> bool:
    """Learning counts from the goal's start to its deadline, inclusive.

    Logged practice is compared by day: an entry for the day a goal was set counts even
    though it was logged at midnight's timestamp or earlier that day.
    """
    if reading.practice_date is not None:
        return goal.starts_at.date() <= reading.practice_date <= goal.due_at.date()
    return goal.starts_at <= reading.timestamp <= goal.due_at


@dataclass
class GoalState:
    """A goal's ledger in memory: statement id -> [counted key, amount] (amount 0: voided).

    ``rows`` may be part of the ledger, as long as it holds every row of each key it holds
    (the engine loads only the rows a batch can touch, so its cost does not grow with a
    goal's history); ``base`` is the progress the rows not held make up.
    """

    spec: GoalSpec
    status: str = ACTIVE
    rows: dict[str, list[Any]] = field(default_factory=dict)
    base: float = 0.0

    @property
    def progress(self) -> float:
        return self.base + live_keys(self.rows)

    def offer(self, rules: GoalRules, reading: Reading) -> bool:
        """Count ``reading`` if it counts; True when it was added to the ledger."""
        if self.status != ACTIVE or reading.statement_id in self.rows:
            return False
        if self.spec.metric not in rules.metrics_for(reading) or not in_window(self.spec, reading):
            return False
        found = rules.count(self.spec.metric, self.spec.params, reading)
        if found is None:
            return False
        self.rows[reading.statement_id] = [found.key, 1.0]
        if self.progress >= self.spec.target:
            self.status = ACHIEVED
        return True

    def void(self, statement_id: str) -> bool:
        """Uncount a voided statement; True when the goal had counted it."""
        row = self.rows.get(statement_id)
        if row is None or row[1] == 0:
            return False
        row[1] = 0.0
        return True


def live_keys(rows: Mapping[str, Sequence[Any]]) -> float:
    """How many distinct keys the ledger rows count (rows with amount 0 are voided)."""
    return float(len({key for key, amount in rows.values() if amount > 0}))


def replay_history(
    rules: GoalRules,
    goals_by_owner: Mapping[str, Sequence[GoalSpec]],
    history: Sequence[tuple[str, Reading]],
) -> dict[int, GoalState]:
    """Recompute every goal from a whole history of (owner, reading) in stored order.

    The reference the incremental engine must agree with (tests/unit/workers): no batches,
    no database, every goal in memory from the start.
    """
    states = {goal.id: GoalState(goal) for goals in goals_by_owner.values() for goal in goals}
    voided: set[str] = set()
    for owner, reading in history:
        if reading.voids is not None:
            voided.add(reading.voids)
            for state in states.values():
                state.void(reading.voids)
            continue
        if reading.statement_id in voided:
            # Voided before it was read: it never counts (xAPI 1.0.3 Part Two, 2.3.2).
            continue
        for goal in goals_by_owner.get(owner, ()):
            states[goal.id].offer(rules, reading)
    return states
