"""What every learner page shares: who is visiting, the curriculum, CSRF and form checks.

The landing page itself is lti_tool.web.home (registered on this blueprint)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from content import Catalog, load_catalog
from content.schema import Course, Module
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Launch
from lti_tool.web.launch_session import check_csrf, csrf_token, require_launch
from lti_tool.web.learning_errors import BadFormError, FormTokenError, PageNotFoundError

bp = Blueprint("learner", __name__)

# Our forms have at most a quiz's worth of fields (10 questions, a handful of parts each);
# anything far beyond that is not from our pages. Values are option ids or small numbers.
MAX_FORM_FIELDS = 200
MAX_FIELD_LENGTH = 100


@dataclass(frozen=True)
class Visit:
    """The launched learner behind this request."""

    token: str
    launch: Launch
    learner: LearnerKey


def open_visit(token: str) -> Visit:
    """The visit the URL token names (NotLaunchedError if none); sets the page language."""
    launch = require_launch(token)
    g.cxa_launch = launch
    return Visit(token=token, launch=launch, learner=LearnerKey.of(launch))


def require_form(
    token: str, allowed: Iterable[str] = (), *, max_length: int = MAX_FIELD_LENGTH
) -> MultiDict[str, str]:
    """The POSTed form after the CSRF, size and field-name checks; raises before any change.

    ``allowed`` lists exact field names; names starting with "q." are left to the caller.
    ``max_length`` raises the cap for forms with free text, which check each field's own
    limit and name the field that is too long.
    """
    form = request.form
    if not check_csrf(token, form.get("csrf_token")):
        raise FormTokenError(
            _("The form was missing its security token. Reload the page and try again.")
        )
    if len(form) > MAX_FORM_FIELDS or sum(len(v) for v in form.listvalues()) > MAX_FORM_FIELDS:
        raise BadFormError(_("The form had more fields than any of our pages send."))
    known = {"csrf_token", *allowed}
    for key, value in form.items(multi=True):
        if len(key) > MAX_FIELD_LENGTH or len(value) > max_length:
            raise BadFormError(_("A field in the form was longer than our pages send."))
        if key not in known and not key.startswith("q."):
            raise BadFormError(_("The form had a field our pages never send."))
    return form


@cache
def shipped_catalog() -> Catalog:
    """The curriculum that ships with the tool, parsed and validated once per process."""
    return load_catalog()


def catalog() -> Catalog:
    """The curriculum, loaded and validated once per process (tests may set their own)."""
    override = current_app.config.get("CXA_CATALOG")
    return override if override is not None else shipped_catalog()


def require_course(course_id: str) -> Course:
    course = catalog().get_course(course_id)
    if course is None:
        raise PageNotFoundError(_("There is no course with this address."))
    return course


def module_of_lesson(course: Course, lesson_id: str) -> Module | None:
    return next((m for m in course.modules if lesson_id in m.lessons), None)


def course_of_module(module_id: str) -> Course | None:
    return next(
        (c for c in catalog().list_courses() if any(m.id == module_id for m in c.modules)), None
    )


@bp.app_url_defaults
def _keep_token(endpoint: str, values: dict[str, Any]) -> None:
    # Every learner URL carries the session token (no cookies inside an LMS iframe), so
    # templates can call url_for without threading the token through by hand.
    token = g.get("launch_token")
    if (
        token
        and "token" not in values
        and current_app.url_map.is_endpoint_expecting(endpoint, "token")
    ):
        values["token"] = token


@bp.app_context_processor
def _form_token() -> dict[str, Any]:
    token = g.get("launch_token")
    return {"csrf": csrf_token(token) if token else None, "token": token}
