"""The goal engine on a real (SQLite) database: counting by metric, one learner never
counting for another, idempotency, voiding, the outbox cursor's gaps, deadlines, and
external LRS sources (a scripted LRS)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from lti_tool.services import Services
from lti_tool.store import goal_ledger
from lti_tool.store.db import transaction
from lti_tool.store.goals import Goal, GoalSourceCursor, GoalStatus
from lti_tool.store.models import OutboxRow
from tests.unit.workers.goal_world import (
    CATALOG,
    EXTERNAL_TYPE,
    EXTERNAL_VERB,
    START,
    GoalWorld,
)
from workers.goal_engine import EnginePolicy, EngineReport, GoalEngine
from xapi import vocabulary
from xapi.errors import LRSError

# A lesson builds the skills its knowledge check tests; this skill has several lessons.
SKILL = "self-directed-learning"
SKILL_LESSONS = [
    lesson.id
    for lesson in CATALOG.list_lessons()
    if any(CATALOG.require_question(q).skill == SKILL for q in lesson.knowledge_check)
]
OTHER_LESSON = next(
    lesson.id
    for lesson in CATALOG.list_lessons()
    if all(CATALOG.require_question(q).skill != SKILL for q in lesson.knowledge_check)
)


@pytest.fixture
def world(services: Services) -> GoalWorld:
    found = GoalWorld(services)
    found.add_platform()
    found.add_learner("ana")
    found.add_learner("ben")
    return found


@pytest.fixture
def achieved() -> list[int]:
    return []


@pytest.fixture
def engine(achieved: list[int]) -> GoalEngine:
    return GoalEngine(
        CATALOG,
        policy=EnginePolicy(batch_size=50),
        achieved_hook=lambda _session, goal, _now: achieved.append(goal.id),
    )


def run(world: GoalWorld, engine: GoalEngine) -> EngineReport:
    total = EngineReport("outbox")
    while True:
        with transaction(world.services.sessions) as session:
            report = engine.process_outbox(session)
        for name in ("processed", "malformed", "counted", "progressed", "achieved", "voided"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if not report.busy:
            return total


def test_a_lesson_in_the_goals_skill_counts_and_records_progress(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal("ana", "lessons_experienced", {"skill": SKILL}, 2)
    world.lesson("ana", SKILL_LESSONS[0])
    world.lesson("ana", OTHER_LESSON)

    report = run(world, engine)

    assert world.goal(goal_id).progress == 1.0
    assert report.counted == 1
    progressed = world.goal_statements(vocabulary.PROGRESSED)
    assert len(progressed) == 1
    result = progressed[0]["result"]["extensions"]
    assert result[vocabulary.PROGRESS] == 50
    assert any(key.endswith("/extensions/goal-milestone") and v == 0.5 for key, v in result.items())
    # The progressed statement is the learner's own record, delivered like any other.
    with world.services.sessions() as session:
        row = session.scalars(
            select(OutboxRow).where(OutboxRow.statement_id == progressed[0]["id"])
        ).first()
        assert row is not None and (row.platform_id, row.sub) == (world.platform_id, "ana")


def test_one_learners_learning_never_counts_towards_anothers_goal(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal("ana", "lessons_experienced", {"skill": SKILL}, 2)
    world.lesson("ben", SKILL_LESSONS[0])
    # Another tool's record about ben, in ana's outbox slot, still names ben as its actor;
    # the outbox owner decides, and ben owns this one.
    world.add_raw(world.external(world.account("ben")), sub="ben")

    run(world, engine)

    assert world.goal(goal_id).progress == 0.0


def test_learning_before_the_goal_started_or_after_its_deadline_does_not_count(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal(
        "ana",
        "lessons_experienced",
        {"skill": SKILL},
        3,
        starts_at=START + timedelta(days=2),
        due_at=START + timedelta(days=5),
    )
    world.lesson("ana", SKILL_LESSONS[0], at=START + timedelta(days=1))
    world.lesson("ana", SKILL_LESSONS[1], at=START + timedelta(days=6))
    world.lesson("ana", SKILL_LESSONS[2], at=START + timedelta(days=3))

    run(world, engine)

    assert world.goal(goal_id).progress == 1.0


def test_a_lesson_seen_twice_counts_once(world: GoalWorld, engine: GoalEngine) -> None:
    goal_id = world.add_goal("ana", "lessons_experienced", {"skill": SKILL}, 3)
    world.lesson("ana", SKILL_LESSONS[0])
    world.lesson("ana", SKILL_LESSONS[0])

    run(world, engine)

    assert world.goal(goal_id).progress == 1.0


def test_quizzes_count_at_or_above_the_minimum_score(world: GoalWorld, engine: GoalEngine) -> None:
    goal_id = world.add_goal("ana", "quizzes_passed", {"min_score": 0.9}, 1)
    world.quiz("ana", 0.8)
    run(world, engine)
    assert world.goal(goal_id).progress == 0.0

    world.quiz("ana", 0.9)
    run(world, engine)
    assert world.goal(goal_id).progress == 1.0


def test_reaching_the_target_achieves_the_goal_once(
    world: GoalWorld, engine: GoalEngine, achieved: list[int]
) -> None:
    goal_id = world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 2)
    other = world.add_goal("ana", "practice_logged", {"kind": "team-tip"}, 2)
    for _ in range(3):
        world.practice("ana", "kb-article")

    run(world, engine)
    run(world, engine)

    goal = world.goal(goal_id)
    assert (goal.status, goal.progress) == (GoalStatus.ACHIEVED, 2.0)
    assert goal.ended_at is not None
    assert achieved == [goal_id]
    assert len(world.goal_statements(vocabulary.ACHIEVED_GOAL)) == 1
    milestones = [
        value
        for statement in world.goal_statements(vocabulary.PROGRESSED)
        for key, value in statement["result"]["extensions"].items()
        if key.endswith("/extensions/goal-milestone")
    ]
    assert milestones == [0.5, 1.0]
    assert world.goal(other).progress == 0.0


def test_practice_counts_by_the_day_it_happened(world: GoalWorld, engine: GoalEngine) -> None:
    goal_id = world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 5)
    world.practice("ana", "kb-article", happened_on=START.date())  # the day it was set
    world.practice("ana", "kb-article", happened_on=START.date() - timedelta(days=1))

    run(world, engine)

    assert world.goal(goal_id).progress == 1.0


def test_a_statement_in_several_destinations_and_reprocessed_counts_once(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    statement = world.external(world.account("ana"))
    world.add_raw(statement, sub="ana", destination="default")
    world.add_raw(statement, sub="ana", destination="warehouse")

    first = run(world, engine)
    # Start the cursor over: everything is read again, nothing is counted again.
    with transaction(world.services.sessions) as session:
        session.execute(update(GoalSourceCursor).values(position="0"))
    again = run(world, engine)

    assert world.goal(goal_id).progress == 1.0
    assert first.processed == 1 and first.counted == 1
    assert again.counted == 0 and again.progressed == 0


def test_a_statement_in_several_destinations_is_decoded_once_per_batch(
    world: GoalWorld,
) -> None:
    world.add_goal("ana", "external_statements", {"verb": EXTERNAL_VERB}, 5)
    shared, other = world.external(world.account("ana")), world.external(world.account("ana"))
    world.add_raw(shared, sub="ana", destination="default")
    world.add_raw(other, sub="ana", destination="default")
    world.add_raw(shared, sub="ana", destination="warehouse")
    with world.services.sessions() as session:
        rows = goal_ledger.read_outbox(session, after=0)
    assert [(row.statement_id, row.statement is not None) for row in rows] == [
        (shared["id"], True),
        (other["id"], True),
        (shared["id"], False),
    ]
    assert rows[0].statement == shared


def test_voided_statements_are_uncounted_and_stay_uncounted(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    first = world.external(world.account("ana"))
    world.add_raw(first, sub="ana")
    world.add_raw(world.external(world.account("ana")), sub="ana")
    run(world, engine)
    assert world.goal(goal_id).progress == 2.0

    world.void("ana", first["id"])
    report = run(world, engine)
    assert world.goal(goal_id).progress == 1.0
    assert report.voided == 1

    world.add_raw(first, sub="ana", destination="replayed")  # the voided one, redelivered
    run(world, engine)
    assert world.goal(goal_id).progress == 1.0


def test_a_statement_read_after_its_voiding_statement_never_counts(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    late = world.external(world.account("ana"))
    world.void("ana", late["id"])
    assert run(world, engine).voided == 1  # the void alone: nothing to uncount yet

    world.add_raw(late, sub="ana")  # e.g. an outbox id committed after the void's
    world.add_raw(world.external(world.account("ana")), sub="ana")
    run(world, engine)

    assert world.goal(goal_id).progress == 1.0
    with transaction(world.services.sessions) as session:
        assert goal_ledger.list_voided(session, {late["id"]}) == {late["id"]}


def test_a_void_before_its_statement_in_one_batch_keeps_it_uncounted(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    late = world.external(world.account("ana"))
    world.void("ana", late["id"])
    world.void("ana", late["id"])  # voided twice: remembered once, no error
    world.add_raw(late, sub="ana")

    report = run(world, engine)

    assert (report.counted, world.goal(goal_id).progress) == (0, 0.0)


def test_an_lrs_statement_read_again_after_its_void_stays_uncounted(
    world: GoalWorld, engine: GoalEngine, lrs: ScriptedLRS
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    watched_id = str(uuid.uuid4())
    voiding = world.external(
        world.account("ana"),
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": watched_id},
    )
    # The LRS showed the void first; the statement it voids comes on a later page.
    lrs.store(voiding)
    pull(world, engine, lrs)
    lrs.store(world.external(world.account("ana"), id=watched_id))
    report = pull(world, engine, lrs)

    assert report.processed == 1

    assert world.goal(goal_id).progress == 0.0


def test_rows_queued_before_summaries_count_like_new_ones(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal("ana", "quizzes_passed", {"min_score": 0.7}, 5)
    world.quiz("ana", 0.9)  # queued by the app: the row carries a summary
    old = world.external(
        world.account("ana"),
        verb={"id": vocabulary.PASSED.iri},
        object={
            "id": "https://cx.example.org/xapi/activities/quiz/older",
            "definition": {"type": vocabulary.ASSESSMENT},
        },
        result={"score": {"scaled": 0.8}},
    )
    world.add_raw(old, sub="ana")  # a row from before migration 0021: no summary
    with world.services.sessions() as session:
        rows = goal_ledger.read_outbox(session, after=0)
        stored = {row.id: row for row in session.scalars(select(OutboxRow))}
    assert [stored[row.id].summary is not None for row in rows] == [True, False]
    # What the engine reads: the summary where there is one, else the whole statement.
    assert [row.statement for row in rows] == [stored[row.id].summary or old for row in rows]
    assert "display" not in rows[0].statement["verb"]  # type: ignore[index]

    run(world, engine)

    assert world.goal(goal_id).progress == 2.0


def test_a_late_commit_below_the_cursor_is_not_skipped(
    world: GoalWorld, engine: GoalEngine
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    # Rows 1 and 3 are visible; 2 belongs to a transaction that has not committed yet.
    world.add_raw(world.external(world.account("ana")), sub="ana", id=1)
    world.add_raw(world.external(world.account("ana")), sub="ana", id=3)
    run(world, engine)
    assert world.goal(goal_id).progress == 2.0
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "outbox")
        assert cursor is not None and cursor.position == "3" and set(cursor.gaps or {}) == {"2"}

    world.add_raw(world.external(world.account("ana")), sub="ana", id=2)  # commits late
    run(world, engine)

    assert world.goal(goal_id).progress == 3.0
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "outbox")
        assert cursor is not None and not cursor.gaps


def test_a_gap_is_given_up_after_the_wait(world: GoalWorld) -> None:
    engine = GoalEngine(CATALOG, policy=EnginePolicy(gap_wait=timedelta(0)))
    world.add_raw(world.external(world.account("ana")), sub="ana", id=1)
    world.add_raw(world.external(world.account("ana")), sub="ana", id=3)
    run(world, engine)
    run(world, engine)
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "outbox")
        assert cursor is not None and not cursor.gaps


def test_malformed_statements_are_skipped_and_counted(world: GoalWorld, engine: GoalEngine) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 5
    )
    broken = world.external(world.account("ana"))
    del broken["verb"]
    world.add_raw(broken, sub="ana")
    world.add_raw(world.external(world.account("ana")), sub="ana")

    report = run(world, engine)

    assert report.malformed == 1
    assert world.goal(goal_id).progress == 1.0
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "outbox")
        assert cursor is not None and cursor.malformed == 1 and cursor.processed == 2


def test_our_own_goal_statements_never_feed_a_goal(world: GoalWorld, engine: GoalEngine) -> None:
    loop = world.add_goal(
        "ana",
        "external_statements",
        {"verb": vocabulary.PROGRESSED.iri, "activity_type": vocabulary.GOAL},
        5,
    )
    world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 5)
    world.practice("ana", "kb-article")
    run(world, engine)
    run(world, engine)
    assert world.goal(loop).progress == 0.0


def test_missed_deadlines_are_marked_and_recorded(world: GoalWorld, engine: GoalEngine) -> None:
    overdue = world.add_goal(
        "ana", "practice_logged", {"kind": "kb-article"}, 2, due_at=START + timedelta(days=1)
    )
    current = world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 2)
    done = world.add_goal(
        "ana",
        "practice_logged",
        {"kind": "team-tip"},
        1,
        due_at=START + timedelta(days=1),
        status=GoalStatus.ACHIEVED,
    )

    with transaction(world.services.sessions) as session:
        assert engine.mark_missed(session, START + timedelta(days=2)) == 1

    assert world.goal(overdue).status is GoalStatus.MISSED
    assert world.goal(current).status is GoalStatus.ACTIVE
    assert world.goal(done).status is GoalStatus.ACHIEVED
    assert len(world.goal_statements(vocabulary.MISSED_GOAL)) == 1


def test_self_assessment_ratings_count_for_skill_rated(
    world: GoalWorld, engine: GoalEngine
) -> None:
    import uuid

    from content.scoring import SelfAssessmentResult
    from lti_tool import recording

    goal_id = world.add_goal("ana", "skill_rated", {"skill": "empathy", "min_rating": 4}, 1)
    assessment = CATALOG.require_self_assessment()
    for average in (3.5, 4.0):
        world.record(
            "ana",
            recording.self_assessment_completed_event(
                world.launches["ana"],
                assessment,
                SelfAssessmentResult({"empathy": average}),
                uuid.uuid4(),
                world.tick(),
            ),
        )
    run(world, engine)
    goal = world.goal(goal_id)
    assert (goal.progress, goal.status) == (1.0, GoalStatus.ACHIEVED)


# --- external LRS sources -----------------------------------------------------------------


class ScriptedLRS:
    """Answers read_statements_page from a list of stored statements, two per page."""

    def __init__(self) -> None:
        self.stored: list[dict[str, Any]] = []
        self.down = False
        self.calls: list[dict[str, Any]] = []

    def store(self, statement: dict[str, Any]) -> None:
        statement = dict(statement)
        statement["stored"] = statement["timestamp"]
        self.stored.append(statement)

    def read_statements_page(self, *, more: str | None = None, **params: str) -> Any:
        self.calls.append({"more": more, **params})
        if self.down:
            raise LRSError("cannot read from LRS: connection refused")
        if more:
            start = int(more.rsplit("=", 1)[1])
        else:
            since = params.get("since")
            start = next(
                (i for i, s in enumerate(self.stored) if since is None or s["stored"] > since),
                len(self.stored),
            )
        page = self.stored[start : start + 2]
        rest = start + 2 < len(self.stored)
        return page, f"/xAPI/statements?page={start + 2}" if rest else None


@pytest.fixture
def lrs() -> ScriptedLRS:
    return ScriptedLRS()


def pull(world: GoalWorld, engine: GoalEngine, lrs: ScriptedLRS) -> EngineReport:
    with transaction(world.services.sessions) as session:
        return engine.process_lrs_page(session, "videos", lrs)  # type: ignore[arg-type]


def test_external_statements_count_page_by_page_and_the_cursor_follows(
    world: GoalWorld, engine: GoalEngine, lrs: ScriptedLRS
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 10
    )
    for _ in range(3):
        lrs.store(world.external(world.account("ana")))

    first = pull(world, engine, lrs)
    assert first.busy and world.goal(goal_id).progress == 2.0
    second = pull(world, engine, lrs)
    assert not second.busy and world.goal(goal_id).progress == 3.0
    assert lrs.calls[1]["more"] is not None

    lrs.store(world.external(world.account("ana")))
    pull(world, engine, lrs)
    assert world.goal(goal_id).progress == 4.0
    assert "since" in lrs.calls[-1]
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "lrs:videos")
        assert cursor is not None and cursor.processed == 4 and cursor.last_error is None


def test_an_lrs_that_is_down_loses_nothing(
    world: GoalWorld, engine: GoalEngine, lrs: ScriptedLRS
) -> None:
    goal_id = world.add_goal(
        "ana", "external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}, 10
    )
    for _ in range(3):
        lrs.store(world.external(world.account("ana")))
    pull(world, engine, lrs)
    lrs.down = True

    report = pull(world, engine, lrs)

    assert report.error and "connection refused" in report.error
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "lrs:videos")
        assert cursor is not None and cursor.more is not None and cursor.last_error
    lrs.down = False
    pull(world, engine, lrs)
    assert world.goal(goal_id).progress == 3.0


@pytest.fixture
def email_world(services: Services) -> Iterator[GoalWorld]:
    found = GoalWorld(services)
    mbox_platform = found.add_platform("mbox", issuer="https://mbox-lms.example")
    found.add_learner("cat", email="Cat@Example.com", platform_id=mbox_platform)
    sha_platform = found.add_platform("mbox_sha1sum", issuer="https://sha-lms.example")
    found.add_learner("dan", email="dan@example.com", platform_id=sha_platform)
    yield found


def test_actors_are_matched_as_each_platform_identifies_its_learners(
    email_world: GoalWorld, engine: GoalEngine, lrs: ScriptedLRS
) -> None:
    params = {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}
    cat = email_world.add_goal("cat", "external_statements", params, 10)
    dan = email_world.add_goal("dan", "external_statements", params, 10)
    digest = hashlib.sha1(b"mailto:dan@example.com", usedforsecurity=False).hexdigest()
    lrs.store(email_world.external({"mbox": "mailto:Cat@EXAMPLE.com"}))
    lrs.store(email_world.external({"mbox_sha1sum": digest}))
    lrs.store(email_world.external({"mbox": "mailto:someone-else@example.com"}))
    lrs.store(email_world.external({"mbox": "mailto:dan@example.com"}))  # dan's LMS hashes

    while pull(email_world, engine, lrs).busy:
        pass

    assert email_world.goal(cat).progress == 1.0
    assert email_world.goal(dan).progress == 1.0


def test_ledger_keys_are_short_and_stable() -> None:
    from workers.goal_rules import counted_key

    long_iri = "https://lms.example/" + "x" * 200
    assert counted_key("short") == "short"
    assert len(counted_key(long_iri)) == 64 and counted_key(long_iri) == counted_key(long_iri)


def test_goal_counts_by_status(world: GoalWorld) -> None:
    world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 2)
    world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 2, status=GoalStatus.MISSED)
    with world.services.sessions() as session:
        assert goal_ledger.count_goals_by_status(session) == {"active": 1, "missed": 1}
        assert session.scalar(select(Goal.id).limit(1)) is not None


def test_a_goal_just_past_its_deadline_waits_for_late_records(
    world: GoalWorld, engine: GoalEngine
) -> None:
    due = START + timedelta(days=1)
    goal_id = world.add_goal("ana", "practice_logged", {"kind": "kb-article"}, 2, due_at=due)
    with transaction(world.services.sessions) as session:
        assert engine.mark_missed(session, due + timedelta(minutes=5)) == 0
    assert world.goal(goal_id).status is GoalStatus.ACTIVE
    with transaction(world.services.sessions) as session:
        assert engine.mark_missed(session, due + engine.policy.missed_grace * 2) == 1


def test_a_new_lrs_source_starts_at_the_earliest_goal(
    world: GoalWorld, engine: GoalEngine, lrs: ScriptedLRS
) -> None:
    params = {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}
    goal_id = world.add_goal("ana", "external_statements", params, 10)
    lrs.store(world.external(world.account("ana"), at=START - timedelta(days=300)))
    lrs.store(world.external(world.account("ana")))

    pull(world, engine, lrs)

    assert lrs.calls[0]["since"] < START.isoformat()
    assert world.goal(goal_id).progress == 1.0
    with world.services.sessions() as session:
        cursor = session.get(GoalSourceCursor, "lrs:videos")
        assert cursor is not None and cursor.processed == 1
