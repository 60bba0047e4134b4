"""One learning event per statement kind, from fixed inputs, for the golden files.

Each entry is what the app would record for that learner action; the golden file
``tests/data/statements/<kind>.json`` is the statement it must become.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from xapi import vocabulary as v
from xapi.events import Activity, Interaction, Learner, LearningEvent, Result
from xapi.statements import source_id

#: The statement-id namespace of the installation these statements come from (fixed here so
#: the golden files' ids are too; a real installation makes its own at first migration).
NAMESPACE = uuid.UUID("0b8e6f4c-5a3d-4c21-9e7f-2d1a6b3c8e90")

SITE = "https://cx-academy.example/activities"
# No name: by default the app sends none (a platform opts in with set-actor-name).
LEARNER = Learner(
    issuer="https://lms.example.edu",
    sub="a6d2c9f0-learner-42",
    email="Dana.Reyes@Example.EDU",
)
REGISTRATION = uuid.UUID("7c3e8a52-1f4b-4d6a-9b0e-2d5f6a7b8c9d")
#: The learner's enrolment in one placement, as lti_tool.recording.registration_source
#: builds it: every statement below shares the registration made from it.
REGISTRATION_SOURCE = source_id(
    "registration",
    "https://lms.example.edu",
    "cxa-client",
    "deployment-1",
    "course-1234",
    "link-5678",
    "a6d2c9f0-learner-42",
)
SESSION = "3b1f7a2e-8c4d-4e5f-a6b7-c8d9e0f1a2b3"
ATTEMPT = "9d2e4f6a-1b3c-4d5e-8f70-a1b2c3d4e5f6"
RUN = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
INSTRUCTOR_ROLES = [
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
    "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty",
]
# A launch in Berlin at 11:30 local summer time: the statement must say 09:30Z.
WHEN = datetime(2025, 6, 3, 11, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))

COURSE = Activity(
    id=v.activity_iri(SITE, "course", "handling-complaints"),
    type=v.COURSE,
    name="Handling Complaints",
    description="Turn an unhappy customer into a loyal one.",
)
LESSON = Activity(
    id=v.activity_iri(SITE, "course", "handling-complaints", "lesson", "listen-first"),
    type=v.LESSON,
    name="Listen first",
)
QUIZ = Activity(
    id=v.activity_iri(SITE, "course", "handling-complaints", "quiz", "check-1"),
    type=v.ASSESSMENT,
    name="Check your understanding",
)
CHOICE_QUESTION = Activity(
    id=v.activity_iri(SITE, "course", "handling-complaints", "quiz", "check-1", "q1"),
    type=v.INTERACTION,
    name="First response",
    description="A customer writes that their parcel is late again. What do you do first?",
    interaction=Interaction(
        interaction_type="choice",
        choices=(
            ("apologise", "Apologise and acknowledge the delay"),
            ("policy", "Quote the delivery policy"),
            ("refund", "Offer a refund straight away"),
        ),
        correct_responses=("apologise",),
    ),
)
ORDERING_QUESTION = Activity(
    id=v.activity_iri(SITE, "course", "handling-complaints", "quiz", "check-1", "q2"),
    type=v.INTERACTION,
    name="Order the steps",
    description="Put the steps of the LEARN model in order.",
    interaction=Interaction(
        interaction_type="sequencing",
        choices=(
            ("listen", "Listen"),
            ("empathise", "Empathise"),
            ("apologise", "Apologise"),
            ("resolve", "Resolve"),
            ("notify", "Notify"),
        ),
        correct_responses=("listen[,]empathise[,]apologise[,]resolve[,]notify",),
    ),
)
SCENARIO = Activity(
    id=v.activity_iri(SITE, "course", "handling-complaints", "scenario", "late-parcel"),
    type=v.SIMULATION,
    name="The late parcel",
)
DECISION = Activity(
    id=v.activity_iri(
        SITE, "course", "handling-complaints", "scenario", "late-parcel", "step", "opening"
    ),
    type=v.DECISION_POINT,
    name="Opening line",
    description="The customer is angry. How do you open?",
    interaction=Interaction(
        interaction_type="choice",
        choices=(("calm", "Stay calm and acknowledge"), ("defend", "Defend the company")),
    ),
)
SELF_ASSESSMENT = Activity(
    id=v.activity_iri(SITE, "self-assessment", "cx-skills"),
    type=v.SURVEY,
    name="Your customer-service skills",
)
RATING = Activity(
    id=v.activity_iri(SITE, "self-assessment", "cx-skills", "statement", "listening"),
    type=v.INTERACTION,
    name="I let customers finish before I reply.",
    description="I let customers finish before I reply.",
    interaction=Interaction(
        interaction_type="likert",
        scale=(("1", "Not yet"), ("2", "Sometimes"), ("3", "Usually"), ("4", "Always")),
    ),
)
STAFF = Activity(id=v.STAFF, type=v.AUDIENCE, name="Staff")
GOAL = Activity(
    id=v.activity_iri(SITE, "learner-goals", "goal-17"),
    type=v.GOAL,
    name="Resolve five complaints on first contact this week",
)

_COMMON = {
    "learner": LEARNER,
    "timestamp": WHEN,
    "registration_source": REGISTRATION_SOURCE,
    "language": "en-US",
    "content_version": "2025.2",
}


def _event(kind: str, **fields: object) -> LearningEvent:
    return LearningEvent(source_id=source_id(kind, REGISTRATION), **{**_COMMON, **fields})  # type: ignore[arg-type]


def _in_attempt(**extensions: object) -> dict[str, object]:
    return {v.SESSION_ID: SESSION, v.ATTEMPT_ID: ATTEMPT, **extensions}


STATEMENT_KINDS: dict[str, LearningEvent] = {
    "launched": _event(
        "launched",
        verb=v.LAUNCHED,
        object=COURSE,
        extensions={
            v.LTI_CONTEXT_ID: "course-1234",
            v.LTI_RESOURCE_LINK_ID: "link-5678",
            v.SESSION_ID: SESSION,
        },
    ),
    "launched_by_staff": _event(
        "launched_by_staff",
        verb=v.LAUNCHED,
        object=COURSE,
        categories=(STAFF,),
        extensions={
            v.LTI_CONTEXT_ID: "course-1234",
            v.LTI_RESOURCE_LINK_ID: "link-5678",
            v.SESSION_ID: SESSION,
            v.LTI_ROLES: INSTRUCTOR_ROLES,
        },
    ),
    "responded_rating": _event(
        "responded_rating",
        verb=v.RESPONDED,
        object=RATING,
        parents=(SELF_ASSESSMENT,),
        result=Result(response="3"),
        extensions=_in_attempt(),
    ),
    "experienced_lesson": _event(
        "experienced_lesson",
        verb=v.EXPERIENCED,
        object=LESSON,
        parents=(COURSE,),
        result=Result(duration=timedelta(minutes=4, seconds=30)),
    ),
    "answered_choice": _event(
        "answered_choice",
        extensions=_in_attempt(),
        verb=v.ANSWERED,
        object=CHOICE_QUESTION,
        parents=(QUIZ,),
        grouping=(COURSE,),
        result=Result(
            success=True,
            response="apologise",
            duration=timedelta(seconds=12.5),
            score_raw=1,
            score_min=0,
            score_max=1,
            score_scaled=1.0,
        ),
    ),
    "answered_ordering": _event(
        "answered_ordering",
        extensions=_in_attempt(),
        verb=v.ANSWERED,
        object=ORDERING_QUESTION,
        parents=(QUIZ,),
        grouping=(COURSE,),
        result=Result(
            success=False,
            response="listen[,]apologise[,]empathise[,]resolve[,]notify",
            duration=timedelta(seconds=41),
        ),
    ),
    "passed_quiz": _event(
        "passed_quiz",
        extensions=_in_attempt(),
        verb=v.PASSED,
        object=QUIZ,
        parents=(COURSE,),
        result=Result(
            score_raw=8,
            score_min=0,
            score_max=10,
            score_scaled=0.8,
            success=True,
            completion=True,
            duration=timedelta(minutes=6, seconds=5),
        ),
    ),
    "failed_quiz": _event(
        "failed_quiz",
        extensions=_in_attempt(),
        verb=v.FAILED,
        object=QUIZ,
        parents=(COURSE,),
        result=Result(
            score_raw=4,
            score_min=0,
            score_max=10,
            score_scaled=0.4,
            success=False,
            completion=True,
            duration=timedelta(minutes=5),
        ),
    ),
    "progressed_course": _event(
        "progressed_course",
        verb=v.PROGRESSED,
        object=COURSE,
        result=Result(extensions={v.PROGRESS: 60}),
    ),
    "completed_course": _event(
        "completed_course",
        verb=v.COMPLETED,
        object=COURSE,
        result=Result(completion=True, duration=timedelta(hours=1, minutes=2, seconds=3)),
    ),
    "chose_scenario": _event(
        "chose_scenario",
        extensions={v.SESSION_ID: SESSION, v.RUN_ID: RUN},
        verb=v.CHOSE,
        object=DECISION,
        parents=(SCENARIO,),
        grouping=(COURSE,),
        result=Result(response="calm"),
    ),
    "set_goal": _event("set_goal", verb=v.SET_GOAL, object=GOAL, grouping=(COURSE,)),
    "achieved_goal": _event(
        "achieved_goal",
        verb=v.ACHIEVED_GOAL,
        object=GOAL,
        grouping=(COURSE,),
        result=Result(success=True, completion=True),
    ),
    "terminated": _event(
        "terminated",
        verb=v.TERMINATED,
        object=COURSE,
        result=Result(duration=timedelta(minutes=25)),
        timestamp=datetime(2025, 6, 3, 9, 55, tzinfo=UTC),
    ),
}
