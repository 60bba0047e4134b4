"""Placed activities: which activity a launch of a deep-linked link names, and its page."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from content import Catalog
from content.activities import (
    COURSE,
    GOALS,
    LESSON,
    MODULE,
    QUIZ,
    SCENARIO,
    SELF_ASSESSMENT,
    Activity,
    ActivityIndex,
    activity_id,
)
from content.placement import ACTIVITY_PARAM, PlacementOptions, options_from_custom
from lti_tool.errors import NotLaunchedError
from lti_tool.lti.submission_review import REVIEW_PATH
from lti_tool.web.db import services
from lti_tool.web.learner import catalog, open_visit

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
#: Where a placed link points (its ``url``); the platform echoes it as target_link_uri.
ACTIVITY_PATH = "/lti/activities/"

bp = Blueprint("placement", __name__)


@cache
def _index_of(source: Catalog) -> ActivityIndex:
    return ActivityIndex(source)


def activities() -> ActivityIndex:
    """Every placeable activity of the curriculum the app serves."""
    return _index_of(catalog())


def activity_url(activity: Activity) -> str:
    """The launch URL of a placed activity (the content item's ``url``)."""
    return f"{services().settings.base_url}{ACTIVITY_PATH}{activity.kind}/{activity.slug}"


def requested_activity(claims: dict[str, Any]) -> str | None:
    """The activity id a launch asks for, or None for a plain link to the tool.

    The custom parameter wins: the platform stored it with the link we placed. The
    target_link_uri (LTI 1.3 section 5.4.3, the item's url, or the line item's submission
    review url) is the fallback for a platform that keeps the url but drops custom
    parameters.
    """
    custom = claims.get(CLAIM + "custom")
    if isinstance(custom, dict) and isinstance(custom.get(ACTIVITY_PARAM), str):
        return str(custom[ACTIVITY_PARAM])
    target = claims.get(CLAIM + "target_link_uri")
    if isinstance(target, str):
        url = urlsplit(target)
        for path in (ACTIVITY_PATH, REVIEW_PATH):
            base = urlsplit(services().settings.base_url + path)
            if (url.scheme, url.netloc) == (base.scheme, base.netloc) and url.path.startswith(
                base.path
            ):
                kind, _sep, slug = unquote(url.path[len(base.path) :]).strip("/").partition("/")
                return activity_id(kind, slug)
    return None


def placed_activity(claims: dict[str, Any]) -> tuple[Activity, PlacementOptions | None] | None:
    """The placed activity a launch names, with the instructor's grading options (None for
    an ungraded kind); None when the launch names no activity we have.

    For the quiz engine and grade sync: the options ride in the link's custom parameters.
    """
    value = requested_activity(claims)
    activity = activities().get_activity(value) if value else None
    if activity is None:
        return None
    if not activity.graded:
        return activity, None
    custom = claims.get(CLAIM + "custom")
    return activity, options_from_custom(activity, custom if isinstance(custom, dict) else {})


def placed_options(claims: dict[str, Any], *ids: str) -> PlacementOptions | None:
    """The instructor's options when this launch is a graded placement of one of ``ids``;
    None on a plain link or a link that places something else, where the content's own
    settings apply. (A course's placement governs its final quiz: pass both ids.)"""
    placed = placed_activity(claims)
    if placed is None or placed[1] is None or placed[0].activity_id not in ids:
        return None
    return placed[1]


def activity_page(activity: Activity) -> str:
    """The learner page that opens the activity."""
    course_id = activity.course_id
    if activity.kind == COURSE:
        return url_for("course.course_page", course_id=course_id)
    if activity.kind == MODULE:
        return url_for("course.module_page", course_id=course_id, module_id=activity.slug)
    if activity.kind == LESSON:
        return url_for("course.lesson_page", course_id=course_id, lesson_id=activity.slug)
    if activity.kind == QUIZ:
        return url_for("quiz.intro", course_id=course_id)
    if activity.kind == SCENARIO:
        return url_for("scenario.intro", course_id=course_id, scenario_id=activity.slug)
    if activity.kind == SELF_ASSESSMENT:
        return url_for("assessment.form_page")
    if activity.kind == GOALS:
        return url_for("goals.list_page")
    return url_for("learner.home")


@bp.get("/s/<token>/activities/<path:value>")
def open_activity(token: str, value: str) -> Response | tuple[str, int]:
    """Land on a placed activity; an id the curriculum no longer has gets a friendly 404."""
    open_visit(token)
    activity = activities().get_activity(value)
    if activity is None:
        body = render_template("activity_missing.html", value=value)
        return body, 404
    return redirect(activity_page(activity), code=303)


@bp.get(ACTIVITY_PATH + "<kind>/<slug>")
@bp.get(REVIEW_PATH + "<kind>/<slug>")
def activity_link(kind: str, slug: str) -> Response:
    # A placed link opened outside its LMS: the launch must come from the course.
    raise NotLaunchedError(
        _("This CX Academy activity opens from your course in your LMS. Please go back there.")
    )
