"""Statements built from learning events: golden shapes, ids, actors, refusals.

Golden files live in tests/data/statements/. After an intended change to a statement's
shape, regenerate them with ``UPDATE_GOLDEN=1 pytest tests/unit/xapi`` and review the
diff: every changed line is a change every LRS report will see.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.unit.xapi.catalogue import LEARNER, NAMESPACE, STATEMENT_KINDS
from xapi import vocabulary as v
from xapi.errors import StatementError, XapiError
from xapi.events import Activity, ActorFormat, Interaction, Learner, LearningEvent, Result
from xapi.statements import (
    build_statement,
    mbox_sha1sum,
    registration_id,
    source_id,
    statement_id,
)
from xapi.validation import validate_statement

GOLDEN_DIR = Path(__file__).resolve().parents[2] / "data" / "statements"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"


def golden_text(statement: dict[str, Any]) -> str:
    return json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("kind", sorted(STATEMENT_KINDS))
def test_statement_matches_golden_file(kind: str) -> None:
    statement = build_statement(STATEMENT_KINDS[kind], namespace=NAMESPACE)
    path = GOLDEN_DIR / f"{kind}.json"
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(golden_text(statement), encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 to create it"
    assert statement == json.loads(path.read_text(encoding="utf-8"))


def test_every_statement_kind_has_a_golden_file_and_no_stray_ones() -> None:
    on_disk = {p.stem for p in GOLDEN_DIR.glob("*.json")}
    assert on_disk == set(STATEMENT_KINDS)


@pytest.mark.parametrize("path", sorted(GOLDEN_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_every_golden_statement_is_valid_xapi(path: Path) -> None:
    assert validate_statement(json.loads(path.read_text(encoding="utf-8"))) == []


def test_golden_answered_choice_carries_the_interaction_details() -> None:
    statement = build_statement(STATEMENT_KINDS["answered_choice"], namespace=NAMESPACE)
    definition = statement["object"]["definition"]
    assert definition["interactionType"] == "choice"
    assert definition["correctResponsesPattern"] == ["apologise"]
    assert [c["id"] for c in definition["choices"]] == ["apologise", "policy", "refund"]
    assert statement["result"]["response"] == "apologise"


def test_statement_shape_essentials() -> None:
    statement = build_statement(STATEMENT_KINDS["passed_quiz"], namespace=NAMESPACE)
    assert "version" not in statement  # the LRS sets it (2.4.10)
    assert "stored" not in statement and "authority" not in statement
    assert statement["timestamp"] == "2025-06-03T09:30:15.123Z"  # UTC, ms precision
    assert statement["context"]["platform"] == "CX Academy"
    assert statement["context"]["language"] == "en-US"
    # The enrolment's registration (one learner, one placement), not the attempt's id:
    # that travels in its own extension.
    assert statement["context"]["registration"] == "21c05074-815e-5677-8db7-5c499f8c8894"
    assert statement["context"]["extensions"] == {
        v.CONTENT_VERSION: "2025.2",
        v.SESSION_ID: "3b1f7a2e-8c4d-4e5f-a6b7-c8d9e0f1a2b3",
        v.ATTEMPT_ID: "9d2e4f6a-1b3c-4d5e-8f70-a1b2c3d4e5f6",
    }
    assert statement["context"]["contextActivities"]["category"] == [
        {
            "id": v.PROFILE_VERSION_IRI,
            "objectType": "Activity",
            "definition": {"type": v.PROFILE},
        }
    ]
    assert statement["result"]["score"] == {"raw": 8, "min": 0, "max": 10, "scaled": 0.8}
    assert statement["result"]["duration"] == "PT06M05S"
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://lms.example.edu", "name": "a6d2c9f0-learner-42"},
    }


def test_platform_is_configurable() -> None:
    statement = build_statement(
        STATEMENT_KINDS["launched"], namespace=NAMESPACE, platform="CX Academy (staging)"
    )
    assert statement["context"]["platform"] == "CX Academy (staging)"


# -- registrations -------------------------------------------------------------------


def test_every_statement_of_one_enrolment_shares_one_registration() -> None:
    registrations = {
        build_statement(event, namespace=NAMESPACE)["context"]["registration"]
        for event in STATEMENT_KINDS.values()
    }
    assert len(registrations) == 1


def test_registration_recipe_is_pinned_and_distinct_from_statement_ids() -> None:
    # If this fails, the registration recipe changed: an LRS would see every learner's
    # history split at the change. Do not update the value without a plan.
    source = source_id("registration", "https://lms.example.edu", "c", "d", "x", "l", "s")
    assert registration_id(NAMESPACE, source) == uuid.UUID("f0ce956c-689b-5a6f-a393-4aa81522252b")
    assert registration_id(NAMESPACE, source) != statement_id(NAMESPACE, source)
    other = uuid.UUID("11111111-2222-4333-8444-555555555555")
    assert registration_id(other, source) != registration_id(NAMESPACE, source)


def test_registration_and_registration_source_are_exclusive() -> None:
    with pytest.raises(StatementError):
        dataclasses.replace(STATEMENT_KINDS["launched"], registration=uuid.uuid4())
    with pytest.raises(StatementError):
        dataclasses.replace(STATEMENT_KINDS["launched"], registration_source="")


def test_staff_category_sits_beside_the_profile() -> None:
    statement = build_statement(STATEMENT_KINDS["launched_by_staff"], namespace=NAMESPACE)
    category = statement["context"]["contextActivities"]["category"]
    assert [c["id"] for c in category] == [v.PROFILE_VERSION_IRI, v.STAFF]
    assert category[1]["definition"]["type"] == v.AUDIENCE
    assert statement["context"]["extensions"][v.LTI_ROLES][0].endswith("membership#Instructor")
    learner = build_statement(STATEMENT_KINDS["launched"], namespace=NAMESPACE)
    assert [c["id"] for c in learner["context"]["contextActivities"]["category"]] == [
        v.PROFILE_VERSION_IRI
    ]


# -- statement ids ------------------------------------------------------------------


def test_statement_id_is_deterministic_uuid5() -> None:
    first = statement_id(NAMESPACE, source_id("launch", "42"))
    assert first == statement_id(NAMESPACE, source_id("launch", "42"))
    assert first.version == 5
    assert statement_id(NAMESPACE, source_id("launch", "43")) != first


def test_statement_id_recipe_is_pinned() -> None:
    # If this fails, the id recipe changed: every event already sent would be stored a
    # second time on re-send. Do not update the values without a migration plan.
    launch = uuid.UUID("7c3e8a52-1f4b-4d6a-9b0e-2d5f6a7b8c9d")
    source = source_id("lesson-experienced", launch, "https://cx-academy.example/a/b")
    assert source == (
        '["lesson-experienced", "7c3e8a52-1f4b-4d6a-9b0e-2d5f6a7b8c9d", '
        '"https://cx-academy.example/a/b"]'
    )
    assert statement_id(NAMESPACE, source) == uuid.UUID("10b7d6e6-6306-5fa4-8bba-8290c20c1746")


def test_the_same_event_gets_different_ids_in_different_installations() -> None:
    # Two installations both have a platform 1, a learner "u-1" and so on: only their own
    # namespaces keep those events apart in a shared LRS.
    source = source_id("course-completed", "https://lms.example.edu", "client", "u-1", "x")
    other = uuid.UUID("9a4b7c2d-1e3f-4a5b-8c6d-7e8f9a0b1c2d")
    assert statement_id(NAMESPACE, source) != statement_id(other, source)
    event = STATEMENT_KINDS["launched"]
    assert (
        build_statement(event, namespace=NAMESPACE)["id"]
        != (build_statement(event, namespace=other)["id"])
    )


def test_source_id_facts_cannot_run_into_each_other() -> None:
    assert source_id("k", "https://a.example", "b") != source_id("k", "https://a.example:b")
    assert source_id("k", "a", "b") != source_id("k", "a,b")
    assert source_id("k", 'a", "b') != source_id("k", "a", "b")


@pytest.mark.parametrize("facts", [(), ("",), (None,), (True,), ("a", "")])
def test_source_id_needs_real_facts(facts: tuple[object, ...]) -> None:
    with pytest.raises(StatementError):
        source_id("k", *facts)  # type: ignore[arg-type]


def test_statement_carries_the_derived_id() -> None:
    event = STATEMENT_KINDS["launched"]
    assert build_statement(event, namespace=NAMESPACE)["id"] == str(
        statement_id(NAMESPACE, event.source_id)
    )


def test_a_statement_needs_an_installation_namespace() -> None:
    with pytest.raises(TypeError):
        build_statement(STATEMENT_KINDS["launched"])  # type: ignore[call-arg]
    with pytest.raises(StatementError):
        statement_id(str(NAMESPACE), "x")  # type: ignore[arg-type]


def test_rebuilding_an_event_gives_an_identical_statement() -> None:
    event = STATEMENT_KINDS["answered_choice"]
    assert build_statement(event, namespace=NAMESPACE) == build_statement(
        event, namespace=NAMESPACE
    )


def test_empty_source_id_is_refused() -> None:
    with pytest.raises(StatementError):
        statement_id(NAMESPACE, "")
    with pytest.raises(StatementError):
        dataclasses.replace(STATEMENT_KINDS["launched"], source_id="")


# -- actor formats ------------------------------------------------------------------


def test_mbox_actor_uses_mailto_with_lowercased_domain() -> None:
    statement = build_statement(
        STATEMENT_KINDS["launched"], namespace=NAMESPACE, actor_format=ActorFormat.MBOX
    )
    assert statement["actor"] == {
        "objectType": "Agent",
        "mbox": "mailto:Dana.Reyes@example.edu",
    }


def test_mbox_sha1sum_actor_is_sha1_of_the_mailto_iri() -> None:
    statement = build_statement(
        STATEMENT_KINDS["launched"], namespace=NAMESPACE, actor_format=ActorFormat.MBOX_SHA1SUM
    )
    expected = hashlib.sha1(b"mailto:Dana.Reyes@example.edu").hexdigest()  # noqa: S324
    assert statement["actor"]["mbox_sha1sum"] == expected
    assert mbox_sha1sum("Dana.Reyes@Example.EDU") == expected
    assert "mbox" not in statement["actor"] and "account" not in statement["actor"]


@pytest.mark.parametrize("actor_format", [ActorFormat.MBOX, ActorFormat.MBOX_SHA1SUM])
def test_email_formats_need_an_email(actor_format: ActorFormat) -> None:
    event = dataclasses.replace(
        STATEMENT_KINDS["launched"], learner=dataclasses.replace(LEARNER, email=None)
    )
    with pytest.raises(StatementError, match="email"):
        build_statement(event, namespace=NAMESPACE, actor_format=actor_format)


def test_actor_without_name_has_no_name_property() -> None:
    event = dataclasses.replace(
        STATEMENT_KINDS["launched"], learner=Learner("https://lms.example.edu", "u-1")
    )
    assert "name" not in build_statement(event, namespace=NAMESPACE)["actor"]


def test_issuer_that_is_not_a_url_is_refused() -> None:
    # account.homePage must be an IRL (2.4.2.4); the builder's own validation catches it.
    event = dataclasses.replace(STATEMENT_KINDS["launched"], learner=Learner("not a url", "u-1"))
    with pytest.raises(StatementError, match="homePage"):
        build_statement(event, namespace=NAMESPACE)


# -- timestamps ---------------------------------------------------------------------


def test_naive_datetime_is_refused() -> None:
    with pytest.raises(StatementError, match="timezone"):
        dataclasses.replace(STATEMENT_KINDS["launched"], timestamp=datetime(2025, 6, 3, 9, 30))


def test_timestamp_is_normalised_to_utc() -> None:
    statement = build_statement(STATEMENT_KINDS["launched"], namespace=NAMESPACE)
    assert statement["timestamp"].endswith("Z")
    assert datetime.fromisoformat(statement["timestamp"]) == STATEMENT_KINDS[
        "launched"
    ].timestamp.replace(microsecond=123000)


# -- refusals -----------------------------------------------------------------------


def test_extension_key_that_is_not_an_iri_is_refused() -> None:
    event = dataclasses.replace(STATEMENT_KINDS["launched"], extensions={"lti_context": "x"})
    with pytest.raises(StatementError, match="extension keys must be IRIs"):
        build_statement(event, namespace=NAMESPACE)


def test_extension_value_that_is_not_json_is_refused() -> None:
    event = dataclasses.replace(STATEMENT_KINDS["launched"], extensions={v.LTI_CONTEXT_ID: {1, 2}})
    with pytest.raises(StatementError, match="JSON"):
        build_statement(event, namespace=NAMESPACE)


def test_score_outside_its_range_is_refused() -> None:
    event = dataclasses.replace(
        STATEMENT_KINDS["passed_quiz"], result=Result(score_raw=11, score_min=0, score_max=10)
    )
    with pytest.raises(StatementError, match=r"result\.score\.raw"):
        build_statement(event, namespace=NAMESPACE)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(StatementError, match="duration"):
        Result(duration=timedelta(seconds=-1))


def test_unknown_interaction_type_is_refused() -> None:
    with pytest.raises(StatementError, match="interaction_type"):
        Interaction(interaction_type="essay")


def test_correct_response_naming_an_unknown_choice_is_refused() -> None:
    question = Activity(
        id="https://cx-academy.example/activities/q",
        type=v.INTERACTION,
        name="Q",
        interaction=Interaction("choice", choices=(("a", "A"),), correct_responses=("b",)),
    )
    event = dataclasses.replace(STATEMENT_KINDS["answered_choice"], object=question)
    with pytest.raises(StatementError, match="correctResponsesPattern"):
        build_statement(event, namespace=NAMESPACE)


def test_matching_interaction_is_built_with_source_and_target() -> None:
    question = Activity(
        id="https://cx-academy.example/activities/match",
        type=v.INTERACTION,
        name="Match the tone",
        interaction=Interaction(
            "matching",
            source=(("angry", "Angry customer"), ("confused", "Confused customer")),
            target=(("calm", "Calm reassurance"), ("explain", "Step-by-step explanation")),
            correct_responses=("angry[.]calm[,]confused[.]explain",),
        ),
    )
    event = dataclasses.replace(
        STATEMENT_KINDS["answered_choice"],
        object=question,
        result=Result(response="angry[.]calm[,]confused[.]explain", success=True),
    )
    definition = build_statement(event, namespace=NAMESPACE)["object"]["definition"]
    assert [c["id"] for c in definition["source"]] == ["angry", "confused"]
    assert [c["id"] for c in definition["target"]] == ["calm", "explain"]


def test_statement_error_is_an_xapi_error() -> None:
    assert issubclass(StatementError, XapiError)


def test_learning_event_is_immutable() -> None:
    event: LearningEvent = STATEMENT_KINDS["launched"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.source_id = "other"  # type: ignore[misc]


def test_the_learner_carries_the_actor_format_their_platform_chose() -> None:
    base = STATEMENT_KINDS["launched"]
    hashed = dataclasses.replace(
        base, learner=dataclasses.replace(base.learner, actor_format=ActorFormat.MBOX_SHA1SUM)
    )
    actor = build_statement(hashed, namespace=NAMESPACE)["actor"]
    assert set(actor) >= {"mbox_sha1sum"} and "account" not in actor
    # An explicit choice still wins over the learner's default.
    assert (
        "account"
        in build_statement(hashed, namespace=NAMESPACE, actor_format=ActorFormat.ACCOUNT)["actor"]
    )
