"""The outbox reading on PostgreSQL picks the statement's members out in SQL: the engine
must read from that exactly what it reads from the whole statement, malformed included."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lti_tool.services import Services
from lti_tool.store import goal_ledger
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from tests.conftest import embedded_settings
from tests.fixtures.stack import isolated_database
from tests.unit.workers.goal_world import GoalWorld
from workers.goal_rules import MalformedStatementError, Reading, read_statement
from xapi import vocabulary

pytestmark = pytest.mark.integration


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    with isolated_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        built = Services.build(embedded_settings(tmp_path, database_url=url))
        try:
            yield built
        finally:
            built.close()


def reading_or_error(statement: Any) -> Reading | str:
    try:
        found = read_statement(statement)
    except MalformedStatementError:
        return "malformed"
    # The outbox path never reads the actor (the row names its owner): only that it is one.
    return Reading(**{**found.__dict__, "actor": {}})


def variants(world: GoalWorld) -> list[dict[str, Any]]:
    from content.scoring import SelfAssessmentResult
    from lti_tool import recording
    from tests.unit.workers.goal_world import CATALOG

    recorded = [
        world.lesson("ana", CATALOG.list_lessons()[0].id),
        world.quiz("ana", 0.8),
        world.practice("ana", "kb-article"),
        world.record(
            "ana",
            recording.self_assessment_completed_event(
                world.launches["ana"],
                CATALOG.require_self_assessment(),
                SelfAssessmentResult({"empathy": 4.5}),
                uuid.uuid4(),
                world.tick(),
            ),
        ),
    ]
    external = world.external(world.account("ana"))
    scenario = world.external(
        world.account("ana"),
        verb={"id": vocabulary.COMPLETED.iri},
        object={"id": "http://x.test/activities/scenario/a", "definition": {"type": "t"}},
        result={
            "score": {"scaled": 0.5, "raw": 3},
            "extensions": {
                "http://x.test/extensions/skill-scores": {"empathy": {"raw": 3, "max": 6}}
            },
        },
        context={"extensions": {"http://x.test/extensions/practice-date": "2026-11-02"}},
    )
    broken: list[dict[str, Any]] = []
    for path, value in [
        (("verb",), "a string"),
        (("verb", "id"), 7),
        (("object",), ["a", "list"]),
        (("object", "id"), None),
        (("object", "definition"), "no object"),
        (("object", "definition", "type"), 3),
        (("actor",), "someone"),
        (("timestamp",), None),
        (("timestamp",), "not a time"),
        (("result",), [1, 2]),
        (("result", "score"), {"scaled": "high"}),
        (("context",), 5),
        (("id",), 12),
    ]:
        changed = copy.deepcopy(scenario)
        changed["id"] = str(uuid.uuid4())
        target = changed
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        broken.append(changed)
    no_time = copy.deepcopy(external)
    no_time.update(id=str(uuid.uuid4()), stored=no_time.pop("timestamp"))
    missing_verb = copy.deepcopy(external)
    missing_verb["id"] = str(uuid.uuid4())
    del missing_verb["verb"]
    void = {
        "id": str(uuid.uuid4()),
        "actor": world.account("ana"),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": external["id"]},
        "timestamp": "2026-11-02T10:00:00Z",
    }
    return [*recorded, external, scenario, *broken, no_time, missing_verb, void]


def test_the_postgresql_outbox_reading_matches_the_whole_statement(world: GoalWorld) -> None:
    if world.services.engine.dialect.name != "postgresql":
        pytest.fail("CXA_TEST_DATABASE_URL must name PostgreSQL for this test", pytrace=False)
    world.add_goal("ana", "lessons_experienced", {"skill": "empathy"}, 5)
    statements = variants(world)
    for statement in statements[4:]:
        world.add_raw(statement, sub="ana")
    by_id = {str(s["id"]): s for s in statements}
    with transaction(world.services.sessions) as session:
        rows = goal_ledger.read_outbox(session, after=0, high=10**9)
    assert len(rows) == len(statements)
    for row in rows:
        whole = by_id[row.statement_id]
        # The reduced document is smaller than the statement, but reads the same.
        assert reading_or_error(row.statement) == reading_or_error(whole), row.statement
    assert sum(reading_or_error(s) == "malformed" for s in statements) >= 8


@pytest.fixture
def world(services: Services) -> GoalWorld:
    found = GoalWorld(services)
    found.add_platform()
    found.add_learner("ana")
    return found
