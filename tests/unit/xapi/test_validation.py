"""validate_statement catches each class of xAPI 1.0.3 violation, naming the JSON path.

Every negative case starts from a statement that is valid (asserted) and breaks one
thing, so removing a check from the validator makes exactly its case fail.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.xapi.catalogue import NAMESPACE, STATEMENT_KINDS
from xapi.statements import build_statement
from xapi.validation import (
    is_duration,
    is_iri,
    is_irl,
    is_language_tag,
    is_timestamp,
    is_uuid,
    validate_statement,
)

Statement = dict[str, Any]


def base() -> Statement:
    """A valid statement using most properties: a choice question with full context."""
    statement = build_statement(STATEMENT_KINDS["answered_choice"], namespace=NAMESPACE)
    statement["object"]["definition"]["moreInfo"] = "https://cx-academy.example/help/q1"
    statement["object"]["definition"]["extensions"] = {"https://cx-academy.example/x/e": 1}
    statement["result"]["extensions"] = {"https://cx-academy.example/x/r": None}
    return statement


def test_base_is_valid() -> None:
    assert validate_statement(base()) == []


def _set(path: str, value: Any) -> Callable[[Statement], None]:
    """Mutation that sets a dotted path (list indexes as numbers)."""

    def mutate(statement: Statement) -> None:
        *parents, last = path.split(".")
        node: Any = statement
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Callable[[Statement], None]:
    def mutate(statement: Statement) -> None:
        *parents, last = path.split(".")
        node: Any = statement
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


def _both(*mutations: Callable[[Statement], None]) -> Callable[[Statement], None]:
    def mutate(statement: Statement) -> None:
        for mutation in mutations:
            mutation(statement)

    return mutate


ANONYMOUS_GROUP = {"objectType": "Group", "name": "Team"}
SUBSTATEMENT = {
    "objectType": "SubStatement",
    "actor": {"mbox": "mailto:a@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    "object": {"id": "https://cx-academy.example/a"},
}
STATEMENT_REF = {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}
TRUE_FALSE = {
    "id": "https://cx-academy.example/tf",
    "definition": {"interactionType": "true-false", "correctResponsesPattern": ["yes"]},
}
MATCHING = {
    "id": "https://cx-academy.example/m",
    "definition": {
        "interactionType": "matching",
        "source": [{"id": "s1"}],
        "target": [{"id": "t1"}],
        "correctResponsesPattern": ["s1-t1"],
    },
}
NUMERIC = {
    "id": "https://cx-academy.example/n",
    "definition": {"interactionType": "numeric", "correctResponsesPattern": ["1[:]x"]},
}

# (case id, mutation, path the problem must name)
VIOLATIONS: list[tuple[str, Callable[[Statement], None], str]] = [
    # statement level (2.2, 2.4.1)
    ("id-not-uuid", _set("id", "not-a-uuid"), "id"),
    ("id-not-string", _set("id", 12), "id"),
    ("missing-actor", _delete("actor"), "actor"),
    ("missing-verb", _delete("verb"), "verb"),
    ("missing-object", _delete("object"), "object"),
    ("unknown-top-level", _set("score", 1), "score"),
    ("null-value", _set("result.response", None), "result.response"),
    ("version-not-1.0", _set("version", "2.0.0"), "version"),
    ("stored-not-timestamp", _set("stored", "yesterday"), "stored"),
    # actor (2.4.2)
    ("actor-two-ifis", _set("actor.mbox", "mailto:a@example.com"), "actor"),
    ("actor-no-ifi", _delete("actor.account"), "actor"),
    ("actor-unknown-property", _set("actor.email", "a@example.com"), "actor.email"),
    ("actor-bad-object-type", _set("actor.objectType", "Person"), "actor.objectType"),
    (
        "mbox-without-mailto",
        _both(_delete("actor.account"), _set("actor.mbox", "a@example.com")),
        "actor.mbox",
    ),
    (
        "mbox-sha1sum-not-hex",
        _both(_delete("actor.account"), _set("actor.mbox_sha1sum", "xyz")),
        "actor.mbox_sha1sum",
    ),
    ("openid-not-iri", _both(_delete("actor.account"), _set("actor.openid", "me")), "actor.openid"),
    ("account-homepage-not-irl", _set("actor.account.homePage", "lms"), "actor.account.homePage"),
    ("account-no-homepage", _delete("actor.account.homePage"), "actor.account.homePage"),
    ("account-no-name", _delete("actor.account.name"), "actor.account.name"),
    ("actor-name-not-string", _set("actor.name", 7), "actor.name"),
    ("anonymous-group-without-members", _set("actor", ANONYMOUS_GROUP), "actor.member"),
    (
        "group-containing-group",
        _set("actor", {**ANONYMOUS_GROUP, "member": [ANONYMOUS_GROUP]}),
        "actor.member[0]",
    ),
    # verb (2.4.3)
    ("verb-id-not-iri", _set("verb.id", "answered"), "verb.id"),
    ("verb-missing-id", _delete("verb.id"), "verb.id"),
    ("verb-display-bad-language", _set("verb.display", {"english": "x"}), "verb.display.english"),
    ("verb-display-underscore-tag", _set("verb.display", {"en_US": "x"}), "verb.display.en_US"),
    ("verb-display-not-string", _set("verb.display", {"en-US": 1}), "verb.display.en-US"),
    ("verb-display-not-map", _set("verb.display", "answered"), "verb.display"),
    (
        "voiding-needs-statement-ref",
        _set("verb.id", "http://adlnet.gov/expapi/verbs/voided"),
        "object",
    ),
    # object (2.4.4)
    ("object-id-not-iri", _set("object.id", "question 1"), "object.id"),
    ("object-missing-id", _delete("object.id"), "object.id"),
    ("object-unknown-type", _set("object.objectType", "Thing"), "object.objectType"),
    (
        "definition-unknown-property",
        _set("object.definition.title", "x"),
        "object.definition.title",
    ),
    ("definition-name-not-map", _set("object.definition.name", "Q1"), "object.definition.name"),
    (
        "definition-description-bad-tag",
        _set("object.definition.description", {"en-": "x"}),
        "object.definition.description.en-",
    ),
    (
        "definition-type-not-iri",
        _set("object.definition.type", "question"),
        "object.definition.type",
    ),
    (
        "definition-more-info-not-irl",
        _set("object.definition.moreInfo", "urn:x:y"),
        "object.definition.moreInfo",
    ),
    (
        "definition-extension-key-not-iri",
        _set("object.definition.extensions", {"level": 1}),
        "object.definition.extensions.level",
    ),
    (
        "interaction-type-not-in-list",
        _set("object.definition.interactionType", "multiple-choice"),
        "object.definition.interactionType",
    ),
    (
        "components-without-interaction-type",
        _delete("object.definition.interactionType"),
        "object.definition.interactionType",
    ),
    (
        "component-list-wrong-for-type",
        _set("object.definition.source", [{"id": "x"}]),
        "object.definition.source",
    ),
    (
        "duplicate-component-ids",
        _set("object.definition.choices.1.id", "apologise"),
        "object.definition.choices[1].id",
    ),
    (
        "component-id-with-space",
        _set("object.definition.choices.1.id", "quote policy"),
        "object.definition.choices[1].id",
    ),
    (
        "choices-not-a-list",
        _set("object.definition.choices", {"id": "a"}),
        "object.definition.choices",
    ),
    (
        "pattern-names-unknown-choice",
        _set("object.definition.correctResponsesPattern", ["apologise[,]shout"]),
        "object.definition.correctResponsesPattern[0]",
    ),
    (
        "pattern-not-strings",
        _set("object.definition.correctResponsesPattern", [1]),
        "object.definition.correctResponsesPattern",
    ),
    (
        "pattern-trailing-delimiter",
        _set("object.definition.correctResponsesPattern", ["apologise[,]"]),
        "object.definition.correctResponsesPattern[0]",
    ),
    ("response-names-unknown-choice", _set("result.response", "shout"), "result.response"),
    (
        "true-false-pattern",
        _both(_set("object", TRUE_FALSE), _delete("result.response")),
        "object.definition.correctResponsesPattern[0]",
    ),
    (
        "matching-pattern",
        _both(_set("object", MATCHING), _delete("result.response")),
        "object.definition.correctResponsesPattern[0]",
    ),
    (
        "numeric-pattern",
        _both(_set("object", NUMERIC), _delete("result.response")),
        "object.definition.correctResponsesPattern[0]",
    ),
    ("statement-ref-bad-id", _set("object", {**STATEMENT_REF, "id": "x"}), "object.id"),
    (
        "substatement-with-id",
        _set("object", {**SUBSTATEMENT, "id": STATEMENT_REF["id"]}),
        "object.id",
    ),
    (
        "nested-substatement",
        _set("object", {**SUBSTATEMENT, "object": SUBSTATEMENT}),
        "object.object",
    ),
    # result (2.4.5)
    ("result-unknown-property", _set("result.grade", "A"), "result.grade"),
    ("scaled-above-1", _set("result.score.scaled", 1.5), "result.score.scaled"),
    ("scaled-below-minus-1", _set("result.score.scaled", -1.01), "result.score.scaled"),
    ("raw-above-max", _set("result.score.raw", 2), "result.score.raw"),
    ("raw-below-min", _set("result.score.raw", -1), "result.score.raw"),
    ("min-not-below-max", _set("result.score.min", 1), "result.score.min"),
    ("raw-as-string", _set("result.score.raw", "1"), "result.score.raw"),
    ("raw-as-bool", _set("result.score.raw", True), "result.score.raw"),
    ("score-unknown-property", _set("result.score.percent", 100), "result.score.percent"),
    ("success-as-string", _set("result.success", "true"), "result.success"),
    ("completion-as-number", _set("result.completion", 1), "result.completion"),
    ("duration-free-text", _set("result.duration", "90 seconds"), "result.duration"),
    ("duration-bare-p", _set("result.duration", "P"), "result.duration"),
    ("duration-bare-t", _set("result.duration", "PT"), "result.duration"),
    (
        "duration-alternative-format",
        _set("result.duration", "P0003-04-06T12:30:05"),
        "result.duration",
    ),
    ("duration-as-number", _set("result.duration", 90), "result.duration"),
    (
        "result-extension-key-not-iri",
        _set("result.extensions", {"progress": 1}),
        "result.extensions.progress",
    ),
    # timestamp (2.4.7, 4.5)
    ("timestamp-without-zone", _set("timestamp", "2025-06-03T09:30:15"), "timestamp"),
    ("timestamp-date-only", _set("timestamp", "2025-06-03"), "timestamp"),
    ("timestamp-impossible-date", _set("timestamp", "2025-13-03T09:30:15Z"), "timestamp"),
    ("timestamp-unknown-offset", _set("timestamp", "2025-06-03T09:30:15-00:00"), "timestamp"),
    # context (2.4.6)
    ("context-unknown-property", _set("context.course", "x"), "context.course"),
    ("registration-not-uuid", _set("context.registration", "reg-1"), "context.registration"),
    ("language-not-a-tag", _set("context.language", "English"), "context.language"),
    (
        "context-activities-single-object",
        _set("context.contextActivities.parent", {"id": "https://cx-academy.example/q"}),
        "context.contextActivities.parent",
    ),
    (
        "context-activities-unknown-key",
        _set("context.contextActivities.sibling", []),
        "context.contextActivities.sibling",
    ),
    (
        "context-activity-bad-id",
        _set("context.contextActivities.parent.0.id", "quiz"),
        "context.contextActivities.parent[0].id",
    ),
    (
        "context-activity-not-activity",
        _set("context.contextActivities.grouping.0", STATEMENT_REF),
        "context.contextActivities.grouping[0].objectType",
    ),
    (
        "context-extension-key-not-iri",
        _set("context.extensions", {"content_version": "1"}),
        "context.extensions.content_version",
    ),
    ("context-extensions-not-object", _set("context.extensions", ["x"]), "context.extensions"),
    (
        "platform-with-non-activity-object",
        _both(_set("object", STATEMENT_REF), _delete("result")),
        "context.platform",
    ),
    ("platform-not-string", _set("context.platform", 1), "context.platform"),
    ("instructor-no-ifi", _set("context.instructor", {"name": "Sam"}), "context.instructor"),
    ("team-not-group", _set("context.team", {"mbox": "mailto:t@example.com"}), "context.team"),
    (
        "context-statement-not-ref",
        _set("context.statement", {"id": "x"}),
        "context.statement.objectType",
    ),
    # attachments (2.4.11)
    (
        "attachment-missing-sha2",
        _set("attachments", [{"usageType": "http://x.example/u"}]),
        "attachments[0].sha2",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "path"), [(m, p) for _, m, p in VIOLATIONS], ids=[c for c, _, _ in VIOLATIONS]
)
def test_violation_is_reported_at_its_path(mutate: Callable[[Statement], None], path: str) -> None:
    statement = base()
    mutate(statement)
    problems = validate_statement(statement)
    assert any(p.startswith(f"{path}: ") for p in problems), problems


def test_statement_must_be_an_object() -> None:
    assert validate_statement(["not", "a", "statement"]) == [  # type: ignore[arg-type]
        "(statement): a statement must be a JSON object (2.2)"
    ]


def test_problem_messages_cite_the_spec_section() -> None:
    statement = base()
    statement["result"]["score"]["scaled"] = 2
    assert validate_statement(statement) == [
        "result.score.scaled: must be between -1 and 1 inclusive (2.4.5.1)"
    ]


def test_several_problems_are_all_reported() -> None:
    statement = base()
    statement["id"] = "x"
    statement["verb"]["id"] = "y"
    assert len(validate_statement(statement)) == 2


@pytest.mark.parametrize(
    "valid_object",
    [
        STATEMENT_REF,
        {"objectType": "Agent", "mbox": "mailto:peer@example.com"},
        {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]},
        SUBSTATEMENT,
    ],
    ids=["statement-ref", "agent", "anonymous-group", "substatement"],
)
def test_other_object_kinds_are_accepted(valid_object: dict[str, Any]) -> None:
    statement = base()
    statement["object"] = copy.deepcopy(valid_object)
    del statement["result"]
    del statement["context"]["platform"]
    assert validate_statement(statement) == []


@pytest.mark.parametrize(
    ("definition", "response"),
    [
        ({"interactionType": "true-false", "correctResponsesPattern": ["true"]}, "false"),
        (
            {
                "interactionType": "matching",
                "source": [{"id": "s1"}, {"id": "s2"}],
                "target": [{"id": "t1"}],
                "correctResponsesPattern": ["s1[.]t1[,]s2[.]t1"],
            },
            "s1[.]t1",
        ),
        (
            {
                "interactionType": "likert",
                "scale": [{"id": "agree"}, {"id": "disagree"}],
                "correctResponsesPattern": ["agree"],
            },
            "disagree",
        ),
        (
            {
                "interactionType": "performance",
                "steps": [{"id": "greet"}, {"id": "resolve"}],
                "correctResponsesPattern": ["{order_matters=false}greet[.]hello[,]resolve[.]1[:]3"],
            },
            "greet[.]hi",
        ),
        ({"interactionType": "numeric", "correctResponsesPattern": ["[:]4", "2[:]3.5", "7"]}, "3"),
        (
            {"interactionType": "fill-in", "correctResponsesPattern": ["{case_matters=true}Sorry"]},
            "x",
        ),
        ({"interactionType": "other", "correctResponsesPattern": []}, "anything at all"),
    ],
    ids=["true-false", "matching", "likert", "performance", "numeric", "fill-in", "other"],
)
def test_interaction_types_accept_their_own_patterns(
    definition: dict[str, Any], response: str
) -> None:
    statement = base()
    statement["object"] = {"id": "https://cx-academy.example/q", "definition": definition}
    statement["result"] = {"response": response}
    assert validate_statement(statement) == []


@pytest.mark.parametrize(
    "value", ["PT1H", "P1DT2H3M4.5S", "P3W", "PT0S", "P1Y2M10DT2H30M", "PT06M05S", "PT12.25S"]
)
def test_durations_accepted(value: str) -> None:
    assert is_duration(value)


@pytest.mark.parametrize("value", ["P", "PT", "1H", "PT1H2", "P1W2D", "-PT1S", "PT1.S", ""])
def test_durations_refused(value: str) -> None:
    assert not is_duration(value)


@pytest.mark.parametrize(
    "value",
    [
        "2025-06-03T09:30:15Z",
        "2025-06-03T09:30:15.123Z",
        "2025-06-03T11:30:15+02:00",
        "2025-06-03T04:30:15.123456-05:00",
    ],
)
def test_timestamps_accepted(value: str) -> None:
    assert is_timestamp(value)


@pytest.mark.parametrize(
    "value",
    ["2025-06-03T09:30:15", "2025-06-03 09:30:15Z", "2025-02-30T09:30:15Z", "yesterday", 0],
)
def test_timestamps_refused(value: object) -> None:
    assert not is_timestamp(value)


@pytest.mark.parametrize(
    "tag", ["en", "en-US", "zh-Hant-TW", "de-CH-1996", "es-419", "x-klingon", "en-US-x-cx", "und"]
)
def test_language_tags_accepted(tag: str) -> None:
    assert is_language_tag(tag)


@pytest.mark.parametrize("tag", ["english", "en_US", "e", "en-", "-US", "", "en-US-"])
def test_language_tags_refused(tag: str) -> None:
    assert not is_language_tag(tag)


def test_iri_irl_uuid_helpers() -> None:
    assert is_iri("urn:uuid:8f87ccde-bb56-4c2e-ab83-44982ef22df0")
    assert is_iri("https://cx-academy.example/caf%C3%A9")
    assert not is_iri("cx-academy.example/a")
    assert not is_iri("https://cx-academy.example/a b")
    assert not is_iri("https:")
    assert is_irl("https://lms.example.edu")
    assert not is_irl("urn:x:y")
    assert not is_irl("https:///path-only")
    assert is_uuid("8f87ccde-bb56-4c2e-ab83-44982ef22df0")
    assert not is_uuid("8f87ccdebb564c2eab8344982ef22df0")
