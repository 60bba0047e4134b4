"""The quiz engine: start or resume an attempt, save, submit once, review."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from content.errors import ResponseError
from content.placement import LAST
from content.schema import Course, Question, Quiz
from content.scoring import attempts_remaining, draw_quiz_questions, score_quiz
from lti_tool.grading import (
    Placement,
    activity_id,
    counted_attempt,
    publish_quiz_grade,
)
from lti_tool.recording import (
    question_answered_event,
    quiz_attempted_event,
    quiz_result_event,
    record_event,
)
from lti_tool.store.classroom import granted_attempts
from lti_tool.store.learning import (
    AttemptStatus,
    QuizAttempt,
    add_attempt,
    finish_attempt,
    get_attempt,
    get_open_attempt,
    list_attempts,
    placement_of,
    save_responses,
)
from lti_tool.store.models import Launch, utcnow
from lti_tool.web.db import commit, db
from lti_tool.web.learner import Visit, catalog, open_visit, require_course, require_form
from lti_tool.web.learning_errors import (
    AlreadyFinishedError,
    BadFormError,
    NoAttemptsLeftError,
    PageNotFoundError,
)
from lti_tool.web.placement import placed_options
from lti_tool.web.progress import record_completion_if_done
from lti_tool.web.question_form import build_views, parse_answers

bp = Blueprint("quiz", __name__)


def _granted(visit: Visit, quiz: Quiz) -> int:
    """Extra attempts an instructor granted this learner (the class view's action)."""
    return granted_attempts(db(), visit.learner.platform_id, visit.learner.sub, quiz.id)


def _require_quiz(course: Course) -> Quiz:
    if course.quiz is None:
        raise PageNotFoundError(_("This course has no quiz."))
    return course.quiz


@dataclass(frozen=True)
class QuizRules:
    """The rules a quiz runs by in one placement."""

    #: The quiz with the placement's pass mark, attempts allowed and questions drawn.
    quiz: Quiz
    #: Which attempt's score counts ("best" or "last").
    counts: str
    graded: bool
    #: The gradebook column (store.learning.placement_key) attempts count towards.
    placement: str


def quiz_rules(launch: Launch, course: Course, quiz: Quiz) -> QuizRules:
    """The instructor's options where the launch is a placed link of this quiz or its course
    (Deep Linking custom parameters, content.placement), the content's settings otherwise.

    Page, xAPI result and grade all score with the quiz returned here, so the learner, the
    LRS and the gradebook agree on the pass mark.
    """
    options = placed_options(launch.claims, activity_id(quiz), activity_id(course))
    placement = placement_of(launch)
    # Which attempt counts and whether it is graded: read exactly as the grade publisher
    # reads them (lti_tool.grading.Placement), so page and gradebook cannot disagree.
    link = Placement.of(launch.claims)
    if options is None:
        return QuizRules(quiz, link.counts, link.graded, placement)
    # Options were checked against this quiz (content.placement.parse_options), so the
    # copy skips pydantic's validation safely.
    effective = quiz.model_copy(
        update={
            "pass_mark": options.pass_mark,
            "attempts": options.attempts,
            "draw": options.draw if options.draw is not None else quiz.draw,
        }
    )
    return QuizRules(effective, link.counts, link.graded, placement)


@bp.get("/s/<token>/courses/<course_id>/quiz")
def intro(token: str, course_id: str) -> str:
    visit = open_visit(token)
    course = require_course(course_id)
    rules = quiz_rules(visit.launch, course, _require_quiz(course))
    quiz = rules.quiz
    attempts = list_attempts(db(), visit.learner, quiz.id, placement=rules.placement)
    finished = [a for a in attempts if a.status == AttemptStatus.SUBMITTED]
    return render_template(
        "quiz_intro.html",
        # The same rule the gradebook gets (lti_tool.grading), so the two never disagree.
        counted=counted_attempt(finished, rules.counts),
        counts_last=rules.counts == LAST,
        graded=rules.graded,
        course=course,
        quiz=quiz,
        attempts=finished,
        open_attempt=next((a for a in attempts if a.status == AttemptStatus.IN_PROGRESS), None),
        remaining=attempts_remaining(quiz, len(attempts) - _granted(visit, quiz)),
        passed=any(a.passed for a in attempts),
    )


@bp.post("/s/<token>/courses/<course_id>/quiz/attempts")
def start(token: str, course_id: str) -> Response:
    visit = open_visit(token)
    course = require_course(course_id)
    rules = quiz_rules(visit.launch, course, _require_quiz(course))
    quiz = rules.quiz
    require_form(token)
    session = db()
    # Resuming beats starting: a learner who clicks "start" twice, or comes back in a new
    # launch of the same link, continues the attempt they have instead of spending another.
    attempt = get_open_attempt(session, visit.learner, quiz.id, placement=rules.placement)
    if attempt is None:
        used = len(list_attempts(session, visit.learner, quiz.id, placement=rules.placement))
        if attempts_remaining(quiz, used - _granted(visit, quiz)) == 0:
            raise NoAttemptsLeftError(
                _("You have used all %(n)d attempts at this quiz.", n=quiz.attempts)
            )
        attempt_id = uuid.uuid4()
        questions = draw_quiz_questions(quiz, catalog().list_quiz_pool(quiz.id), attempt_id.hex)
        now = utcnow()
        try:
            attempt = add_attempt(
                session,
                visit.learner,
                launch_id=visit.launch.id,
                placement=rules.placement,
                course_id=course.id,
                quiz_id=quiz.id,
                content_version=quiz.content_version,
                number=used + 1,
                attempt_id=attempt_id,
                question_ids=[q.id for q in questions],
                now=now,
            )
        except IntegrityError as err:
            # Another request started attempt number used + 1 a moment ago.
            session.rollback()
            raise AlreadyFinishedError(
                _("An attempt was just started in another tab. Reload the quiz page.")
            ) from err
        record_event(
            session,
            quiz_attempted_event(visit.launch, course, quiz, attempt.id, now),
            owner=visit.learner,
        )
        commit()
    return redirect(url_for("quiz.attempt_page", attempt_id=attempt.id, _anchor="result"), code=303)


def _require_attempt(
    visit: Visit, attempt_id: uuid.UUID
) -> tuple[Course, QuizRules, Launch, QuizAttempt]:
    """The learner's attempt, with the rules and launch of the placement it was started in:
    an attempt is scored, and its grade sent, by the link it belongs to, whichever launch
    the learner submits it from."""
    session = db()
    attempt = get_attempt(session, visit.learner, attempt_id)
    if attempt is None:
        raise PageNotFoundError(_("There is no quiz attempt of yours at this address."))
    course = require_course(attempt.course_id)
    launch = session.get(Launch, attempt.launch_id) or visit.launch
    return course, quiz_rules(launch, course, _require_quiz(course)), launch, attempt


def _questions(attempt: QuizAttempt) -> list[Question]:
    return [catalog().require_question(qid) for qid in attempt.question_ids]


def _attempt_form(
    course: Course,
    quiz: Quiz,
    attempt: QuizAttempt,
    responses: Mapping[str, Any],
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    questions = _questions(attempt)
    return (
        render_template(
            "quiz_attempt.html",
            course=course,
            quiz=quiz,
            attempt=attempt,
            questions=build_views(questions, attempt.id.hex, responses),
            problems=problems or {},
            saved=request.args.get("saved") == "1",
        ),
        status,
    )


@bp.get("/s/<token>/attempts/<uuid:attempt_id>")
def attempt_page(token: str, attempt_id: uuid.UUID) -> tuple[str, int]:
    visit = open_visit(token)
    course, rules, _launch, attempt = _require_attempt(visit, attempt_id)
    quiz = rules.quiz
    if attempt.status == AttemptStatus.IN_PROGRESS:
        return _attempt_form(course, quiz, attempt, attempt.responses)
    questions = _questions(attempt)
    score = score_quiz(quiz, questions, attempt.responses)
    used = len(list_attempts(db(), visit.learner, quiz.id, placement=attempt.placement))
    return (
        render_template(
            "quiz_review.html",
            course=course,
            quiz=quiz,
            attempt=attempt,
            questions=build_views(questions, attempt.id.hex, attempt.responses),
            scores={s.question_id: s for s in score.questions},
            score=score,
            remaining=attempts_remaining(quiz, used - _granted(visit, quiz)),
        ),
        200,
    )


@bp.post("/s/<token>/attempts/<uuid:attempt_id>")
def answer(token: str, attempt_id: uuid.UUID) -> Response | tuple[str, int]:
    visit = open_visit(token)
    course, rules, launch, attempt = _require_attempt(visit, attempt_id)
    quiz = rules.quiz
    form = require_form(token, allowed=("action",))
    action = form.get("action", "submit")
    if action not in ("save", "submit"):
        raise BadFormError(_("The form asked for something our quiz does not do."))
    if attempt.status != AttemptStatus.IN_PROGRESS:
        raise AlreadyFinishedError(
            _("This attempt was already submitted; your recorded score stands.")
        )
    questions = _questions(attempt)
    parsed = parse_answers(form, questions, attempt.id.hex)
    if parsed.problems:
        return _attempt_form(course, quiz, attempt, parsed.responses, parsed.problems, 400)
    session = db()
    if action == "save":
        if not save_responses(session, attempt, dict(parsed.responses)):
            raise AlreadyFinishedError(_("This attempt was submitted in the meantime."))
        commit()
        return redirect(
            url_for("quiz.attempt_page", attempt_id=attempt.id, saved=1, _anchor="feedback"),
            code=303,
        )
    try:
        score = score_quiz(quiz, questions, parsed.responses)
    except ResponseError as err:
        raise BadFormError(_("The answers did not fit the questions.")) from err
    now = utcnow()
    if not finish_attempt(
        session,
        attempt,
        responses=dict(parsed.responses),
        raw=score.raw,
        maximum=score.max,
        scaled=score.scaled,
        passed=score.passed,
        now=now,
    ):
        session.rollback()
        raise AlreadyFinishedError(
            _("This attempt was already submitted; your recorded score stands.")
        )
    for question, question_score in zip(questions, score.questions, strict=True):
        response = parsed.responses.get(question.id)
        if response is None:
            continue
        record_event(
            session,
            question_answered_event(
                visit.launch, course, quiz, question, response, question_score, attempt.id, now
            ),
            owner=visit.learner,
        )
    # Clamped: a clock step backwards must not make a negative xAPI duration.
    duration = max(now - attempt.started_at, timedelta(0))
    record_event(
        session,
        quiz_result_event(visit.launch, course, quiz, score, attempt.id, duration, now),
        owner=visit.learner,
    )
    completed = score.passed and record_completion_if_done(session, launch, course, now)
    publish_quiz_grade(
        session,
        launch,
        course,
        quiz,
        list_attempts(session, visit.learner, quiz.id, placement=attempt.placement),
        source_id=f"quiz-attempt:{attempt.id}",
        course_completed=completed,
        at=now,
    )
    commit()
    return redirect(url_for("quiz.attempt_page", attempt_id=attempt.id, _anchor="result"), code=303)
