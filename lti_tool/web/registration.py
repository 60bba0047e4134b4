"""LTI Dynamic Registration's page (/lti/register) and the Canvas JSON configuration."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, render_template, request

from lti_tool.egress import EgressPolicy
from lti_tool.errors import RegistrationError, ToolError
from lti_tool.lti.registration import (
    DynamicRegistrationError,
    canvas_configuration,
    describe_tool,
    fetch_platform_configuration,
    register_client,
    registration_request,
)
from lti_tool.store import platforms, registrations
from lti_tool.store.models import PlatformState, RegistrationInvitation
from lti_tool.web.db import commit, db, services

bp = Blueprint("registration", __name__)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    platform_name: str
    issuer: str
    client_id: str
    deployment_id: str | None
    pending: bool


@bp.get("/lti/register")
@bp.get("/lti/register/<invitation>")
def register(invitation: str | None = None) -> tuple[Response, int] | Response:
    configuration_url = request.args.get("openid_configuration", "")
    frame_origin = _origin(configuration_url)
    try:
        outcome = _register(invitation, configuration_url)
    except ToolError as err:
        db().rollback()
        # The page tells the LMS administrator; the operator reads why in the log.
        log.warning("dynamic registration refused: %s: %s", type(err).__name__, err)
        return _page(err.status, frame_origin, error=err)
    return _page(200, frame_origin, outcome=outcome)


def _register(invitation_token: str | None, configuration_url: str) -> Outcome:
    settings = services().settings
    session = db()
    # Who may register is decided before anything is fetched: a stranger's link must not
    # make the tool send requests anywhere (decision 0012).
    invitation: RegistrationInvitation | None = None
    if invitation_token is not None:
        invitation = registrations.require_usable_invitation(session, invitation_token)
    elif not settings.open_registration:
        raise registrations.InvitationError(
            "CX Academy registers only through an invitation link. Ask its operator for one "
            "(`cxa platform invite`)."
        )
    if not configuration_url:
        raise DynamicRegistrationError(
            "The LMS did not send its openid_configuration: start the registration from the "
            "LMS's tool settings, not by opening this link in a browser."
        )
    token = request.args.get("registration_token", "")
    if not token:
        raise DynamicRegistrationError(
            "The LMS did not send a registration_token, so it cannot accept a registration."
        )
    egress = EgressPolicy.from_settings(settings)
    platform_config = fetch_platform_configuration(configuration_url, egress=egress)
    tool = describe_tool(settings.base_url)
    answer = register_client(
        platform_config, token, registration_request(tool, platform_config), egress=egress
    )
    host = urlsplit(platform_config.issuer).netloc
    product = platform_config.product_family_code or "LMS"
    name = (invitation.name if invitation else None) or f"{product} at {host}"
    spec = platforms.PlatformSpec(
        name=name,
        issuer=platform_config.issuer,
        client_id=answer.client_id,
        auth_login_url=platform_config.authorization_endpoint,
        auth_token_url=platform_config.token_endpoint,
        key_set_url=platform_config.jwks_uri,
        deployment_ids=(answer.deployment_id,) if answer.deployment_id else (),
        auth_audience=platform_config.authorization_server,
    )
    try:
        platform = platforms.add_platform(session, spec, egress=egress)
    except RegistrationError as err:
        raise DynamicRegistrationError(
            f"The LMS registered CX Academy, but its registration cannot be stored: {err}"
        ) from err
    platform.state = (
        PlatformState.PENDING if settings.new_registrations_pending else PlatformState.ACTIVE
    )
    platform.auto_approve_deployments = bool(invitation and invitation.auto_approve_deployments)
    if invitation is not None:
        registrations.spend_invitation(session, invitation, platform)
    commit()
    return Outcome(
        platform_name=platform.name,
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_id=answer.deployment_id,
        pending=platform.state is PlatformState.PENDING,
    )


# A host name or IPv4 literal with an optional port: nothing that could end a CSP source
# (spaces, ';', quotes) gets into the header from a query parameter.
_CSP_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(?::[0-9]{1,5})?$")


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return origin if _CSP_ORIGIN.match(origin) else None


def _page(
    status: int,
    frame_origin: str | None,
    *,
    outcome: Outcome | None = None,
    error: ToolError | None = None,
) -> tuple[Response, int]:
    body = render_template("registration.html", outcome=outcome, error=error, status=status)
    response = Response(body, status=status, mimetype="text/html")
    # The LMS shows this page in its own frame or popup before it is registered, so the
    # registered platforms' frame-ancestors do not name it yet: allow the origin its
    # configuration came from (Canvas frames from its own host, DR 1.0 section 3.1).
    ancestors = " ".join(filter(None, ("'self'", frame_origin)))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"form-action 'self'; frame-ancestors {ancestors}; base-uri 'none'; object-src 'none'"
    )
    return response, status


@bp.get("/lti/canvas.json")
def canvas_json() -> Response:
    """Canvas's "Paste JSON" / "Enter URL" developer key configuration."""
    return jsonify(canvas_configuration(describe_tool(services().settings.base_url)))
