"""Every xAPI IRI CX Academy uses: verbs, activity types, extensions and our profile.

Reuse comes first: ADL and cmi5 verbs and ADL activity types wherever one fits, so any
LRS report understands our statements without our profile (xAPI 1.0.3 Part One, 7.0
"Profiles, Vocabularies and Communities of Practice" asks providers to reuse existing
vocabulary). Our own IRIs live under ``CX_BASE`` and are described in ``profile.jsonld``.

Never change an IRI once statements carrying it have been sent: an IRI is the identity
of the concept, and a changed one splits every report in two.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

DISPLAY_LANGUAGE = "en-US"
"""Language tag of verb displays (xAPI 1.0.3 Part Two, 2.4.3: display is a language map)."""

CX_BASE = "https://cx-academy.example/xapi/"
"""Root of every IRI we mint ourselves; a stable name we control, not a deployment URL."""


@dataclass(frozen=True)
class Verb:
    """A verb IRI with its en-US display, the pair a statement's "verb" carries."""

    iri: str
    display: str


# ADL verbs (http://adlnet.gov/expapi/verbs/), the cmi5 defined-verb set plus "answered",
# "experienced" and "progressed" from the ADL vocabulary.
LAUNCHED = Verb("http://adlnet.gov/expapi/verbs/launched", "launched")
INITIALIZED = Verb("http://adlnet.gov/expapi/verbs/initialized", "initialized")
EXPERIENCED = Verb("http://adlnet.gov/expapi/verbs/experienced", "experienced")
ANSWERED = Verb("http://adlnet.gov/expapi/verbs/answered", "answered")
ATTEMPTED = Verb("http://adlnet.gov/expapi/verbs/attempted", "attempted")
COMPLETED = Verb("http://adlnet.gov/expapi/verbs/completed", "completed")
PASSED = Verb("http://adlnet.gov/expapi/verbs/passed", "passed")
FAILED = Verb("http://adlnet.gov/expapi/verbs/failed", "failed")
PROGRESSED = Verb("http://adlnet.gov/expapi/verbs/progressed", "progressed")
TERMINATED = Verb("http://adlnet.gov/expapi/verbs/terminated", "terminated")
RESPONDED = Verb("http://adlnet.gov/expapi/verbs/responded", "responded")
"""A reply that has no right or wrong, such as a rating in a survey: kept apart from
"answered" so an LRS's "questions answered" and accuracy figures count only questions."""

# Our own verbs, only where no established one says the same thing.
SET_GOAL = Verb(CX_BASE + "verbs/set-goal", "set goal")
"""The learner committed to a personal goal (object: an activity of type ``GOAL``)."""
ACHIEVED_GOAL = Verb(CX_BASE + "verbs/achieved-goal", "achieved goal")
"""The learner reached a goal they had set (object: the same ``GOAL`` activity)."""
UPDATED = Verb("http://activitystrea.ms/schema/1.0/update", "updated")
"""The learner changed a goal (target, deadline, measure): the Activity Streams 1.0 "update"
verb, which xAPI registries list for exactly this, so no verb of our own is needed."""
MISSED_GOAL = Verb(CX_BASE + "verbs/missed-goal", "missed goal")
"""The goal's deadline passed before its target was reached. Not ADL "failed": dashboards
read "failed" as a failed assessment, and a missed personal goal is not a test result."""
ABANDONED_GOAL = Verb(CX_BASE + "verbs/abandoned-goal", "abandoned goal")
"""The learner gave a goal up before its deadline. Not cmi5 "abandoned", which means a
session ended abnormally (cmi5 9.3.8)."""
LOGGED = Verb(CX_BASE + "verbs/logged", "logged")
"""The learner recorded practice done outside the courses (object: a ``PRACTICE`` activity
naming the kind). Not "completed" or "experienced": the tool did not witness it, and
"completed" would inflate course-completion reports."""
CHECKED_IN = Verb(CX_BASE + "verbs/checked-in", "checked in on")
"""The learner reflected on a goal at a check-in (object: the ``GOAL``). Not "commented":
the reflection's text stays in the tool and never travels in the statement."""
CHOSE = Verb(CX_BASE + "verbs/chose", "chose")
"""The learner picked a branch at a role-play decision point; unlike "answered" there is
no right answer, the choice steers the scenario."""
MENTORED = Verb(CX_BASE + "verbs/mentored", "mentored")
"""A mentor (the actor) gave feedback in a mentoring session (object: ``MENTORING_SESSION``)."""

ADL_VERBS: tuple[Verb, ...] = (
    LAUNCHED,
    INITIALIZED,
    EXPERIENCED,
    ANSWERED,
    ATTEMPTED,
    COMPLETED,
    PASSED,
    FAILED,
    PROGRESSED,
    TERMINATED,
    RESPONDED,
)
OTHER_VERBS: tuple[Verb, ...] = (UPDATED,)
"""Verbs from other established vocabularies (Activity Streams)."""
CX_VERBS: tuple[Verb, ...] = (
    SET_GOAL,
    ACHIEVED_GOAL,
    MISSED_GOAL,
    ABANDONED_GOAL,
    LOGGED,
    CHECKED_IN,
    CHOSE,
    MENTORED,
)

# Activity types: ADL first.
COURSE = "http://adlnet.gov/expapi/activities/course"
MODULE = "http://adlnet.gov/expapi/activities/module"
LESSON = "http://adlnet.gov/expapi/activities/lesson"
ASSESSMENT = "http://adlnet.gov/expapi/activities/assessment"
QUESTION = "http://adlnet.gov/expapi/activities/question"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
"""Type for activities carrying interaction details (xAPI 1.0.3 Part Two, 2.4.4.1:
Interaction Activities SHOULD have this type)."""
SIMULATION = "http://adlnet.gov/expapi/activities/simulation"
"""A role-play scenario as a whole."""
PROFILE = "http://adlnet.gov/expapi/activities/profile"
"""Type of the category activity naming the profile a statement follows (xAPI Profiles)."""
LINK = "http://adlnet.gov/expapi/activities/link"
"""A link followed from elsewhere: the LMS placement a learner launched from."""
SURVEY = "http://id.tincanapi.com/activitytype/survey"
"""A questionnaire without right answers (the self-assessment), from the Tin Can
registry, so dashboards do not read it as a graded assessment."""

# Our own activity types.
GOAL = CX_BASE + "activity-types/goal"
"""A personal, learner-set goal (e.g. "resolve five complaints this week"); ADL's
"objective" is an author-set learning objective, which a goal is not."""
DECISION_POINT = CX_BASE + "activity-types/decision-point"
"""One branching step inside a role-play scenario, the object of ``CHOSE``."""
MENTORING_SESSION = CX_BASE + "activity-types/mentoring-session"
"""A feedback conversation between a mentor and a learner."""
AUDIENCE = CX_BASE + "activity-types/audience"
"""Type of a category activity saying who acted in which capacity (see ``STAFF``)."""

LEARNER_GOALS = CX_BASE + "activity-types/learner-goals"
"""All the personal goals of one learner: the grouping activity of every goal statement, so
a dashboard can gather a learner's goals, or everyone's, with one filter."""
PRACTICE = CX_BASE + "activity-types/practice"
"""A kind of practice done outside the courses (mentoring given, a knowledge-base article,
a workshop, ...), the object of ``LOGGED``; one activity per kind, so reports count by kind."""

CX_ACTIVITY_TYPES: tuple[str, ...] = (
    GOAL,
    DECISION_POINT,
    MENTORING_SESSION,
    AUDIENCE,
    LEARNER_GOALS,
    PRACTICE,
)

STAFF = CX_BASE + "audiences/staff"
"""Category activity on every statement from a launch with a staff role (instructor,
teaching assistant, content developer, administrator), so a dashboard can leave
instructors' previews out of learner counts with one filter."""

# Extensions.
CONTENT_VERSION = CX_BASE + "extensions/content-version"
"""Context extension: version string of the course content the learner saw, so scores
from different editions of a course are not compared blindly."""
LTI_CONTEXT_ID = CX_BASE + "extensions/lti-context-id"
"""Context extension: the LTI context (course) id the launch came from (LTI 1.3 5.4.1)."""
LTI_RESOURCE_LINK_ID = CX_BASE + "extensions/lti-resource-link-id"
"""Context extension: the LTI resource link id of the launch (LTI 1.3 5.3.5)."""
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
"""Context extension from cmi5: ties the statements of one launch session together."""
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
"""Result extension from cmi5: integer percentage 0..100, used with ``PROGRESSED``."""

SKILL_SCORES = CX_BASE + "extensions/skill-scores"
"""Result extension: points per skill for a role-play, ``{skill_id: {"raw": n, "max": m}}``,
so an LRS can chart a learner's strengths and gaps, not only the total."""

LTI_ROLES = CX_BASE + "extensions/lti-roles"
"""Context extension: the LIS role URIs of the launch (LTI 1.3 5.3.7), as the platform sent
them, so reports can tell learners from staff without our ``STAFF`` category."""
ATTEMPT_ID = CX_BASE + "extensions/attempt-id"
"""Context extension: the UUID of one quiz attempt or one self-assessment submission.
context.registration names the enrolment (cmi5 meaning), so attempts go here."""
RUN_ID = CX_BASE + "extensions/run-id"
"""Context extension: the UUID of one play-through of a role-play scenario."""

GOAL_METRIC = CX_BASE + "extensions/goal-metric"
"""Context extension: how the goal is measured, ``{"key": metric key, "params": {...}}`` from
the content's metric catalogue (never the learner's own words)."""
GOAL_DUE = CX_BASE + "extensions/goal-due"
"""Context extension: the goal's deadline, an RFC 3339 timestamp."""
PRACTICE_DATE = CX_BASE + "extensions/practice-date"
"""Context extension: the day (ISO 8601 date) the logged practice happened; the statement's
timestamp is when it was logged."""
GOAL_PROGRESS = CX_BASE + "extensions/goal-progress"
"""Result extension: how much of the goal's measure is counted so far, in its unit."""
GOAL_TARGET = CX_BASE + "extensions/goal-target"
"""Result extension: the goal's target, in the same unit as ``GOAL_PROGRESS``."""
GOAL_MILESTONE = CX_BASE + "extensions/goal-milestone"
"""Result extension: the milestone (0.5 or 1.0 of the target) this progress crossed."""
CONFIDENCE = CX_BASE + "extensions/confidence"
"""Result extension: the learner's confidence at a check-in, 1 (low) to 5 (high)."""
SKILL_RATINGS = CX_BASE + "extensions/skill-ratings"
"""Result extension: the self-assessment's average rating per skill, ``{skill_id: 3.5}``."""

CX_CONTEXT_EXTENSIONS: tuple[str, ...] = (
    CONTENT_VERSION,
    LTI_CONTEXT_ID,
    LTI_RESOURCE_LINK_ID,
    LTI_ROLES,
    ATTEMPT_ID,
    RUN_ID,
    GOAL_METRIC,
    GOAL_DUE,
    PRACTICE_DATE,
)
CX_RESULT_EXTENSIONS: tuple[str, ...] = (
    SKILL_SCORES,
    GOAL_PROGRESS,
    GOAL_TARGET,
    GOAL_MILESTONE,
    CONFIDENCE,
    SKILL_RATINGS,
)

# Our profile (xAPI Profiles 1.0). Statements name the *version* IRI in
# context.contextActivities.category, as the Profiles spec asks of conforming statements.
PROFILE_IRI = CX_BASE + "profile"
PROFILE_VERSION_IRI = CX_BASE + "profile/v1.0"


def activity_iri(base_url: str, *segments: str) -> str:
    """Build an activity id under ``base_url`` from path segments, each percent-encoded.

    xAPI 1.0.3 Part Two, 2.2 asks providers to build IRIs with a library rather than by
    concatenation; quoting keeps slugs with spaces or slashes from making invalid IRIs.
    """
    if not segments:
        raise ValueError("activity_iri needs at least one segment")
    return base_url.rstrip("/") + "/" + "/".join(quote(s, safe="") for s in segments)
