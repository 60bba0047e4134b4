"""The goal engine reads an outbox row's summary (``xapi.summary``) instead of its statement:
for any statement, well formed or not, reading the stored summary gives what reading the
statement gives. A member the engine starts to read without the summary keeping it fails
here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.goal_rules import MalformedStatementError, Reading, read_statement
from xapi import vocabulary
from xapi.summary import summarize

DATA = Path(__file__).resolve().parents[2] / "data"
BASE = "https://academy.example.org/xapi/"

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 120),
    st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "x", "2026-11-30", "2026-11-30T12:00:00Z", "2026-11-30T12:00:00"]),
)
iri = st.sampled_from(
    [
        vocabulary.PASSED.iri,
        vocabulary.COMPLETED.iri,
        "http://adlnet.gov/expapi/verbs/voided",
        BASE + "verbs/logged",
        BASE + "activities/lesson/some-lesson",
        "https://other.example/thing",
    ]
)
# Each member the engine reads, well formed or not, and some it does not read.
definitions = st.sampled_from(
    [
        {"type": vocabulary.ASSESSMENT, "name": {"en-US": "Quiz"}},
        {"type": BASE + "activity-types/practice"},
        {"type": 3},
        {"name": {"en-US": "No type"}},
        "not an object",
    ]
)
scores = st.sampled_from(
    [{"scaled": 0.8, "raw": 8}, {"scaled": 1}, {"scaled": True}, {"scaled": "0.8"}, {"raw": 3}, 7]
)
extension = st.sampled_from(
    [
        (BASE + "extensions/practice-date", "2026-11-29"),
        (vocabulary.PRACTICE_DATE, "2026-11-28"),
        (BASE + "extensions/practice-date", "yesterday"),
        (BASE + "extensions/skill-scores", {"empathy": {"raw": 4, "max": 6}, "tone": {"raw": 1}}),
        (BASE + "extensions/skill-scores", "not an object"),
        (BASE + "extensions/skill-ratings", {"empathy": 4.5, "tone": "high"}),
        ("https://other.example/extensions/skill-scores-v2", {"empathy": {"raw": 1, "max": 2}}),
        (BASE + "extensions/session-id", "f81d4fae"),
    ]
)
extensions = st.one_of(st.lists(extension, min_size=1, max_size=4).map(dict), st.just("x"))
valid_time = st.sampled_from(["2026-11-30T12:00:00Z", "2026-11-30T12:00:00.250+01:00"])


@st.composite
def readable(draw: st.DrawFn) -> dict[str, Any]:
    """A statement the engine can read (the members it needs are there), its other members
    there or not, of any shape: what it reads must not depend on what the summary drops."""

    def some(members: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
        return {name: draw(value) for name, value in members.items() if draw(st.booleans())}

    target = {"id": draw(st.one_of(iri, st.uuids().map(str)))}
    target |= some(
        {
            "objectType": st.sampled_from(["Activity", "StatementRef", "Agent"]),
            "definition": definitions,
        }
    )
    statement = {
        "id": str(draw(st.uuids())),
        "actor": {"account": {"homePage": "https://lms.example", "name": "ana"}},
        "verb": {"id": draw(iri), "display": {"en-US": "x"}},
        "object": target,
        # Without a timestamp the engine takes the stored time.
        "stored": draw(valid_time),
    }
    statement |= some(
        {
            "timestamp": valid_time,
            "context": st.builds(lambda found: {"extensions": found, "platform": "CX"}, extensions),
            "result": st.builds(
                lambda score, found: {"score": score, "extensions": found, "success": True},
                scores,
                extensions,
            ),
            "authority": leaf,
        }
    )
    return statement


# Anything: each member may be missing or of the wrong type.
anything = st.fixed_dictionaries(
    {},
    optional={
        name: leaf
        for name in ("id", "actor", "verb", "object", "timestamp", "stored", "context", "result")
    },
)


def reading_of(data: Any) -> Reading | str:
    try:
        return read_statement(data)
    except MalformedStatementError as err:
        return f"malformed: {err}"


def stored(summary: dict[str, Any]) -> Any:
    # As the outbox keeps it: a JSON column.
    return json.loads(json.dumps(summary))


@settings(max_examples=500)
@given(readable())
def test_the_summary_reads_as_the_statement_does(statement: dict[str, Any]) -> None:
    assert reading_of(stored(summarize(statement))) == reading_of(statement)


@given(anything)
def test_a_malformed_statement_is_malformed_in_its_summary_too(statement: dict[str, Any]) -> None:
    assert reading_of(stored(summarize(statement))) == reading_of(statement)


@pytest.mark.parametrize(
    "path",
    sorted((DATA / "statements").glob("*.json"))
    + sorted((DATA / "goal_statements").glob("*.json")),
    ids=lambda path: path.stem,
)
def test_our_statements_read_the_same_from_a_smaller_summary(path: Path) -> None:
    statement = json.loads(path.read_text(encoding="utf-8"))
    summary = stored(summarize(statement))
    assert reading_of(summary) == reading_of(statement)
    assert len(json.dumps(summary)) < len(json.dumps(statement)) * 0.6
