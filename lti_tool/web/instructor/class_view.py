"""The class view: an instructor's picture of their LMS course (roster, progress, scores,
grade sync), item analysis per quiz, CSV export, and the actions on learners' records.

Only instructor-type roles reach it, and only for the course of their own launch: the
course key comes from the server's launch row, never from the request, so nothing an
instructor types reaches another course.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.errors import ForbiddenError, KeyStoreError
from lti_tool.instructor_events import attempt_reset_event
from lti_tool.lti.roles import is_instructor_type
from lti_tool.lti.roster import (
    NrpsEndpoint,
    RosterClient,
    RosterError,
)
from lti_tool.lti.service_token import CachedServiceConnector, TimeoutSession
from lti_tool.lti.tool_conf import DbToolConf
from lti_tool.recording import record_event
from lti_tool.store import classroom, roster
from lti_tool.store.classroom import ActionKind, CourseKey
from lti_tool.store.grades import add_grade, resend_entry
from lti_tool.store.keys import require_signing_key
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Launch, Platform, utcnow
from lti_tool.store.roster import MemberRecord
from lti_tool.web.db import commit, db, services
from lti_tool.web.instructor.class_report import analyse_quiz, build_class, class_csv
from lti_tool.web.instructor.content_picker import bp
from lti_tool.web.learner import catalog, open_visit, require_form
from lti_tool.web.learning_errors import BadFormError, PageNotFoundError

log = logging.getLogger(__name__)

__all__ = ["bp"]

#: A stored roster older than this is read again when an instructor opens the view.
ROSTER_MAX_AGE = timedelta(minutes=10)
#: After a failed refresh, the stored roster is shown for this long before trying again, so
#: a down LMS does not slow every page view by its timeout.
ROSTER_RETRY_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Classroom:
    launch: Launch
    course: CourseKey


def _require_classroom(token: str) -> Classroom:
    launch = open_visit(token).launch
    if not is_instructor_type(launch.roles):
        raise ForbiddenError(_("Only instructors and teaching assistants can see the class."))
    course = CourseKey.of(launch)
    if course is None:
        raise PageNotFoundError(
            _("Your LMS launched CX Academy outside a course, so there is no class to show.")
        )
    return Classroom(launch, course)


def roster_client_for(session: Session, platform: Platform) -> RosterClient:
    """The NRPS client for a registration, with the same token cache and URL rule as AGS."""
    settings = services().settings
    key = require_signing_key(session, settings.key_encryption_secret)
    registration = DbToolConf(session, key).find_registration_by_params(
        platform.issuer, platform.client_id
    )
    http = TimeoutSession()
    connector = CachedServiceConnector(registration, services().state, http)
    return RosterClient(
        http,
        connector.get_token,
        owners=(platform.auth_token_url, platform.issuer),
        allowed_hosts=settings.service_allowed_hosts,
    )


def refresh_roster(session: Session, room: Classroom) -> str | None:
    """Read the course's membership again when the stored one is stale; a notice for the
    page when the LMS could not be read (the stored roster stays)."""
    endpoint = NrpsEndpoint.from_claims(room.launch.claims)
    fetch = roster.get_fetch(session, room.course.platform_id, room.course.context_id)
    now = utcnow()
    if endpoint is None:
        return None
    if fetch is not None:
        fresh = fetch.fetched_at is not None and now - fetch.fetched_at < ROSTER_MAX_AGE
        if fresh or (fetch.last_error and now - fetch.attempted_at < ROSTER_RETRY_AFTER):
            return _notice(fetch.last_error) if fetch.last_error and not fresh else None
    try:
        client = roster_client_for(session, room.launch.platform)
        try:
            members = client.list_members(endpoint)
        finally:
            client.close()
    except (RosterError, KeyStoreError) as err:
        log.warning("roster of %s not refreshed: %s", room.course, err)
        roster.record_failure(session, room.course.platform_id, room.course.context_id, str(err))
        return _notice(str(err))
    roster.replace_members(
        session,
        room.course.platform_id,
        room.course.context_id,
        [MemberRecord(m.user_id, m.status, m.roles, m.display_name, m.email) for m in members],
        now=now,
    )
    return None


def _notice(error: str | None) -> str:
    return _(
        "Your LMS's class list could not be read just now (%(reason)s); showing the one "
        "read before.",
        reason=error or _("no reason given"),
    )


def _class_rows(session: Session, course: CourseKey) -> list[object]:
    return build_class(  # type: ignore[return-value]
        catalog(),
        members=roster.list_members(session, course.platform_id, course.context_id),
        launchers=classroom.list_launchers(session, course),
        tallies=classroom.tally_course_attempts(session, course),
        last_scores=classroom.last_scores(session, course),
        runs=classroom.list_course_runs(session, course),
        lesson_views=classroom.last_lesson_views(session, course),
        grades=classroom.list_latest_grades(session, course),
    )


@bp.get("/s/<token>/instructor/class")
def class_page(token: str) -> str:
    room = _require_classroom(token)
    session = db()
    notice = refresh_roster(session, room)
    commit()
    fetch = roster.get_fetch(session, room.course.platform_id, room.course.context_id)
    return render_template(
        "instructor/class.html",
        launch=room.launch,
        rows=_class_rows(session, room.course),
        fetch=fetch,
        notice=notice,
        quizzes=[c.quiz for c in catalog().list_courses() if c.quiz is not None],
        actions=classroom.list_actions(session, room.course, limit=10),
        done=request.args.get("done", "")[:40],
    )


@bp.get("/s/<token>/instructor/class.csv")
def class_export(token: str) -> Response:
    room = _require_classroom(token)
    body = class_csv(_class_rows(db(), room.course))  # type: ignore[arg-type]
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="cx-academy-class.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/s/<token>/instructor/class/quizzes/<quiz_id>")
def item_analysis(token: str, quiz_id: str) -> str:
    room = _require_classroom(token)
    quiz = catalog().get_quiz(quiz_id)
    if quiz is None:
        raise PageNotFoundError(_("There is no quiz with this address."))
    answered = classroom.list_submitted_answers(db(), room.course, quiz.id)
    return render_template(
        "instructor/item_analysis.html",
        launch=room.launch,
        analysis=analyse_quiz(catalog(), quiz, answered),
    )


ACTIONS = {kind.value: kind for kind in ActionKind}


@bp.post("/s/<token>/instructor/class/actions")
def act(token: str) -> Response:
    room = _require_classroom(token)
    form = require_form(token, allowed=("action", "learner", "quiz", "grade"))
    kind = ACTIONS.get(form.get("action", ""))
    learner = form.get("learner", "")
    if kind is None or not learner:
        raise BadFormError(_("The form named no action or no learner."))
    session = db()
    now = utcnow()
    if kind is ActionKind.RESEND_GRADE:
        try:
            grade_id = int(form.get("grade", ""))
        except ValueError as err:
            raise BadFormError(_("The form named no grade.")) from err
        row = classroom.get_course_grade(session, room.course, grade_id)
        if row is None or row.sub != learner:
            raise PageNotFoundError(_("There is no such grade in this course."))
        # A new row, not the old one revived: the worker gives it a later timestamp, and
        # it supersedes what was pending for the same line item.
        add_grade(session, resend_entry(row, now))
        detail = {"grade_id": row.id, "label": row.label}
        quiz_id = None
    else:
        quiz = catalog().get_quiz(form.get("quiz", ""))
        if quiz is None:
            raise BadFormError(_("The form named a quiz CX Academy does not have."))
        if classroom.get_learner_launch(session, room.course, learner) is None:
            raise PageNotFoundError(_("This learner has not launched in this course."))
        quiz_id = quiz.id
        detail = {}
        if kind is ActionKind.RESET_ATTEMPT:
            attempt = classroom.get_course_open_attempt(session, room.course, learner, quiz.id)
            if attempt is None:
                raise PageNotFoundError(_("This learner has no unfinished attempt to reset."))
            started_in = session.get(Launch, attempt.launch_id)
            detail = {"attempt_number": attempt.number}
            attempt_id = attempt.id
            classroom.discard_attempt(session, attempt)
            if started_in is not None:
                record_event(
                    session,
                    attempt_reset_event(started_in, quiz, attempt_id, room.launch, now),
                    owner=LearnerKey.of(room.launch),
                )
    classroom.record_action(
        session,
        room.course,
        actor=room.launch,
        action=kind,
        learner_sub=learner,
        quiz_id=quiz_id,
        detail=detail,
        now=now,
    )
    commit()
    return redirect(url_for("instructor.class_page", done=kind.value), code=303)
