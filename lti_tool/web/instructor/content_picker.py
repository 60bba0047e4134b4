"""The content picker: an instructor answers their LMS's Deep Linking request.

The picker's form is bound to the validated ``LtiDeepLinkingRequest`` launch on the server:
its URL token names the launch row (which keeps the request's claims), the CSRF token is
the session's, and the request can be answered once. Nothing the browser posts can change
where the response goes, who it is addressed to, or the ``data`` it echoes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from content.activities import GRADED_KINDS, KINDS, Activity
from content.placement import (
    ACTIVITY_PARAM,
    COUNTS,
    FIELDS_BY_KIND,
    OptionErrors,
    PlacementOptions,
    default_options,
    parse_options,
)
from lti_tool.errors import ForbiddenError
from lti_tool.lti.deep_linking import (
    ContentNotAcceptedError,
    DeepLinkingSettings,
    LineItem,
    NotDeepLinkingError,
    ResourceLink,
    ResponseMessage,
    build_response,
)
from lti_tool.lti.roles import is_instructor_type
from lti_tool.lti.submission_review import review_url, submission_review
from lti_tool.store.keys import require_signing_key
from lti_tool.store.models import Launch
from lti_tool.web.db import db, services
from lti_tool.web.learner import catalog, open_visit, require_form
from lti_tool.web.learning_errors import AlreadyFinishedError, BadFormError
from lti_tool.web.placement import activities, activity_url

bp = Blueprint("instructor", __name__)

#: The gradebook column is out of 100: a percentage reads the same in every LMS.
SCORE_MAXIMUM = 100
OPTION_FIELDS = ("graded", "pass_mark", "attempts", "draw", "counts")


def require_instructor_type(roles: list[str] | tuple[str, ...]) -> None:
    if not is_instructor_type(roles):
        raise ForbiddenError(
            _(
                "Only instructors, teaching assistants, content developers and administrators "
                "can choose CX Academy content for a course."
            )
        )


def _selection_key(launch_id: uuid.UUID) -> str:
    return f"deep-linking-open:{launch_id.hex}"


def open_selection(launch_id: uuid.UUID) -> None:
    """Mark a validated Deep Linking request as answerable (once, within a working day)."""
    # As long as the instructor's session may last: the picker is answered within it or never.
    settings = services().settings
    services().state.put(_selection_key(launch_id), "open", settings.session_max_seconds)


@dataclass(frozen=True)
class Picker:
    launch: Launch
    settings: DeepLinkingSettings


def _require_picker(token: str) -> Picker:
    visit = open_visit(token)
    launch = visit.launch
    require_instructor_type(launch.roles)
    if launch.message_type != "LtiDeepLinkingRequest":
        raise NotDeepLinkingError(
            _("Content can be chosen only when your LMS asks for it (a Deep Linking request).")
        )
    settings = DeepLinkingSettings.from_claims(launch.claims)
    settings.require_resource_links()
    return Picker(launch, settings)


def _option_name(activity: Activity, field: str) -> str:
    return f"opt.{activity.activity_id}.{field}"


def _filtered(skill: str, kind: str, chosen: set[str]) -> list[Activity]:
    # What the instructor already ticked stays on the page whatever the filter says.
    return [
        a
        for a in activities().list_activities()
        if ((not skill or skill in a.skills) and (not kind or a.kind == kind))
        or a.activity_id in chosen
    ]


def _render(
    picker: Picker,
    *,
    skill: str = "",
    kind: str = "",
    chosen: set[str] | None = None,
    values: MultiDict[str, str] | None = None,
    errors: dict[str, dict[str, str]] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    skills = {s.id: s.name for s in catalog().list_skills()}
    shown = _filtered(skill, kind, chosen or set())
    body = render_template(
        "instructor/content_picker.html",
        launch=picker.launch,
        settings=picker.settings,
        activities=shown,
        skills=skills,
        kinds=KINDS,
        graded_kinds=GRADED_KINDS,
        fields_by_kind=FIELDS_BY_KIND,
        counts=COUNTS,
        defaults={a.activity_id: default_options(a) for a in shown if a.kind in GRADED_KINDS},
        option_name=_option_name,
        chosen=chosen or set(),
        values=values or MultiDict(),
        errors=errors or {},
        problem=problem,
        skill=skill if skill in skills else "",
        kind=kind if kind in KINDS else "",
    )
    return body, status


ALREADY_SENT = _l(
    "This content selection was already sent to your LMS, or it has expired. "
    "Start again from your course."
)


@bp.get("/s/<token>/instructor/content")
def picker_page(token: str) -> tuple[str, int]:
    picker = _require_picker(token)
    # Said up front, so nobody fills in options only to be refused on sending.
    spent = services().state.get(_selection_key(picker.launch.id)) is None
    return _render(
        picker,
        skill=request.args.get("skill", "")[:80],
        kind=request.args.get("kind", "")[:40],
        problem=str(ALREADY_SENT) if spent else None,
    )


def _allowed_fields() -> set[str]:
    names = {"item", "action", "skill", "kind"}
    for activity in activities().list_activities():
        names.update(_option_name(activity, f) for f in FIELDS_BY_KIND.get(activity.kind, ()))
    return names


def _submission_review(activity: Activity) -> dict[str, Any] | None:
    """Quizzes and role-plays have attempts the gradebook may open (LTI Submission Review)."""
    url = review_url(services().settings.base_url, activity.activity_id)
    return submission_review(url) if url else None


def _item(activity: Activity, options: PlacementOptions | None) -> ResourceLink:
    custom = {ACTIVITY_PARAM: activity.activity_id}
    line_item = None
    if options is not None:
        custom.update(options.to_custom())
        if options.graded:
            line_item = LineItem(
                score_maximum=SCORE_MAXIMUM,
                label=activity.title,
                resource_id=activity.activity_id,
                tag=activity.kind,
                submission_review=_submission_review(activity),
            )
    text = activity.summary if options is None else f"{activity.summary} {options.describe()}"
    return ResourceLink(
        title=activity.title,
        text=text,
        url=activity_url(activity),
        custom=custom,
        line_item=line_item,
    )


def _respond(picker: Picker, items: list[ResourceLink], message: ResponseMessage) -> Response:
    launch = picker.launch
    # Spent before signing: two posts of one picker (a double click, a replay) must not
    # both place content.
    if services().state.take(_selection_key(launch.id)) is None:
        raise AlreadyFinishedError(str(ALREADY_SENT))
    key = require_signing_key(db(), services().settings.key_encryption_secret)
    jwt_token = build_response(
        picker.settings,
        issuer=launch.platform.issuer,
        client_id=launch.platform.client_id,
        deployment_id=launch.deployment_id,
        items=items,
        key=key,
        message=message,
    )
    body = render_template(
        "instructor/deep_link_return.html",
        return_url=picker.settings.return_url,
        jwt=jwt_token,
        count=len(items),
    )
    response = Response(body, mimetype="text/html")
    target = urlsplit(picker.settings.return_url)
    # The one page whose form leaves our origin: its CSP names the platform's return URL
    # (form-action), and nothing else is relaxed.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"form-action 'self' {target.scheme}://{target.netloc}; frame-ancestors *; "
        "base-uri 'none'; object-src 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/s/<token>/instructor/content")
def choose(token: str) -> Response | tuple[str, int]:
    picker = _require_picker(token)
    form = require_form(token, allowed=_allowed_fields())
    if form.get("action") == "cancel":
        return _respond(
            picker,
            [],
            ResponseMessage(
                msg=_("No CX Academy content was added."),
                log="The instructor cancelled the content selection.",
            ),
        )
    chosen_ids = form.getlist("item")
    if len(set(chosen_ids)) != len(chosen_ids):
        raise BadFormError(_("The same activity was chosen twice."))
    chosen: list[Activity] = []
    for value in chosen_ids:
        activity = activities().get_activity(value)
        if activity is None:
            raise BadFormError(_("The form named an activity CX Academy does not have."))
        chosen.append(activity)
    skill, kind = form.get("skill", ""), form.get("kind", "")
    if not chosen:
        return _render(
            picker,
            skill=skill,
            kind=kind,
            values=form,
            problem=_("Choose at least one activity, or cancel."),
            status=400,
        )
    if len(chosen) > 1 and not picker.settings.accept_multiple:
        raise ContentNotAcceptedError(
            _("Your LMS accepts one activity per selection; go back and choose just one.")
        )
    errors: dict[str, dict[str, str]] = {}
    items = []
    for activity in chosen:
        options = None
        if activity.kind in GRADED_KINDS:
            prefix = f"opt.{activity.activity_id}."
            values = {
                name[len(prefix) :]: value
                for name, value in form.items()
                if name.startswith(prefix)
            }
            try:
                options = parse_options(activity, values)
            except OptionErrors as err:
                errors[activity.activity_id] = err.errors
                continue
        items.append(_item(activity, options))
    if errors:
        return _render(
            picker,
            skill=skill,
            kind=kind,
            chosen={a.activity_id for a in chosen},
            values=form,
            errors=errors,
            problem=_("Some options need correcting; each is marked below."),
            status=400,
        )
    count = len(items)
    return _respond(
        picker,
        items,
        ResponseMessage(
            msg=ngettext(
                "%(num)d CX Academy activity added.", "%(num)d CX Academy activities added.", count
            ),
            log=f"CX Academy placed {', '.join(a.activity_id for a in chosen)}",
        ),
    )
