"""LTI endpoints: OIDC login initiation, the launch, and the tool's public key set."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, redirect, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.egress import EgressPolicy
from lti_tool.errors import AwaitingApprovalError, LaunchError
from lti_tool.lti.claims import LaunchClaims
from lti_tool.lti.launch import (
    CLAIM,
    DEEP_LINKING_REQUEST,
    UnknownDeploymentError,
    begin_login,
    require_pending_login,
    validate_launch,
)
from lti_tool.lti.login_binding import BrowserEvidence
from lti_tool.lti.state import RequestStateCache, StateStore
from lti_tool.lti.submission_review import MESSAGE_TYPE as SUBMISSION_REVIEW_REQUEST
from lti_tool.lti.tool_conf import DbToolConf
from lti_tool.recording import launched_event, record_event
from lti_tool.store import keys, launches, platforms, registrations
from lti_tool.store.learning import LearnerKey
from lti_tool.store.models import Platform, PlatformState
from lti_tool.web import browser_check
from lti_tool.web.db import commit, db, services
from lti_tool.web.instructor import open_selection, require_instructor_type
from lti_tool.web.instructor.submission_review import require_review_access
from lti_tool.web.launch_session import issue_token
from lti_tool.web.placement import requested_activity

bp = Blueprint("lti", __name__)


def launch_url() -> str:
    return services().settings.base_url + "/lti/launch"


@bp.route("/lti/login", methods=["GET", "POST"])
def login() -> WerkzeugResponse:
    # LTI 1.3 section 4.1: the platform may send the login initiation as GET or POST.
    source = request.form if request.method == "POST" else request.args
    params = {k: source[k] for k in source}
    settings = services().settings
    # One registration lookup serves the approval check and pylti1p3 (its per-request cache).
    tool_conf = DbToolConf(db(), with_deployments=False)
    _require_active(tool_conf.find_platform(params.get("iss", ""), params.get("client_id")))
    start = begin_login(
        params,
        tool_conf,
        services().state,
        launch_url=launch_url(),
        ttl=settings.launch_state_ttl,
    )
    return browser_check.login_response(
        start, base_url=settings.base_url, ttl=settings.launch_state_ttl
    )


@bp.post("/lti/launch")
def launch() -> WerkzeugResponse:
    """The platform's form_post. Accepted at once only when the browser brought our state
    cookie and the login used no platform storage; otherwise the check page runs first."""
    settings = services().settings
    state = request.form.get("state", "")
    if not request.form.get("id_token"):
        raise LaunchError("The launch is missing its 'id_token' parameter.")
    store = RequestStateCache(services().state)
    pending = require_pending_login(store, state)
    base_url = settings.base_url
    if pending.storage_target is None and browser_check.has_state_cookie(state, base_url=base_url):
        return _accept(
            browser_check.evidence_from_request(state, base_url=base_url, with_check_page=False),
            store,
        )
    return browser_check.check_page(
        pending,
        request.form["id_token"],
        base_url=settings.base_url,
        ttl=settings.launch_state_ttl,
    )


@bp.post("/lti/launch/confirm")
def confirm() -> WerkzeugResponse:
    """The check page's POST: the token again, with what platform storage answered."""
    base_url = services().settings.base_url
    browser_check.require_same_origin(base_url)
    state = request.form.get("state", "")
    return _accept(
        browser_check.evidence_from_request(state, base_url=base_url, with_check_page=True),
        RequestStateCache(services().state),
    )


_AWAITING_REGISTRATION = (
    "Your LMS is registered with CX Academy, but the registration waits for the CX Academy "
    "operator's approval. Please try again later, or ask your LMS administrator."
)
_AWAITING_DEPLOYMENT = (
    "CX Academy has not been approved for this part of your LMS yet (deployment {id}). "
    "The request is recorded; please try again once the CX Academy operator has approved it."
)


def _require_active(platform: Platform | None) -> None:
    if platform is not None and platform.state is PlatformState.PENDING:
        raise AwaitingApprovalError(_AWAITING_REGISTRATION)


def _validate(browser: BrowserEvidence, store: StateStore, tool_conf: DbToolConf) -> LaunchClaims:
    settings = services().settings
    return validate_launch(
        tool_conf,
        store,
        ttl=settings.launch_state_ttl,
        http=services().http,
        jwks_ttl=settings.jwks_cache_ttl,
        egress=EgressPolicy.from_settings(settings),
        browser=browser,
        allow_unbound=settings.launch_unbound_fallback,
    )


def _validate_admitting_deployments(
    browser: BrowserEvidence, store: StateStore, tool_conf: DbToolConf
) -> LaunchClaims:
    """Validate the launch; a verified launch from a new deployment is approved at once when
    its registration says so, else recorded as pending and answered with a waiting page."""
    session = db()
    try:
        return _validate(browser, store, tool_conf)
    except UnknownDeploymentError as err:
        platform = tool_conf.find_platform(str(err.body.get("iss")), err.client_id)
        # A deployment id longer than we can store could never be approved: refuse it
        # plainly (LTI 1.3 section 5.1.2.1 bounds it to 255 ASCII characters).
        if platform is None or len(err.deployment_id) > 255:
            raise
        if not platform.auto_approve_deployments:
            context = err.body.get(CLAIM + "context")
            context = context if isinstance(context, dict) else {}
            tool_platform = err.body.get(CLAIM + "tool_platform")
            tool_platform = tool_platform if isinstance(tool_platform, dict) else {}
            registrations.record_pending_deployment(
                session,
                platform,
                err.deployment_id,
                context_id=_text(context.get("id")),
                context_title=_text(context.get("title")),
                platform_name=_text(tool_platform.get("name")),
            )
            commit()
            raise AwaitingApprovalError(_AWAITING_DEPLOYMENT.format(id=err.deployment_id)) from err
        platforms.add_deployment(session, platform, err.deployment_id)
        commit()
    # The state and nonce were not spent by the refused attempt, so the same launch is
    # validated again, now against the approved deployment.
    return _validate(browser, store, tool_conf)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _accept(browser: BrowserEvidence, store: StateStore) -> WerkzeugResponse:
    settings = services().settings
    session = db()
    tool_conf = DbToolConf(session)
    claims = _validate_admitting_deployments(browser, store, tool_conf)
    deep_linking = claims.message_type == DEEP_LINKING_REQUEST
    if deep_linking:
        # Deep Linking 2.0 section 4.4: choosing content is for instructor-type roles;
        # refused before anything is stored.
        require_instructor_type(claims.roles)
    review = claims.message_type == SUBMISSION_REVIEW_REQUEST
    if review:
        # Whose work this is, checked before anything is stored: a learner may open only
        # their own, staff anyone's (within this launch's context, on the review page).
        require_review_access(claims.roles, claims.sub, claims.raw)
    # The row validation already loaded: one platform query per launch.
    platform = tool_conf.find_platform(claims.issuer, claims.client_id)
    if platform is None:  # cannot pass validation, but never trust that silently
        raise LaunchError("This platform is not registered with CX Academy.")
    _require_active(platform)
    record = launches.add_launch(
        session,
        platform,
        deployment_id=claims.deployment_id,
        sub=claims.sub,
        message_type=claims.message_type,
        roles=list(claims.roles),
        claims=claims.raw,
        name=claims.name,
        email=claims.email,
        context_id=claims.context_id,
        context_title=claims.context_title,
        resource_link_id=claims.resource_link_id,
        resource_link_title=claims.resource_link_title,
        locale=claims.locale,
    )
    if deep_linking:
        # The launch row keeps the request's claims (settings, data, return URL): the
        # picker answers from them, never from what the browser posts.
        token = issue_token(record)
        commit()
        # After the commit: the embedded state store writes through a connection of its own.
        open_selection(record.id)
        target = url_for("instructor.picker_page", token=token)
    elif review:
        # Not a learning visit: no "launched" statement for the reviewer.
        token = issue_token(record)
        commit()
        target = url_for("instructor.review_page", token=token)
    else:
        token = issue_token(record)
        record_event(
            session, launched_event(record, datetime.now(UTC)), owner=LearnerKey.of(record)
        )
        commit()
        activity = requested_activity(claims.raw)
        # A placed (deep-linked) link goes straight to its activity.
        target = (
            url_for("placement.open_activity", token=token, value=activity)
            if activity is not None
            else url_for("learner.home", token=token)
        )
    # 303: the browser follows with a GET, so a reload never re-posts the id_token.
    response = redirect(target, code=303)
    browser_check.forget_login(response, request.form.get("state", ""), base_url=settings.base_url)
    return response


@bp.get("/.well-known/jwks.json")
@bp.get("/lti/jwks")
def jwks() -> Response:
    response = jsonify(keys.public_jwks(db()))
    # Platforms cache this; a short max-age keeps rotation (NEXT keys) visible within minutes.
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response
