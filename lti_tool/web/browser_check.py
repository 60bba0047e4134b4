"""The browser side of login binding: state and probe cookies, the storage pages, and the
same-origin rule for the check page's POST (decision 0006)."""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

from flask import Response, make_response, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from lti_tool.errors import LaunchError
from lti_tool.lti.launch import LoginStart, PendingLogin
from lti_tool.lti.login_binding import BrowserEvidence
from lti_tool.lti.platform_storage import storage_key

log = logging.getLogger(__name__)

STATE_COOKIE_PREFIX = "cxa_lti_state_"
#: Set by the check page; coming back on its POST shows that this browser keeps our cookies.
PROBE_COOKIE = "cxa_lti_probe"
#: On plain http the cookies only travel to the LTI endpoints.
COOKIE_PATH = "/lti/"
# On https: a __Host- cookie cannot be set or overwritten by a sibling subdomain (RFC 6265bis
# 4.1.3.2), so a student's page on another host of the university cannot plant a state
# cookie for the attacker's login ("cookie tossing"). The prefix requires Path=/.
HOST_PREFIX = "__Host-"

# What the check page's script reports about lti.get_data (the form's lti_storage field).
STORAGE_FOUND = "found"


def _https(base_url: str) -> bool:
    return urlsplit(base_url).scheme.lower() == "https"


def state_cookie_name(state: str, base_url: str) -> str:
    # One cookie per login, so two launches in two tabs do not overwrite each other; hashed
    # because a state is not ours to put in a cookie name verbatim.
    name = STATE_COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:24]
    return HOST_PREFIX + name if _https(base_url) else name


def probe_cookie_name(base_url: str) -> str:
    return HOST_PREFIX + PROBE_COOKIE if _https(base_url) else PROBE_COOKIE


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _set_cookie(response: WerkzeugResponse, name: str, value: str, ttl: int, base_url: str) -> None:
    if _https(base_url):
        # Inside an LMS iframe we are a third party: SameSite=None lets the cookie ride on the
        # platform's cross-site form_post, Partitioned (CHIPS) lets browsers that block
        # third-party cookies keep it anyway, in a jar of this LMS's site only.
        response.set_cookie(
            name,
            value,
            max_age=ttl,
            path="/",
            secure=True,
            httponly=True,
            samesite="None",
            partitioned=True,
        )
    else:
        # Plain http (the loopback demo, tests): browsers refuse SameSite=None without Secure.
        response.set_cookie(
            name, value, max_age=ttl, path=COOKIE_PATH, httponly=True, samesite="Lax"
        )


def _no_store(response: Response) -> Response:
    # These pages carry the state and the id_token: no cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


def login_response(start: LoginStart, *, base_url: str, ttl: int) -> Response:
    """The answer to a login initiation: straight to the platform, or through the page
    that stores the state with lti.put_data first."""
    if start.storage_target is None:
        response = make_response("", 302)
        response.headers["Location"] = start.auth_url
    else:
        response = make_response(
            render_template(
                "lti_storage_login.html",
                auth_url=start.auth_url,
                key=storage_key(start.state),
                value=start.state,
                target=start.storage_target,
                platform_origin=start.platform_origin,
            )
        )
    name = state_cookie_name(start.state, base_url)
    _set_cookie(response, name, start.state, ttl, base_url)
    return _no_store(response)


def check_page(pending: PendingLogin, id_token: str, *, base_url: str, ttl: int) -> Response:
    """The small page that reads the state back (lti.get_data) and posts it with the token.

    Without scripts it shows a Continue button: the POST then carries no storage answer and
    the cookies decide."""
    response = make_response(
        render_template(
            "lti_launch_check.html",
            action=url_for("lti.confirm"),
            id_token=id_token,
            state=pending.state,
            key=storage_key(pending.state),
            target=pending.storage_target or "",
            platform_origin=pending.platform_origin,
        )
    )
    _set_cookie(response, probe_cookie_name(base_url), "1", ttl, base_url)
    return _no_store(response)


def evidence_from_request(state: str, *, base_url: str, with_check_page: bool) -> BrowserEvidence:
    """What this request shows; the storage answer and the probe only count when the
    request came from our own check page (its POST passed require_same_origin)."""
    stored = None
    if with_check_page and request.form.get("lti_storage") == STORAGE_FOUND:
        stored = request.form.get("lti_storage_value", "")
    return BrowserEvidence(
        state_cookie=request.cookies.get(state_cookie_name(state, base_url)),
        stored_value=stored,
        keeps_cookies=with_check_page and request.cookies.get(probe_cookie_name(base_url)) == "1",
    )


def forget_login(response: WerkzeugResponse, state: str, *, base_url: str) -> None:
    """The state is spent: its cookie and the probe have nothing left to prove."""
    for name in (state_cookie_name(state, base_url), probe_cookie_name(base_url)):
        if name in request.cookies:
            # Same attributes as when set: a partitioned cookie is only removed by a
            # partitioned Set-Cookie.
            _set_cookie(response, name, "", 0, base_url)


def has_state_cookie(state: str, *, base_url: str) -> bool:
    return state_cookie_name(state, base_url) in request.cookies


def require_same_origin(base_url: str) -> None:
    """Only our check page may post the storage answer. A cross-site form (the attacker's
    page) cannot set Origin or Sec-Fetch-Site to ours; non-browser clients send neither and
    cannot be a victim's browser."""
    origin = request.headers.get("Origin")
    site = request.headers.get("Sec-Fetch-Site")
    if (origin is not None and origin.lower() != _origin(base_url)) or (
        site is not None and site != "same-origin"
    ):
        log.warning("launch check refused: posted from origin=%s site=%s", origin, site)
        raise LaunchError(
            "This launch step must come from CX Academy's own page. Please open the activity "
            "again from your course."
        )
