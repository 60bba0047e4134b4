"""Gradebook rules: which learner events publish a score to the LMS (LTI AGS), to which
line item, and which attempt's score counts.

Views call ``publish_*`` inside the learner's transaction; a row lands in the grade outbox
(lti_tool.store.grades) with the learner's change, or not at all. Nothing here speaks HTTP.

What publishes (docs/decisions/0008-grade-sync.md):

- A link placed for one activity (Deep Linking custom parameter ``cxa_activity``) takes
  the scores of that activity only, unless the instructor placed it ungraded
  (``cxa_graded=false``). A course placement is graded by its final quiz.
- A plain link to the tool (no placed activity) takes quiz scores only: role-plays are
  practice and course completion is not a mark unless an instructor places them graded.
- The score goes to the link's own line item (the ``lineitem`` claim); with only the
  container and the ``lineitem`` scope, the worker finds or creates one per activity by
  ``resourceId`` and resource link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from content.activities import activity_id as placeable_id
from content.placement import ACTIVITY_PARAM, BEST, COUNTS_PARAM, GRADED_PARAM, LAST
from content.schema import Course, Quiz, Scenario
from lti_tool.lti.grades import AgsEndpoint
from lti_tool.lti.roles import LEARNER
from lti_tool.store.grades import GradeEntry, GradeRow, add_grade
from lti_tool.store.learning import AttemptStatus, RunStatus
from lti_tool.store.models import Launch

CUSTOM_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/custom"

# AGS 2.0 section 3.4.1 progress values.
SUBMITTED = "Submitted"
COMPLETED = "Completed"
IN_PROGRESS = "InProgress"
FULLY_GRADED = "FullyGraded"


def activity_id(item: Course | Quiz | Scenario) -> str:
    """Our id of a placeable activity (``<kind>:<slug>``), the line item's resourceId."""
    return placeable_id(item.kind, item.id)


@dataclass(frozen=True)
class Placement:
    """What the link says about itself through its custom parameters."""

    activity_id: str | None = None
    graded: bool = True
    counts: str = BEST

    @classmethod
    def of(cls, claims: Mapping[str, Any]) -> Placement:
        custom = claims.get(CUSTOM_CLAIM)
        if not isinstance(custom, Mapping):
            return cls()
        activity = custom.get(ACTIVITY_PARAM)
        graded = str(custom.get(GRADED_PARAM, "true")).strip().lower()
        counts = str(custom.get(COUNTS_PARAM, BEST)).strip().lower()
        return cls(
            activity_id=activity if isinstance(activity, str) and activity else None,
            graded=graded not in ("false", "0", "no"),
            counts=counts if counts in (BEST, LAST) else BEST,
        )


def counted_attempt(attempts: Sequence[Any], counts: str = BEST) -> Any | None:
    """The submitted attempt whose score counts: the best (the earliest of equals), or the
    last one submitted. None before any attempt is submitted.

    The quiz page shows this same attempt, so learner and gradebook never disagree.
    """
    scored = [
        a for a in attempts if a.status == AttemptStatus.SUBMITTED and a.score_scaled is not None
    ]
    if not scored:
        return None
    if counts == LAST:
        return max(scored, key=lambda a: a.number)
    return max(scored, key=lambda a: (a.score_scaled, -a.number))


# Sub-roles of Learner hang off the role with a slash (LTI 1.3 appendix A.2.3.1).
_LEARNER_SUBROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#"


def _is_learner(roles: Sequence[str]) -> bool:
    # Gradebooks hold learners' results: an instructor trying a quiz is not graded (Moodle
    # refuses a score for a user who is not gradable in the course).
    return any(role in (LEARNER, "Learner") or role.startswith(_LEARNER_SUBROLE) for role in roles)


def _target(
    launch: Launch, graded_ids: Sequence[str], plain_link_ok: bool
) -> tuple[AgsEndpoint, Placement, str] | None:
    """Where an event about ``graded_ids`` publishes from this launch: the endpoint, the
    placement and the resourceId; None when it does not publish at all."""
    endpoint = AgsEndpoint.from_claims(launch.claims)
    if endpoint is None or not endpoint.can_score or not _is_learner(launch.roles):
        return None
    if endpoint.lineitem is None and not endpoint.can_read_lineitems:
        return None
    placement = Placement.of(launch.claims)
    if placement.activity_id is not None:
        if placement.activity_id not in graded_ids or not placement.graded:
            return None
        return endpoint, placement, placement.activity_id
    if not plain_link_ok:
        return None
    return endpoint, placement, graded_ids[0]


def _entry(
    launch: Launch,
    endpoint: AgsEndpoint,
    *,
    source_id: str,
    resource_id: str,
    label: str,
    given: float,
    maximum: float,
    activity_progress: str,
    comment: str,
    at: datetime,
) -> GradeEntry:
    return GradeEntry(
        source_id=source_id,
        platform_id=launch.platform_id,
        deployment_id=launch.deployment_id,
        sub=launch.sub,
        context_id=launch.context_id,
        resource_link_id=launch.resource_link_id,
        lineitem_url=endpoint.lineitem,
        lineitems_url=endpoint.lineitems,
        scopes=tuple(sorted(endpoint.scopes)),
        resource_id=resource_id,
        label=label,
        score_given=round(given, 4),
        score_maximum=maximum,
        activity_progress=activity_progress,
        grading_progress=FULLY_GRADED,
        comment=comment,
        event_at=at,
    )


def _count(n: int, noun: str) -> str:
    """ "1 attempt", "2 attempts". Gradebook comments are written in English for the LMS,
    outside any learner's locale, so English plural rules are the ones that apply."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _percent(scaled: float) -> str:
    return f"{round(scaled * 100)}%"


def publish_quiz_grade(
    session: Session,
    launch: Launch,
    course: Course,
    quiz: Quiz,
    attempts: Sequence[Any],
    *,
    source_id: str,
    course_completed: bool,
    at: datetime,
) -> GradeRow | None:
    """After an attempt is submitted: queue the quiz's counted score, if this link grades
    it (the quiz itself, its course, or a plain link)."""
    target = _target(launch, [activity_id(quiz), activity_id(course)], plain_link_ok=True)
    if target is None:
        return None
    endpoint, placement, resource_id = target
    counted = counted_attempt(attempts, placement.counts)
    if counted is None:
        return None
    submitted = [a for a in attempts if a.status == AttemptStatus.SUBMITTED]
    if resource_id == activity_id(course):
        progress = COMPLETED if course_completed else IN_PROGRESS
        label = course.title
    else:
        done = any(a.passed for a in submitted) or len(submitted) >= quiz.attempts
        progress = COMPLETED if done else SUBMITTED
        label = quiz.title
    which = "Best" if placement.counts == BEST else "Last"
    comment = (
        f"{quiz.title}: {which} of {_count(len(submitted), 'attempt')}, attempt {counted.number}: "
        f"{_percent(counted.score_scaled)}, {'passed' if counted.passed else 'not passed'}."
    )
    return add_grade(
        session,
        _entry(
            launch,
            endpoint,
            source_id=source_id,
            resource_id=resource_id,
            label=label,
            given=float(counted.score_raw or 0.0),
            maximum=float(counted.score_max or 0.0),
            activity_progress=progress,
            comment=comment,
            at=at,
        ),
    )


def publish_course_grade(
    session: Session,
    launch: Launch,
    course: Course,
    attempts: Sequence[Any],
    *,
    at: datetime,
) -> GradeRow | None:
    """When the course is completed: queue its grade, only where the link places the
    course (a plain link is graded by quiz scores alone). Its final quiz's counted score;
    full marks for a course without a quiz, which completing is the whole of."""
    target = _target(launch, [activity_id(course)], plain_link_ok=False)
    if target is None:
        return None
    endpoint, placement, resource_id = target
    counted = counted_attempt(attempts, placement.counts) if course.quiz else None
    if course.quiz is not None and counted is None:
        return None
    given = float(counted.score_raw or 0.0) if counted else 1.0
    maximum = float(counted.score_max or 0.0) if counted else 1.0
    comment = f"{course.title}: completed" + (
        f", quiz {_percent(counted.score_scaled)}." if counted else "."
    )
    return add_grade(
        session,
        _entry(
            launch,
            endpoint,
            # Once per learner and link: completion is re-checked on every lesson view.
            source_id=f"course-completed:{launch.platform_id}:{launch.sub}:"
            f"{launch.resource_link_id}:{course.id}",
            resource_id=resource_id,
            label=course.title,
            given=given,
            maximum=maximum,
            activity_progress=COMPLETED,
            comment=comment,
            at=at,
        ),
    )


def scenario_score(skill_scores: Mapping[str, Any]) -> tuple[float, float]:
    """A finished role-play's points over all skills: (given, maximum)."""
    given = sum(float(s.get("raw", 0)) for s in skill_scores.values())
    maximum = sum(float(s.get("max", 0)) for s in skill_scores.values())
    return given, maximum


def publish_scenario_grade(
    session: Session,
    launch: Launch,
    scenario: Scenario,
    runs: Sequence[Any],
    *,
    source_id: str,
    at: datetime,
) -> GradeRow | None:
    """After a role-play is finished: queue its counted score where the link places it
    graded (role-plays are practice on a plain link)."""
    target = _target(launch, [activity_id(scenario)], plain_link_ok=False)
    if target is None:
        return None
    endpoint, placement, resource_id = target
    finished = [r for r in runs if r.status == RunStatus.FINISHED]
    scored = []
    for index, run in enumerate(finished):
        given, maximum = scenario_score(run.skill_scores or {})
        if maximum > 0:
            scored.append((given / maximum, -index, index, given, maximum))
    if not scored:
        return None
    if placement.counts == LAST:
        chosen = max(scored, key=lambda s: s[2])
    else:
        chosen = max(scored, key=lambda s: (s[0], s[1]))
    scaled, _neg, index, given, maximum = chosen
    which = "Best" if placement.counts == BEST else "Last"
    return add_grade(
        session,
        _entry(
            launch,
            endpoint,
            source_id=source_id,
            resource_id=resource_id,
            label=scenario.title,
            given=given,
            maximum=maximum,
            activity_progress=COMPLETED,
            comment=(
                f"{scenario.title}: {which} of {_count(len(finished), 'run')}: {_percent(scaled)}."
            ),
            at=at,
        ),
    )
