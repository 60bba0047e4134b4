"""Goal statements: golden shapes, valid xAPI, readable names, and no private text.

tests/data/goal_statements/<kind>.json holds the exact statement each builder makes from the
fixed inputs below; regenerate on purpose with
``UPDATE_GOLDEN=1 pytest tests/unit/lti_tool/test_goal_events.py`` and review the diff.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from content import load_catalog
from lti_tool import goal_events
from lti_tool.store.goals import Goal, GoalCheckIn, GoalStatus, GoalVisibility, PracticeEntry
from lti_tool.store.models import Launch, Platform
from xapi import vocabulary as v
from xapi.events import LearningEvent
from xapi.statements import build_statement
from xapi.validation import validate_statement

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "goal_statements"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
NAMESPACE = uuid.UUID("0b8e6f4c-5a3d-4c21-9e7f-2d1a6b3c8e90")
IRI_BASE = "https://academy.example.org/xapi/"
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CATALOG = load_catalog()
PRIVATE_TEXT = (
    "I keep interrupting people",
    "My team lead asked me to",
    "Tried it twice on Tuesday",
    "Felt awkward at first",
    "Helped Sam with the refund macro",
)


def a_launch(*, roles: list[str] | None = None, actor_format: str = "account") -> Launch:
    platform = Platform(
        id=3,
        name="Moodle",
        issuer="https://moodle.example.edu",
        client_id="cxa-client",
        auth_login_url="https://moodle.example.edu/auth",
        auth_token_url="https://moodle.example.edu/token",
        key_set_url="https://moodle.example.edu/certs",
        actor_format=actor_format,
        actor_name="omit",
    )
    return Launch(
        id=uuid.UUID("6a0f3e2d-4b5c-4d7e-9f81-2a3b4c5d6e7f"),
        platform=platform,
        platform_id=3,
        deployment_id="deployment-1",
        sub="learner-42",
        email="Dana.Reyes@Example.EDU",
        context_id="course-7",
        resource_link_id="link-9",
        locale="en-GB",
        message_type="LtiResourceLinkRequest",
        claims={},
        roles=roles or [],
    )


def a_goal(**overrides: Any) -> Goal:
    fields: dict[str, Any] = {
        "id": 17,
        "public_id": uuid.UUID("1d9c4b6e-2f3a-4e5d-8c7b-9a0f1e2d3c4b"),
        "platform_id": 3,
        "sub": "learner-42",
        "template_id": "goal-write-kb-articles",
        "skill": "knowledge-sharing",
        "title": "Write knowledge-base articles",
        "specific": PRIVATE_TEXT[0],
        "relevance": PRIVATE_TEXT[1],
        "metric_key": "practice_logged",
        "metric_params": {"kind": "kb-article"},
        "target": 4.0,
        "unit": "articles",
        "progress": 2.0,
        "status": GoalStatus.ACTIVE,
        "visibility": GoalVisibility.PROGRESS,
        "check_in_days": 14,
        "starts_at": datetime(2026, 11, 1, tzinfo=UTC),
        "due_at": datetime(2026, 12, 31, 23, 59, tzinfo=UTC),
        "context_id": "course-7",
    }
    fields.update(overrides)
    return Goal(**fields)


CHECK_IN = GoalCheckIn(
    public_id=uuid.UUID("7e8f9a0b-1c2d-4e3f-8a5b-6c7d8e9f0a1b"),
    goal_id=17,
    did=PRIVATE_TEXT[2],
    learned=PRIVATE_TEXT[3],
    confidence=4,
)
ENTRY = PracticeEntry(
    public_id=uuid.UUID("2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e"),
    platform_id=3,
    sub="learner-42",
    kind="mentoring-given",
    happened_on=date(2026, 11, 27),
    note=PRIVATE_TEXT[4],
    link="https://wiki.example.com/private-page",
    share_note=False,
)

BUILDERS: dict[str, Callable[[], LearningEvent]] = {
    "goal_set": lambda: goal_events.goal_set_event(a_launch(), a_goal(progress=0.0), CATALOG, AT),
    "goal_updated": lambda: goal_events.goal_updated_event(a_launch(), a_goal(), CATALOG, AT),
    "goal_progressed": lambda: goal_events.goal_progressed_event(
        a_launch(),
        a_goal(),
        CATALOG,
        trigger="5f0c2a1e-3b4d-4c6e-8f7a-9b0c1d2e3f4a",
        at=AT,
        milestone=0.5,
    ),
    "goal_achieved": lambda: goal_events.goal_achieved_event(
        a_launch(), a_goal(progress=4.0, status=GoalStatus.ACHIEVED), CATALOG, AT
    ),
    "goal_missed": lambda: goal_events.goal_missed_event(
        a_launch(), a_goal(progress=3.0, status=GoalStatus.MISSED), CATALOG, AT
    ),
    "goal_abandoned": lambda: goal_events.goal_abandoned_event(
        a_launch(), a_goal(status=GoalStatus.ABANDONED), CATALOG, AT
    ),
    "checked_in": lambda: goal_events.checked_in_event(a_launch(), a_goal(), CHECK_IN, CATALOG, AT),
    "practice_logged": lambda: goal_events.practice_logged_event(a_launch(), ENTRY, CATALOG, AT),
}


def statement_of(event: LearningEvent) -> dict[str, Any]:
    return build_statement(event, namespace=NAMESPACE, iri_base=IRI_BASE)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_goal_statement_matches_golden_file(kind: str) -> None:
    statement = statement_of(BUILDERS[kind]())
    path = GOLDEN / f"{kind}.json"
    text = json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
    assert validate_statement(statement) == []


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_no_private_text_in_any_goal_statement(kind: str) -> None:
    text = json.dumps(statement_of(BUILDERS[kind]()))
    for private in (*PRIVATE_TEXT, "private-page"):
        assert private not in text


def test_goal_statement_reads_well_in_a_dashboard() -> None:
    statement = statement_of(BUILDERS["goal_progressed"]())
    obj = statement["object"]
    assert obj["id"] == IRI_BASE + "goals/1d9c4b6e-2f3a-4e5d-8c7b-9a0f1e2d3c4b"
    assert obj["definition"]["type"] == IRI_BASE + "activity-types/goal"
    # A template's title left unchanged is content, not the learner's words.
    assert obj["definition"]["name"] == {"en-US": "Write knowledge-base articles"}
    assert obj["definition"]["description"] == {
        "en-US": "Practice-log entries: Knowledge-base article written or improved: "
        "target 4 articles, due 2026-12-31"
    }
    grouping = statement["context"]["contextActivities"]["grouping"]
    assert [g["definition"]["type"] for g in grouping] == [
        IRI_BASE + "activity-types/learner-goals"
    ]
    result = statement["result"]["extensions"]
    assert result[v.PROGRESS] == 50
    assert result[IRI_BASE + "extensions/goal-progress"] == 2.0
    assert result[IRI_BASE + "extensions/goal-target"] == 4.0
    assert result[IRI_BASE + "extensions/goal-milestone"] == 0.5
    assert statement["verb"]["id"] == v.PROGRESSED.iri


def test_every_goal_of_one_learner_shares_one_grouping_and_learners_differ() -> None:
    first = goal_events.learner_goals_activity(a_launch())
    again = goal_events.learner_goals_activity(a_launch(roles=["x"]))
    other_launch = a_launch()
    other_launch.sub = "learner-43"
    assert first.id == again.id
    assert goal_events.learner_goals_activity(other_launch).id != first.id
    assert "learner-42" not in first.id


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"visibility": GoalVisibility.CONTENT, "title": "Beat Sam's record"}, "Beat Sam's record"),
        ({"title": "Beat Sam's record"}, "Personal goal: Practice-log entries"),
        ({"visibility": GoalVisibility.PRIVATE}, "Personal goal: Practice-log entries"),
        ({"template_id": None}, "Personal goal: Practice-log entries"),
    ],
)
def test_the_learners_own_title_travels_only_when_they_share_it(
    overrides: dict[str, Any], name: str
) -> None:
    event = goal_events.goal_set_event(a_launch(), a_goal(**overrides), CATALOG, AT)
    assert event.object.name == name


def test_progressed_ids_follow_the_trigger_and_the_value() -> None:
    def progressed(progress: float, trigger: str) -> str:
        event = goal_events.goal_progressed_event(
            a_launch(), a_goal(progress=progress), CATALOG, trigger=trigger, at=AT
        )
        return str(statement_of(event)["id"])

    assert progressed(2.0, "a") == progressed(2.0, "a")
    assert progressed(2.0, "a") != progressed(2.0, "b")
    assert progressed(2.0, "a") != progressed(3.0, "a")


def test_mbox_platforms_get_mbox_actors_on_goal_statements() -> None:
    event = goal_events.goal_set_event(a_launch(actor_format="mbox"), a_goal(), CATALOG, AT)
    assert statement_of(event)["actor"] == {
        "objectType": "Agent",
        "mbox": "mailto:Dana.Reyes@example.edu",
    }


def test_staff_goal_statements_carry_the_staff_category() -> None:
    launch = a_launch(roles=["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"])
    categories = statement_of(goal_events.goal_set_event(launch, a_goal(), CATALOG, AT))["context"][
        "contextActivities"
    ]["category"]
    assert IRI_BASE + "audiences/staff" in [c["id"] for c in categories]
