"""The source ids the app builds for each learner action: globally unique facts only.

tests/data/source_ids.json pins them. A change there changes every statement id the app
makes from then on (see the recipe in xapi/statements.py): regenerate with
``UPDATE_GOLDEN=1 pytest tests/unit/lti_tool/test_source_ids.py`` only on purpose.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from content import load_catalog
from content.schema import DecisionNode
from content.scoring import (
    QuestionScore,
    QuizScore,
    ScenarioResult,
    SelfAssessmentResult,
)
from lti_tool import recording
from lti_tool.store.models import Launch, Platform
from xapi.events import LearningEvent

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "source_ids.json"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ATTEMPT = uuid.UUID("3f1c2b7a-9d4e-4f6a-8b2c-1e5d7a9c0b3f")


def a_launch(platform_row_id: int) -> Launch:
    platform = Platform(
        id=platform_row_id,
        name="Moodle",
        issuer="https://moodle.example.edu",
        client_id="cxa-client",
        auth_login_url="https://moodle.example.edu/auth",
        auth_token_url="https://moodle.example.edu/token",
        key_set_url="https://moodle.example.edu/certs",
        actor_format="account",
    )
    return Launch(
        id=uuid.UUID("6a0f3e2d-4b5c-4d7e-9f81-2a3b4c5d6e7f"),
        platform=platform,
        platform_id=platform_row_id,
        deployment_id="deployment-1",
        sub="learner-42",
        context_id="course-7",
        resource_link_id="link-9",
        locale="en-US",
        message_type="LtiResourceLinkRequest",
        claims={},
        roles=[],
    )


def every_event(launch: Launch) -> dict[str, LearningEvent]:
    catalog = load_catalog()
    course = catalog.require_course("service-foundations")
    lesson = catalog.require_lesson("active-listening")
    module = catalog.require_module("listening-and-empathy")
    question = catalog.require_question("listening-interrupt-myth")
    quiz = catalog.require_quiz("service-foundations-quiz")
    scenario = catalog.require_scenario("double-charge")
    node = next(n for n in scenario.nodes if isinstance(n, DecisionNode))
    assessment = catalog.require_self_assessment()
    score = QuestionScore(question.id, 1.0, 1.0, True, ())
    quiz_score = QuizScore(8.0, 0.0, 10.0, 0.8, True, (score,))
    return {
        "launched": recording.launched_event(launch, AT),
        "lesson_experienced": recording.lesson_experienced_event(
            launch, course, module, lesson, AT
        ),
        "knowledge_check_answered": recording.knowledge_check_answered_event(
            launch, course, lesson, question, "a", score, ATTEMPT, AT
        ),
        "quiz_attempted": recording.quiz_attempted_event(launch, course, quiz, ATTEMPT, AT),
        "question_answered": recording.question_answered_event(
            launch, course, quiz, question, "a", score, ATTEMPT, AT
        ),
        "quiz_result": recording.quiz_result_event(
            launch, course, quiz, quiz_score, ATTEMPT, timedelta(minutes=5), AT
        ),
        "course_completed": recording.course_completed_event(launch, course, AT),
        "scenario_choice": recording.scenario_choice_event(
            launch, course, scenario, node, node.choices[0], ATTEMPT, 1, AT
        ),
        "scenario_completed": recording.scenario_completed_event(
            launch,
            course,
            scenario,
            ScenarioResult(ending=None, skills={}, feedback=()),
            ATTEMPT,
            timedelta(minutes=3),
            AT,
        ),
        "self_assessment_rated": recording.self_assessment_rated_event(
            launch, assessment, assessment.statements[0], 3, ATTEMPT, AT
        ),
        "self_assessment_completed": recording.self_assessment_completed_event(
            launch, assessment, SelfAssessmentResult(averages={}), ATTEMPT, AT
        ),
    }


def test_source_ids_match_the_golden_file() -> None:
    source_ids = {kind: event.source_id for kind, event in every_event(a_launch(1)).items()}
    if UPDATE_GOLDEN:
        GOLDEN.write_text(json.dumps(source_ids, indent=2, ensure_ascii=False) + "\n")
    assert source_ids == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_no_source_id_depends_on_a_database_row_id() -> None:
    # Platform 1 here is platform 2 in another database: a row id in a source id would
    # make the same event look different (or two events look the same) across databases.
    first = {kind: event.source_id for kind, event in every_event(a_launch(1)).items()}
    second = {kind: event.source_id for kind, event in every_event(a_launch(2)).items()}
    assert first == second


def test_every_learner_action_has_its_own_source_id() -> None:
    source_ids = [event.source_id for event in every_event(a_launch(1)).values()]
    assert len(set(source_ids)) == len(source_ids)


def test_the_registration_names_the_enrolment_by_global_facts_only() -> None:
    # Same learner, placement and platform, another database (row id) and another launch:
    # one registration, as cmi5 means it. Pinned: a change splits every learner's history.
    first = recording.registration_source(a_launch(1))
    again = a_launch(2)
    again.id = uuid.uuid4()
    assert recording.registration_source(again) == first
    assert first == json.dumps(
        [
            "registration",
            "https://moodle.example.edu",
            "cxa-client",
            "deployment-1",
            "course-7",
            "link-9",
            "learner-42",
        ]
    )
    other_link = a_launch(1)
    other_link.resource_link_id = "link-10"
    assert recording.registration_source(other_link) != first
    events = every_event(a_launch(1))
    assert {event.registration_source for event in events.values()} == {first}
    assert all(event.registration is None for event in events.values())
