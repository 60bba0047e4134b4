"""Property: the incremental engine (random batch sizes, redeliveries, voids before and
after the statements they void, several destinations) ends where a full recomputation from
the whole history does.

The reference, ``workers.goal_rules.replay_history``, holds every goal in memory and reads
the history once, in order; the engine reads the outbox batch by batch through its cursor
and keeps its state in the database.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from lti_tool.services import Services
from lti_tool.store.db import transaction
from lti_tool.store.goals import (
    Goal,
    GoalCountedStatement,
    GoalSourceCursor,
    GoalVoidedStatement,
)
from lti_tool.store.models import OutboxRow
from tests.unit.workers.goal_world import CATALOG, EXTERNAL_TYPE, EXTERNAL_VERB, START, GoalWorld
from workers.goal_engine import EnginePolicy, GoalEngine
from workers.goal_rules import GoalRules, GoalSpec, read_statement, replay_history
from xapi import vocabulary

BASE = "https://cx.example.org/xapi/"
SKILL = "self-directed-learning"
SKILL_LESSONS = [
    lesson.id
    for lesson in CATALOG.list_lessons()
    if any(CATALOG.require_question(q).skill == SKILL for q in lesson.knowledge_check)
]
LESSONS = [*SKILL_LESSONS[:3], "not-a-lesson"]
LEARNERS = ("ana", "ben")

draw = st.tuples(
    st.sampled_from(LEARNERS),
    # Weighted towards what counts, so goals move, reach targets and get voided.
    st.sampled_from(
        [
            *("lesson", "lesson", "quiz", "practice", "practice"),
            *("external", "external", "other", "void", "void"),
        ]
    ),
    st.integers(0, 3),  # which lesson / score / kind / earlier statement
    st.integers(-1, 11),  # days after START (goals start on days 0-3, end on day 10)
    st.booleans(),  # delivered to a second destination as well
    st.integers(0, 3),  # redelivered this many statements later (0: never)
)


def statement(
    kind: str, choice: int, day: int, sub: str, ids: list[str], position: int
) -> dict[str, Any]:
    at = (START + timedelta(days=day, minutes=choice)).isoformat().replace("+00:00", "Z")
    body: dict[str, Any] = {
        "id": ids[position],
        "actor": {"account": {"homePage": "https://lms.example", "name": sub}},
        "timestamp": at,
    }
    # A void refers to an earlier statement, or to one still to come (an LRS page read
    # again, an outbox id committed late): that one must never count when it arrives.
    others = ids[:position] + ids[position + 1 : position + 3]
    if kind == "void" and others:
        body["verb"] = {"id": "http://adlnet.gov/expapi/verbs/voided"}
        body["object"] = {"objectType": "StatementRef", "id": others[-1 - choice % len(others)]}
    elif kind == "lesson":
        body["verb"] = {"id": vocabulary.EXPERIENCED.iri}
        body["object"] = {
            "id": BASE + f"activities/lesson/{LESSONS[choice]}",
            "definition": {"type": vocabulary.LESSON},
        }
    elif kind == "quiz":
        body["verb"] = {"id": vocabulary.PASSED.iri}
        body["object"] = {
            "id": BASE + f"activities/quiz/quiz-{choice % 2}",
            "definition": {"type": vocabulary.ASSESSMENT},
        }
        body["result"] = {"score": {"scaled": (0.5, 0.7, 0.8, 1.0)[choice]}}
    elif kind == "practice":
        body["verb"] = {"id": BASE + "verbs/logged"}
        body["object"] = {
            "id": BASE + f"practice/{('kb-article', 'team-tip')[choice % 2]}",
            "definition": {"type": BASE + "activity-types/practice"},
        }
        practice_day = (START + timedelta(days=day - choice)).date().isoformat()
        body["context"] = {"extensions": {BASE + "extensions/practice-date": practice_day}}
    elif kind == "external":
        body["verb"] = {"id": EXTERNAL_VERB if choice else "https://example.org/verbs/skipped"}
        body["object"] = {"id": "https://videos.example/1", "definition": {"type": EXTERNAL_TYPE}}
    else:  # something no metric counts
        body["verb"] = {"id": vocabulary.LAUNCHED.iri}
        body["object"] = {"id": BASE + "activities/placement/1"}
    return body


GOALS = [
    ("lessons_experienced", {"skill": SKILL}),
    ("quizzes_passed", {"min_score": 0.7}),
    ("practice_logged", {"kind": "kb-article"}),
    ("external_statements", {"verb": EXTERNAL_VERB, "activity_type": EXTERNAL_TYPE}),
]


def reset(services: Services) -> None:
    with transaction(services.sessions) as session:
        for model in (GoalCountedStatement, GoalVoidedStatement, Goal, GoalSourceCursor, OutboxRow):
            session.execute(delete(model))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    draws=st.lists(draw, min_size=1, max_size=60),
    targets=st.lists(st.integers(2, 6), min_size=8, max_size=8),
    starts=st.lists(st.integers(0, 3), min_size=8, max_size=8),
    batch_size=st.integers(1, 9),
)
def test_incremental_counting_equals_recomputing_from_history(
    services: Services,
    draws: list[tuple[str, str, int, int, bool, int]],
    targets: list[int],
    starts: list[int],
    batch_size: int,
) -> None:
    reset(services)
    world = GoalWorld(services)
    world.add_platform()
    for sub in LEARNERS:
        world.add_learner(sub)

    specs: dict[str, list[GoalSpec]] = {sub: [] for sub in LEARNERS}
    index = 0
    for sub in LEARNERS:
        for metric, params in GOALS:
            start = START + timedelta(days=starts[index])
            due = START + timedelta(days=10)
            goal_id = world.add_goal(
                sub, metric, params, targets[index], starts_at=start, due_at=due
            )
            specs[sub].append(GoalSpec(goal_id, metric, params, targets[index], start, due))
            index += 1

    # The stream as committed: each statement, maybe in a second destination, maybe again
    # later (a redelivery), in the order the outbox holds them.
    history: list[tuple[str, dict[str, Any]]] = []
    later: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    ids = [str(uuid.uuid4()) for _ in draws]
    for position, (sub, kind, choice, day, second, redeliver) in enumerate(draws):
        body = statement(kind, choice, day, sub, ids, position)
        arrivals = [(sub, body), *later.pop(position, [])]
        for owner, item in arrivals:
            world.add_raw(item, sub=owner, destination=f"d{uuid.uuid4().hex[:6]}")
            history.append((owner, item))
        if second:
            world.add_raw(body, sub=sub, destination="warehouse")
        if redeliver:
            later.setdefault(position + redeliver, []).append((sub, body))

    engine = GoalEngine(CATALOG, policy=EnginePolicy(batch_size=batch_size))
    for _ in range(len(history) * 3 + 5):
        with transaction(services.sessions) as session:
            if not engine.process_outbox(session).busy:
                break

    expected = replay_history(
        GoalRules(CATALOG), specs, [(owner, read_statement(item)) for owner, item in history]
    )
    for sub in LEARNERS:
        for spec in specs[sub]:
            goal = world.goal(spec.id)
            state = expected[spec.id]
            assert (goal.progress, goal.status.value) == (state.progress, state.status), spec
