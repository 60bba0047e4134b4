"""The one interface every learner action goes through on its way to the LRS.

A view builds a ``LearningEvent`` and calls ``record_event`` inside its own transaction;
the statement lands in the outbox with the learner's change, or not at all.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from content.ids import activity_iri
from content.schema import (
    Choice,
    Course,
    DecisionNode,
    Lesson,
    MatchingQuestion,
    Module,
    OrderingQuestion,
    Question,
    Quiz,
    Scenario,
    SelfAssessment,
)
from content.schema import Statement as SkillStatement
from content.scoring import (
    QuestionScore,
    QuizScore,
    Response,
    ScenarioResult,
    SelfAssessmentResult,
)
from lti_tool.lti.claims import MAX_NAME, display_text, usable_email
from lti_tool.lti.roles import is_instructor_type
from lti_tool.store import outbox
from lti_tool.store.installation import statement_namespace
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Launch
from xapi import vocabulary
from xapi.events import Activity, ActorFormat, Interaction, Learner, LearningEvent, Result
from xapi.statements import build_statement, source_id

log = logging.getLogger(__name__)

#: Session.info flag that tells the commit helper a delivery task is worth sending.
OUTBOX_TOUCHED = "cxa_outbox_touched"
#: Session.info key: this installation's xAPI IRI base (Settings.iri_base), set by the
#: session factory so statements name activities under a URL the operator controls.
IRI_BASE = "cxa_xapi_iri_base"
#: Session.info key: (transaction, timestamp) of the last statement recorded.
_LAST_TIMESTAMP = "cxa_last_statement_timestamp"
#: The smallest step an LRS keeps between two timestamps (xAPI 1.0.3 Part Two, 4.5: at
#: least millisecond precision), so the order survives storage.
_TICK = timedelta(milliseconds=1)


# Every source_id below follows the recipe in xapi/statements.py (read its WARNING): only
# globally unique facts, never a row id; changing one changes that kind's statement ids.
# tests/data/source_ids.json pins them.

# Namespace of the placement ids below: changing it changes every placement's activity id.
_PLACEMENT_NAMESPACE = uuid.UUID("5d7a1c1e-3f7b-4a53-9a43-8f3cfc3f6d11")


def record_event(session: Session, event: LearningEvent, *, owner: LearnerKey) -> bool:
    """Queue the event's statement; False if this very event was recorded before.

    ``owner`` is the learner whose record it is (the statement's actor): the outbox keeps
    it beside the statement, so the goal engine and the per-learner delivery order never
    have to map an actor back to a learner. Its id is made in this installation's namespace
    (read once per process, then cached).
    """
    event = _after_previous(session, event)
    statement = build_statement(
        event, namespace=statement_namespace(session), iri_base=session.info.get(IRI_BASE)
    )
    added = outbox.add_statement(session, statement, owner=(owner.platform_id, owner.sub))
    session.info[OUTBOX_TOUCHED] = True
    return added


def _after_previous(session: Session, event: LearningEvent) -> LearningEvent:
    # One action often records several statements with the same clock reading (answers,
    # then the quiz result, then the course completion). An LRS sorts by timestamp, so
    # ties come back in any order; nudging each one a millisecond past the one recorded
    # before it in this transaction keeps the causal order the views record them in. The
    # statement id does not depend on the timestamp, so a re-send stays idempotent.
    # Only within one transaction: a later one (a worker's long-lived session replaying
    # old events, say) keeps its own timestamps.
    transaction = session.get_transaction()
    previous = session.info.get(_LAST_TIMESTAMP)
    moment = event.timestamp
    if previous is not None and previous[0] is transaction and moment < previous[1] + _TICK:
        moment = previous[1] + _TICK
        event = replace(event, timestamp=moment)
    session.info[_LAST_TIMESTAMP] = (transaction, moment)
    return event


def learner_of(launch: Launch) -> Learner:
    actor_format = ActorFormat(launch.platform.actor_format)
    # Rows stored before launches were checked may hold any text; only a usable address
    # can become an mbox (xAPI 1.0.3 Part Two, 2.4.2.3).
    email = usable_email(launch.email)
    if actor_format is not ActorFormat.ACCOUNT and email is None:
        # The platform asked for email actors but sent no usable email (privacy settings in
        # the LMS, or junk): identify the learner by LTI account rather than lose the action.
        log.warning(
            "platform %s wants %s actors but sent no usable email for %s; using the LTI account",
            launch.platform.id,
            actor_format.value,
            launch.sub,
        )
        actor_format = ActorFormat.ACCOUNT
    return Learner(
        issuer=launch.platform.issuer,
        sub=launch.sub,
        name=display_text(launch.name, MAX_NAME) if _names_included(launch) else None,
        email=email,
        actor_format=actor_format,
    )


def _names_included(launch: Launch) -> bool:
    # No personal name unless the registration opted in (`cxa platform set-actor-name`):
    # the account or mbox already identifies the learner to the LRS, and an LRS is often
    # read by people who have no need for names.
    return launch.platform.actor_name == "include"


def _lms_activity(launch: Launch, kind: str, local_id: str | None) -> str:
    # One id per (platform, deployment, LMS object): stable across launches, opaque outside.
    key = f"{launch.platform.issuer}|{launch.deployment_id}|{local_id}"
    return vocabulary.CX_BASE + f"activities/{kind}/{uuid.uuid5(_PLACEMENT_NAMESPACE, key)}"


def lms_course_activity(launch: Launch) -> Activity | None:
    """The LMS course the launch came from, as a grouping activity L&D can filter on."""
    if not launch.context_id:
        return None
    return Activity(
        id=_lms_activity(launch, "lms-context", launch.context_id),
        type=vocabulary.COURSE,
        name=launch.context_title or "LMS course",
    )


def placement_activity(launch: Launch) -> Activity:
    """The link the learner clicked in the LMS (platform, deployment, resource link)."""
    return Activity(
        id=_lms_activity(launch, "placement", launch.resource_link_id),
        type=vocabulary.LINK,
        name=launch.resource_link_title or "CX Academy",
    )


def launched_event(launch: Launch, at: datetime) -> LearningEvent:
    extensions = {vocabulary.LTI_RESOURCE_LINK_ID: launch.resource_link_id}
    if launch.context_id:
        extensions[vocabulary.LTI_CONTEXT_ID] = launch.context_id
    return _event(
        launch,
        source_id=source_id("launch", launch.id),
        verb=vocabulary.LAUNCHED,
        activity=placement_activity(launch),
        at=at,
        extensions=extensions,
    )


# --- curriculum activities ------------------------------------------------------------------
# Activity ids come from content.activity_iri (slug-based), so a statement about version
# 1.0.0 of a lesson and one about 1.1.0 land on the same activity; the version travels in
# the content-version context extension instead.


def _titled(item: Course | Module | Lesson | Scenario, activity_type: str) -> Activity:
    return Activity(
        id=activity_iri(item), type=activity_type, name=item.title, description=item.summary
    )


def course_activity(course: Course) -> Activity:
    return _titled(course, vocabulary.COURSE)


def module_activity(module: Module) -> Activity:
    return _titled(module, vocabulary.MODULE)


def lesson_activity(lesson: Lesson) -> Activity:
    return _titled(lesson, vocabulary.LESSON)


def quiz_activity(quiz: Quiz) -> Activity:
    return Activity(id=activity_iri(quiz), type=vocabulary.ASSESSMENT, name=quiz.title)


def scenario_activity(scenario: Scenario) -> Activity:
    return _titled(scenario, vocabulary.SIMULATION)


def question_activity(question: Question) -> Activity:
    """A question as an xAPI interaction activity with its choices and correct pattern."""
    return Activity(
        id=activity_iri(question),
        type=vocabulary.INTERACTION,
        name=_short(question.prompt),
        description=question.prompt,
        interaction=_interaction(question),
    )


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _interaction(question: Question) -> Interaction:
    # Response patterns follow xAPI 1.0.3 Part Two, 2.4.4.1 ("[,]" between ids, "[.]"
    # between a matching source and target).
    if isinstance(question, OrderingQuestion):
        return Interaction(
            interaction_type="sequencing",
            choices=tuple((item.id, item.text) for item in question.items),
            correct_responses=("[,]".join(item.id for item in question.items),),
        )
    if isinstance(question, MatchingQuestion):
        return Interaction(
            interaction_type="matching",
            source=tuple((pair.id, pair.prompt) for pair in question.pairs),
            target=tuple((pair.id, pair.match) for pair in question.pairs),
            correct_responses=("[,]".join(f"{p.id}[.]{p.id}" for p in question.pairs),),
        )
    correct = [option.id for option in question.options if option.correct]
    if {option.id for option in question.options} == {"true", "false"}:
        # The true-false type's response is literally "true" or "false".
        return Interaction(interaction_type="true-false", correct_responses=tuple(correct))
    return Interaction(
        interaction_type="choice",
        choices=tuple((option.id, option.text) for option in question.options),
        correct_responses=("[,]".join(correct),),
    )


def xapi_response(response: Response) -> str:
    """A scoring response in xAPI's response-string format."""
    if isinstance(response, str):
        return response
    if isinstance(response, Mapping):
        return "[,]".join(f"{source}[.]{target}" for source, target in response.items())
    return "[,]".join(response)


def _grouping(launch: Launch, *activities: Activity) -> tuple[Activity, ...]:
    lms = lms_course_activity(launch)
    return (*activities, lms) if lms else tuple(activities)


def _event(
    launch: Launch,
    *,
    source_id: str,
    verb: vocabulary.Verb,
    activity: Activity,
    at: datetime,
    attempt: uuid.UUID | None = None,
    run: uuid.UUID | None = None,
    parents: tuple[Activity, ...] = (),
    grouping: tuple[Activity, ...] = (),
    result: Result | None = None,
    content_version: str | None = None,
    extensions: dict[str, Any] | None = None,
) -> LearningEvent:
    context: dict[str, Any] = {vocabulary.SESSION_ID: str(launch.id), **(extensions or {})}
    if attempt is not None:
        context[vocabulary.ATTEMPT_ID] = str(attempt)
    if run is not None:
        context[vocabulary.RUN_ID] = str(run)
    if launch.roles:
        context[vocabulary.LTI_ROLES] = list(launch.roles)
    return LearningEvent(
        source_id=source_id,
        verb=verb,
        learner=learner_of(launch),
        object=activity,
        timestamp=at,
        registration_source=registration_source(launch),
        parents=parents,
        grouping=_grouping(launch, *grouping),
        categories=(STAFF_CATEGORY,) if is_instructor_type(launch.roles) else (),
        result=result,
        language=launch.locale,
        content_version=content_version,
        extensions=context,
    )


STAFF_CATEGORY = Activity(id=vocabulary.STAFF, type=vocabulary.AUDIENCE, name="Staff")
"""Tag on statements from staff launches: instructors previewing a course are not learners."""


def registration_source(launch: Launch) -> str:
    """The facts naming this learner's enrolment in this placement (see xapi/statements.py).

    One registration per learner and placement, as cmi5 means it, shared by every session
    and attempt there; with the installation namespace it becomes context.registration.
    A placement without an LMS course (no context claim) still has its resource link.
    """
    return source_id(
        "registration",
        launch.platform.issuer,
        launch.platform.client_id,
        launch.deployment_id,
        launch.context_id or "(no context)",
        launch.resource_link_id or "(no resource link)",
        launch.sub,
    )


# --- learner actions ------------------------------------------------------------------------


def lesson_experienced_event(
    launch: Launch, course: Course, module: Module, lesson: Lesson, at: datetime
) -> LearningEvent:
    """The learner opened a lesson; once per launch, so a reload does not count twice."""
    return _event(
        launch,
        source_id=source_id("lesson-experienced", launch.id, activity_iri(lesson)),
        verb=vocabulary.EXPERIENCED,
        activity=lesson_activity(lesson),
        at=at,
        parents=(module_activity(module),),
        grouping=(course_activity(course),),
        content_version=lesson.content_version,
    )


def knowledge_check_answered_event(
    launch: Launch,
    course: Course,
    lesson: Lesson,
    question: Question,
    response: Response,
    score: QuestionScore,
    submission_id: uuid.UUID,
    at: datetime,
) -> LearningEvent:
    """A practice answer at the end of a lesson.

    ``submission_id`` is the id of the server's record of the sent form
    (``store.knowledge_check``), never a value the browser supplied.
    """
    return _event(
        launch,
        source_id=source_id("knowledge-check", submission_id, activity_iri(question)),
        verb=vocabulary.ANSWERED,
        activity=question_activity(question),
        at=at,
        parents=(lesson_activity(lesson),),
        grouping=(course_activity(course),),
        result=_question_result(response, score),
        content_version=question.content_version,
    )


def quiz_attempted_event(
    launch: Launch, course: Course, quiz: Quiz, attempt_id: uuid.UUID, at: datetime
) -> LearningEvent:
    return _event(
        launch,
        source_id=source_id("quiz-attempted", attempt_id),
        verb=vocabulary.ATTEMPTED,
        activity=quiz_activity(quiz),
        at=at,
        attempt=attempt_id,
        parents=(course_activity(course),),
        content_version=quiz.content_version,
    )


def question_answered_event(
    launch: Launch,
    course: Course,
    quiz: Quiz,
    question: Question,
    response: Response,
    score: QuestionScore,
    attempt_id: uuid.UUID,
    at: datetime,
) -> LearningEvent:
    return _event(
        launch,
        source_id=source_id("quiz-answered", attempt_id, activity_iri(question)),
        verb=vocabulary.ANSWERED,
        activity=question_activity(question),
        at=at,
        attempt=attempt_id,
        parents=(quiz_activity(quiz),),
        grouping=(course_activity(course),),
        result=_question_result(response, score),
        content_version=question.content_version,
    )


def _question_result(response: Response, score: QuestionScore) -> Result:
    return Result(
        score_raw=score.raw,
        score_min=0.0,
        score_max=score.max,
        score_scaled=round(score.raw / score.max, 6) if score.max else 0.0,
        success=score.correct,
        response=xapi_response(response),
    )


def quiz_result_event(
    launch: Launch,
    course: Course,
    quiz: Quiz,
    score: QuizScore,
    attempt_id: uuid.UUID,
    duration: timedelta,
    at: datetime,
) -> LearningEvent:
    """Passed or failed, with the score the LMS gradebook gets too (scaled = raw / max)."""
    return _event(
        launch,
        source_id=source_id("quiz-result", attempt_id),
        verb=vocabulary.PASSED if score.passed else vocabulary.FAILED,
        activity=quiz_activity(quiz),
        at=at,
        attempt=attempt_id,
        parents=(course_activity(course),),
        result=Result(
            score_raw=score.raw,
            score_min=score.min,
            score_max=score.max,
            score_scaled=score.scaled,
            success=score.passed,
            completion=True,
            duration=duration,
        ),
        content_version=quiz.content_version,
    )


def course_completed_event(launch: Launch, course: Course, at: datetime) -> LearningEvent:
    """Every lesson experienced and the quiz passed; once per learner and course version."""
    return _event(
        launch,
        # The learner is (issuer, client_id, sub), as the platform row says, never its row id.
        source_id=source_id(
            "course-completed",
            launch.platform.issuer,
            launch.platform.client_id,
            launch.sub,
            activity_iri(course),
            course.content_version,
        ),
        verb=vocabulary.COMPLETED,
        activity=course_activity(course),
        at=at,
        result=Result(completion=True),
        content_version=course.content_version,
    )


def decision_activity(scenario: Scenario, node: DecisionNode) -> Activity:
    return Activity(
        id=vocabulary.activity_iri(activity_iri(scenario), "step", node.id),
        type=vocabulary.DECISION_POINT,
        name=f"{scenario.title}: {node.id}",
        description=node.customer,
        interaction=Interaction(
            interaction_type="choice",
            choices=tuple((choice.id, choice.text) for choice in node.choices),
        ),
    )


def scenario_choice_event(
    launch: Launch,
    course: Course,
    scenario: Scenario,
    node: DecisionNode,
    choice: Choice,
    run_id: uuid.UUID,
    step: int,
    at: datetime,
) -> LearningEvent:
    return _event(
        launch,
        source_id=source_id("scenario-chose", run_id, step),
        verb=vocabulary.CHOSE,
        activity=decision_activity(scenario, node),
        at=at,
        run=run_id,
        parents=(scenario_activity(scenario),),
        grouping=(course_activity(course),),
        result=Result(response=choice.id),
        content_version=scenario.content_version,
    )


def scenario_completed_event(
    launch: Launch,
    course: Course,
    scenario: Scenario,
    result: ScenarioResult,
    run_id: uuid.UUID,
    duration: timedelta,
    at: datetime,
) -> LearningEvent:
    """The conversation reached an ending; the score adds up every skill's points."""
    raw = sum(skill.raw for skill in result.skills.values())
    maximum = sum(skill.max for skill in result.skills.values())
    ending = result.ending
    return _event(
        launch,
        source_id=source_id("scenario-completed", run_id),
        verb=vocabulary.COMPLETED,
        activity=scenario_activity(scenario),
        at=at,
        run=run_id,
        parents=(course_activity(course),),
        result=Result(
            score_raw=float(raw),
            score_min=0.0,
            score_max=float(maximum),
            score_scaled=round(raw / maximum, 6) if maximum else 1.0,
            success=ending is not None and ending.outcome == "resolved",
            completion=True,
            duration=duration,
            response=ending.id if ending else None,
            extensions={
                vocabulary.SKILL_SCORES: {
                    skill_id: {"raw": skill.raw, "max": skill.max}
                    for skill_id, skill in sorted(result.skills.items())
                }
            },
        ),
        content_version=scenario.content_version,
    )


def self_assessment_activity(assessment: SelfAssessment) -> Activity:
    # A survey, not an assessment: nothing in it is right or wrong, and a dashboard that
    # sees "assessment" would average the ratings into learners' test scores.
    return Activity(
        id=activity_iri(assessment),
        type=vocabulary.SURVEY,
        name=assessment.title,
        description=assessment.intro,
    )


def rating_activity(assessment: SelfAssessment, statement: SkillStatement) -> Activity:
    return Activity(
        id=vocabulary.activity_iri(activity_iri(assessment), "statement", statement.id),
        type=vocabulary.INTERACTION,
        name=_short(statement.text),
        description=statement.text,
        interaction=Interaction(
            interaction_type="likert",
            scale=tuple((str(value), label) for value, label in assessment.scale.labels.items()),
        ),
    )


def self_assessment_rated_event(
    launch: Launch,
    assessment: SelfAssessment,
    statement: SkillStatement,
    rating: int,
    record_id: uuid.UUID,
    at: datetime,
) -> LearningEvent:
    return _event(
        launch,
        source_id=source_id(
            "self-assessment-rated", record_id, rating_activity(assessment, statement).id
        ),
        # "responded", never "answered": a rating has no correct value, so it must not
        # count towards an LRS's questions-answered or accuracy figures.
        verb=vocabulary.RESPONDED,
        activity=rating_activity(assessment, statement),
        at=at,
        attempt=record_id,
        parents=(self_assessment_activity(assessment),),
        result=Result(response=str(rating)),
        content_version=assessment.content_version,
    )


def self_assessment_completed_event(
    launch: Launch,
    assessment: SelfAssessment,
    result: SelfAssessmentResult,
    record_id: uuid.UUID,
    at: datetime,
) -> LearningEvent:
    """The assessment result: the response lists the recommended modules, weakest skill first."""
    return _event(
        launch,
        source_id=source_id("self-assessment-completed", record_id),
        verb=vocabulary.COMPLETED,
        activity=self_assessment_activity(assessment),
        at=at,
        attempt=record_id,
        result=Result(
            completion=True,
            response="[,]".join(result.modules),
            # Per-skill averages, so a goal "rate empathy 4 or more" (and a dashboard) can
            # read the outcome from this one statement rather than regroup the ratings.
            extensions={
                vocabulary.SKILL_RATINGS: {
                    skill: round(average, 3) for skill, average in sorted(result.averages.items())
                }
            },
        ),
        content_version=assessment.content_version,
    )
