"""The submission review page: one learner's work on one placed quiz or role-play, opened by
the platform's LtiSubmissionReviewRequest (lti_tool.lti.submission_review).

What is shown is bounded twice: the launch's placement (deployment, context, resource link)
picks the attempts, so a learner of another course is never shown whatever ``for_user``
says; and only staff of that context, or the learner themself, may open it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from content.activities import QUIZ, SCENARIO, Activity
from content.schema import EndingNode
from content.scoring import score_quiz, score_scenario_path
from lti_tool.errors import ForbiddenError
from lti_tool.grading import counted_attempt, scenario_score
from lti_tool.lti.submission_review import MESSAGE_TYPE, ReviewRequest, may_review
from lti_tool.store.learning import (
    AttemptStatus,
    LearnerKey,
    RunStatus,
    list_attempts,
    list_runs,
    placement_of,
)
from lti_tool.store.models import Launch
from lti_tool.web.db import db
from lti_tool.web.instructor.content_picker import bp
from lti_tool.web.learner import catalog, open_visit
from lti_tool.web.learning_errors import PageNotFoundError
from lti_tool.web.placement import placed_activity
from lti_tool.web.question_form import build_views
from lti_tool.web.quiz import quiz_rules
from lti_tool.web.scenario import run_rules, walk

#: The kinds whose attempts a review can show (a course or lesson has no attempt of its own).
REVIEWABLE_KINDS = frozenset({QUIZ, SCENARIO})


def require_review_access(roles: Sequence[str], sub: str, claims: Mapping[str, Any]) -> None:
    """ForbiddenError unless the launching user may see the named learner's work."""
    request = ReviewRequest.from_claims(claims)
    if not may_review(roles, sub, request.for_user.user_id):
        raise ForbiddenError(
            _("Only the learner and the course's instructors can review this submission.")
        )


@dataclass(frozen=True)
class Review:
    """The review launch behind the page, and whose work in which placement it shows."""

    launch: Launch
    request: ReviewRequest
    learner: LearnerKey
    activity: Activity


def _require_review(token: str) -> Review:
    launch = open_visit(token).launch
    if launch.message_type != MESSAGE_TYPE:
        raise ForbiddenError(_("Submission reviews open from your LMS gradebook."))
    # Checked again on every view, not only at launch: the page answers from the stored
    # launch alone.
    require_review_access(launch.roles, launch.sub, launch.claims)
    request = ReviewRequest.from_claims(launch.claims)
    placed = placed_activity(launch.claims)
    if placed is None or placed[0].kind not in REVIEWABLE_KINDS:
        raise PageNotFoundError(_("This link places nothing CX Academy can show a review of."))
    return Review(
        launch=launch,
        request=request,
        learner=LearnerKey(platform_id=launch.platform_id, sub=request.for_user.user_id),
        activity=placed[0],
    )


def _nothing_yet() -> PageNotFoundError:
    return PageNotFoundError(
        _("This learner has handed in nothing for this link of this course yet.")
    )


@bp.get("/s/<token>/review")
def review_page(token: str) -> str:
    review = _require_review(token)
    activity = review.activity
    course = catalog().get_course(activity.course_id or "")
    if course is None:
        raise PageNotFoundError(_("This link places nothing CX Academy can show a review of."))
    # The placement of the review launch: the same link of the same course only.
    placement = placement_of(review.launch)
    learner_name = review.request.for_user.name or review.request.for_user.user_id
    if activity.kind == QUIZ:
        if course.quiz is None:
            raise _nothing_yet()
        rules = quiz_rules(review.launch, course, course.quiz)
        attempts = [
            a
            for a in list_attempts(db(), review.learner, course.quiz.id, placement=placement)
            if a.status == AttemptStatus.SUBMITTED
        ]
        if not attempts:
            raise _nothing_yet()
        shown = []
        for attempt in attempts:
            questions = [catalog().require_question(q) for q in attempt.question_ids]
            score = score_quiz(rules.quiz, questions, attempt.responses)
            shown.append(
                {
                    "attempt": attempt,
                    "views": build_views(questions, attempt.id.hex, attempt.responses),
                    "scores": {s.question_id: s for s in score.questions},
                }
            )
        return render_template(
            "instructor/submission_review.html",
            activity=activity,
            learner_name=learner_name,
            quiz=rules.quiz,
            attempts=shown,
            counted=counted_attempt(attempts, rules.counts),
        )
    scenario = catalog().require_scenario(activity.slug)
    run_rule = run_rules(review.launch, scenario)
    runs = [
        r
        for r in list_runs(db(), review.learner, scenario.id, placement=placement)
        if r.status == RunStatus.FINISHED
    ]
    if not runs:
        raise _nothing_yet()
    shown_runs = []
    for run in runs:
        turns, node = walk(scenario, run.choices)
        given, maximum = scenario_score(run.skill_scores or {})
        shown_runs.append(
            {
                "run": run,
                "turns": turns,
                "ending": node if isinstance(node, EndingNode) else None,
                "result": score_scenario_path(scenario, run.choices),
                "percent": round(given / maximum * 100) if maximum else 0,
                "passed": run_rule.passed(run.skill_scores or {}),
            }
        )
    return render_template(
        "instructor/submission_review.html",
        activity=activity,
        learner_name=learner_name,
        scenario=scenario,
        runs=shown_runs,
        skills={s.id: s for s in catalog().list_skills()},
    )
