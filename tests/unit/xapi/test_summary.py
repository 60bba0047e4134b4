"""A statement's summary: the members progress counting reads, in the statement's shape."""

from __future__ import annotations

from typing import Any

from xapi import vocabulary
from xapi.summary import summarize

BASE = "https://academy.example.org/xapi/"


def test_a_summary_keeps_what_counting_reads_and_drops_the_rest() -> None:
    statement: dict[str, Any] = {
        "id": "0b8e6f4c-5a3d-4c21-9e7f-2d1a6b3c8e90",
        "actor": {"objectType": "Agent", "account": {"homePage": "https://lms", "name": "42"}},
        "verb": {"id": vocabulary.COMPLETED.iri, "display": {"en-US": "completed"}},
        "object": {
            "objectType": "Activity",
            "id": BASE + "activities/scenario/late-parcel",
            "definition": {"type": vocabulary.SIMULATION, "name": {"en-US": "Late parcel"}},
        },
        "result": {
            "score": {"scaled": 0.75, "raw": 3, "max": 4},
            "success": True,
            "duration": "PT4M",
            "extensions": {
                BASE + "extensions/skill-scores": {"empathy": {"raw": 3, "max": 4}},
                BASE + "extensions/transcript": ["a long", "conversation"],
            },
        },
        "context": {
            "registration": "5f0c2a1e-3b4d-4c6e-8f7a-9b0c1d2e3f4a",
            "contextActivities": {"parent": [{"id": BASE + "activities/course/c"}]},
            "extensions": {BASE + "extensions/session-id": "s-1"},
        },
        "timestamp": "2026-11-30T12:00:00.000Z",
        "stored": "2026-11-30T12:00:01.000Z",
        "authority": {"account": {"homePage": "https://lrs", "name": "key"}},
    }

    assert summarize(statement) == {
        "id": statement["id"],
        "actor": statement["actor"],
        "verb": {"id": vocabulary.COMPLETED.iri},
        "object": {
            "objectType": "Activity",
            "id": BASE + "activities/scenario/late-parcel",
            "definition": {"type": vocabulary.SIMULATION},
        },
        "result": {
            "score": {"scaled": 0.75},
            "extensions": {BASE + "extensions/skill-scores": {"empathy": {"raw": 3, "max": 4}}},
        },
        "context": {"extensions": {}},
        "timestamp": "2026-11-30T12:00:00.000Z",
        "stored": "2026-11-30T12:00:01.000Z",
    }


def test_members_of_the_wrong_shape_are_kept_as_they_are() -> None:
    odd = {"id": 7, "verb": "passed", "object": ["x"], "result": {"score": 0.5}}
    assert summarize(odd) == {"id": 7, "verb": "passed", "object": ["x"], "result": {"score": 0.5}}
