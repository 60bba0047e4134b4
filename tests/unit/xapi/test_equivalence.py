"""Statement comparison after a 409 (xAPI 1.0.3 Part Two 2.3.1): what the LRS may change
is ignored, everything else counts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.unit.xapi.catalogue import NAMESPACE, STATEMENT_KINDS
from xapi.equivalence import statement_differences
from xapi.statements import build_statement


@pytest.fixture
def ours() -> dict[str, Any]:
    return build_statement(STATEMENT_KINDS["passed_quiz"], namespace=NAMESPACE)


def as_stored(statement: dict[str, Any]) -> dict[str, Any]:
    theirs = copy.deepcopy(statement)
    theirs.update(
        stored="2026-11-30T10:00:00.123Z",
        authority={"objectType": "Agent", "account": {"homePage": "https://lrs", "name": "k"}},
        version="1.0.0",
    )
    return theirs


def test_the_properties_the_lrs_sets_are_ignored(ours: dict[str, Any]) -> None:
    assert statement_differences(ours, as_stored(ours)) == []


@pytest.mark.parametrize(
    "change",
    [
        # 2.3.1: the verb's display and activity definitions are not part of the statement.
        lambda s: s["verb"].update(display={"fr-FR": "réussi"}),
        lambda s: s["object"].update(definition={"name": {"en": "renamed"}}),
        lambda s: s["object"].pop("definition", None),
        # Optional objectType filled in with its default.
        lambda s: s["object"].update(objectType="Activity"),
        lambda s: s["actor"].update(objectType="Agent"),
        # The same instant in another zone (serialisation of timestamps).
        lambda s: s.update(timestamp=_shifted(s["timestamp"])),
        # Attachments are not part of a statement.
        lambda s: s.update(attachments=[]),
    ],
    ids=[
        "verb-display",
        "activity-definition",
        "definition-dropped",
        "object-type",
        "actor-type",
        "timestamp-zone",
        "attachments",
    ],
)
def test_allowed_differences_are_ignored(ours: dict[str, Any], change: Any) -> None:
    theirs = as_stored(ours)
    change(theirs)
    assert statement_differences(ours, theirs) == []


def _shifted(timestamp: str) -> str:
    from datetime import datetime, timedelta, timezone

    instant = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return instant.astimezone(timezone(timedelta(hours=2))).isoformat()


def test_group_members_in_another_order_and_mbox_domain_case_are_equal() -> None:
    member = [
        {"mbox": "mailto:ana@Example.COM"},
        {"account": {"homePage": "https://lms", "name": "b"}},
    ]
    ours = {
        "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0",
        "actor": {"objectType": "Group", "member": member},
        "verb": {"id": "x:v"},
        "object": {"id": "x:o"},
        "context": {"contextActivities": {"parent": {"id": "x:p"}}},
    }
    theirs = copy.deepcopy(ours)
    theirs["actor"]["member"] = [
        {"objectType": "Agent", "account": {"homePage": "https://lms", "name": "b"}},
        {"mbox": "mailto:ana@example.com"},
    ]
    theirs["context"]["contextActivities"]["parent"] = [{"id": "x:p", "objectType": "Activity"}]
    # The LRS stamped a timestamp we did not send: its own to assign.
    theirs["timestamp"] = "2026-11-30T10:00:00Z"
    assert statement_differences(ours, theirs) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda s: s["result"].update(success=not s["result"]["success"]), "result"),
        (lambda s: s["result"].update(duration="PT60S"), "result"),  # a string (2.3.1)
        (lambda s: s["actor"]["account"].update(name="someone-else"), "actor"),
        (lambda s: s["verb"].update(id="http://adlnet.gov/expapi/verbs/failed"), "verb"),
        (lambda s: s["object"].update(id="https://elsewhere.example/a"), "object"),
        (lambda s: s.update(timestamp="2020-01-01T00:00:00Z"), "timestamp"),
        (lambda s: s.pop("context"), "context"),
    ],
    ids=["success", "duration", "actor", "verb", "object", "instant", "context"],
)
def test_real_differences_are_named(ours: dict[str, Any], change: Any, where: str) -> None:
    ours["result"]["duration"] = "PT1M"
    theirs = as_stored(ours)
    change(theirs)
    assert statement_differences(ours, theirs) == [where]
