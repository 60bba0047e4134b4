"""Course, module and lesson pages, with each lesson's practice knowledge check."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from content.errors import ResponseError
from content.schema import Course, Lesson, Module
from content.scoring import score_question
from lti_tool.recording import (
    knowledge_check_answered_event,
    lesson_experienced_event,
    record_event,
)
from lti_tool.store.knowledge_check import record_knowledge_check
from lti_tool.store.learning import record_lesson_view
from lti_tool.store.models import utcnow
from lti_tool.web.db import commit, db
from lti_tool.web.learner import (
    Visit,
    catalog,
    module_of_lesson,
    open_visit,
    require_course,
    require_form,
)
from lti_tool.web.learning_errors import BadFormError, PageNotFoundError
from lti_tool.web.markup import render_lesson
from lti_tool.web.progress import course_progress, record_completion_if_done
from lti_tool.web.question_form import build_views, parse_answers

bp = Blueprint("course", __name__)


@bp.get("/s/<token>/courses/<course_id>/")
def course_page(token: str, course_id: str) -> str:
    visit = open_visit(token)
    course = require_course(course_id)
    return render_template(
        "course.html",
        course=course,
        catalog=catalog(),
        progress=course_progress(db(), visit.learner, course),
    )


@bp.get("/s/<token>/courses/<course_id>/modules/<module_id>")
def module_page(token: str, course_id: str, module_id: str) -> str:
    visit = open_visit(token)
    course = require_course(course_id)
    module = next((m for m in course.modules if m.id == module_id), None)
    if module is None:
        raise PageNotFoundError(_("This course has no such module."))
    return render_template(
        "module.html",
        course=course,
        module=module,
        catalog=catalog(),
        progress=course_progress(db(), visit.learner, course),
    )


def _require_lesson(course: Course, lesson_id: str) -> tuple[Module, Lesson]:
    module = module_of_lesson(course, lesson_id)
    lesson = catalog().get_lesson(lesson_id)
    if module is None or lesson is None:
        raise PageNotFoundError(_("This course has no such lesson."))
    return module, lesson


def _neighbours(course: Course, lesson_id: str) -> tuple[Lesson | None, Lesson | None]:
    order = catalog().list_course_lessons(course.id)
    index = next(i for i, lesson in enumerate(order) if lesson.id == lesson_id)
    previous = order[index - 1] if index > 0 else None
    following = order[index + 1] if index + 1 < len(order) else None
    return previous, following


def _lesson_page(
    visit: Visit,
    course: Course,
    module: Module,
    lesson: Lesson,
    *,
    check: dict[str, object] | None = None,
    status: int = 200,
) -> tuple[str, int]:
    previous, following = _neighbours(course, lesson.id)
    questions = catalog().list_knowledge_check(lesson.id)
    responses = check["responses"] if check else {}
    return (
        render_template(
            "lesson.html",
            course=course,
            module=module,
            lesson=lesson,
            body=render_lesson(lesson.id, lesson.body),
            previous=previous,
            following=following,
            questions=build_views(questions, lesson.id, responses),  # type: ignore[arg-type]
            check=check,
        ),
        status,
    )


@bp.get("/s/<token>/courses/<course_id>/lessons/<lesson_id>")
def lesson_page(token: str, course_id: str, lesson_id: str) -> tuple[str, int]:
    visit = open_visit(token)
    course = require_course(course_id)
    module, lesson = _require_lesson(course, lesson_id)
    session = db()
    now = utcnow()
    # Opening the lesson is the "experienced" event: a lesson is a page to read, and the
    # statement id (launch + lesson) keeps reloads from counting twice.
    record_lesson_view(
        session,
        visit.learner,
        course_id=course.id,
        lesson_id=lesson.id,
        content_version=lesson.content_version,
        now=now,
    )
    record_event(
        session,
        lesson_experienced_event(visit.launch, course, module, lesson, now),
        owner=visit.learner,
    )
    record_completion_if_done(session, visit.launch, course, now)
    page = _lesson_page(visit, course, module, lesson)
    commit()
    return page


@bp.post("/s/<token>/courses/<course_id>/lessons/<lesson_id>/check")
def knowledge_check(token: str, course_id: str, lesson_id: str) -> tuple[str, int]:
    visit = open_visit(token)
    course = require_course(course_id)
    module, lesson = _require_lesson(course, lesson_id)
    # "submission" came from pages rendered before this release; it is accepted so an open
    # page still works, and ignored: statement ids come from the server's own record.
    form = require_form(token, allowed=("submission",))
    questions = catalog().list_knowledge_check(lesson.id)
    parsed = parse_answers(form, questions, lesson.id)
    if parsed.problems or not parsed.responses:
        check = {"responses": parsed.responses, "problems": parsed.problems, "scores": {}}
        if not parsed.responses and not parsed.problems:
            check["empty"] = True
        return _lesson_page(visit, course, module, lesson, check=check, status=400)
    scores = {}
    for question in questions:
        response = parsed.responses.get(question.id)
        if response is None:
            continue
        try:
            scores[question.id] = score_question(question, response)
        except ResponseError as err:
            raise BadFormError(_("The answers did not fit the questions.")) from err
    session = db()
    now = utcnow()
    # Every accepted form is a new answer with a server-made id: a replayed or forged form
    # field can never make it look like an answer already recorded (issue 7, item 5).
    submission = record_knowledge_check(
        session,
        visit.launch,
        course_id=course.id,
        lesson_id=lesson.id,
        content_version=lesson.content_version,
        responses=parsed.responses,
        now=now,
    )
    for question in questions:
        if question.id not in scores:
            continue
        record_event(
            session,
            knowledge_check_answered_event(
                visit.launch,
                course,
                lesson,
                question,
                parsed.responses[question.id],
                scores[question.id],
                submission.id,
                now,
            ),
            owner=visit.learner,
        )
    # Answering the last knowledge check can be what completes the course (issue 11).
    record_completion_if_done(session, visit.launch, course, now)
    page = _lesson_page(
        visit,
        course,
        module,
        lesson,
        check={"responses": parsed.responses, "problems": {}, "scores": scores},
    )
    commit()
    return page
