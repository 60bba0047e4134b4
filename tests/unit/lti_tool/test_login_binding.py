"""Which proof binds a launch to a browser, and the cookies that carry it."""

from __future__ import annotations

import pytest
from flask import Flask

from lti_tool.errors import LaunchError
from lti_tool.lti.launch import LoginStart
from lti_tool.lti.login_binding import BindingPath, BrowserEvidence, choose_binding_path
from lti_tool.lti.platform_storage import platform_origin, require_storage_target
from lti_tool.web import browser_check

STATE = "state-1234"


@pytest.mark.parametrize(
    ("evidence", "path"),
    [
        (BrowserEvidence(stored_value=STATE), BindingPath.PLATFORM_STORAGE),
        (BrowserEvidence(stored_value=STATE, state_cookie=STATE), BindingPath.PLATFORM_STORAGE),
        (BrowserEvidence(state_cookie=STATE, keeps_cookies=True), BindingPath.COOKIE),
        (BrowserEvidence(), BindingPath.SERVER_STATE),
    ],
    ids=["storage", "storage-and-cookie", "cookie", "nothing-kept"],
)
def test_the_strongest_proof_wins(evidence: BrowserEvidence, path: BindingPath) -> None:
    assert choose_binding_path(STATE, evidence, allow_unbound=True) is path


@pytest.mark.parametrize(
    "evidence",
    [
        BrowserEvidence(stored_value="state-other", state_cookie=STATE),
        BrowserEvidence(state_cookie="state-other"),
        BrowserEvidence(keeps_cookies=True),
    ],
    ids=["storage-mismatch", "cookie-mismatch", "keeps-cookies-but-not-this-one"],
)
def test_evidence_of_another_browser_is_refused(evidence: BrowserEvidence) -> None:
    with pytest.raises(LaunchError, match="does not belong to this browser"):
        choose_binding_path(STATE, evidence, allow_unbound=True)


def test_no_proof_is_refused_when_the_fallback_is_off() -> None:
    with pytest.raises(LaunchError, match="could not prove"):
        choose_binding_path(STATE, BrowserEvidence(), allow_unbound=False)


def test_storage_target_and_origin() -> None:
    assert require_storage_target(None) is None
    assert require_storage_target("post_message_forwarding") == "post_message_forwarding"
    with pytest.raises(LaunchError):
        require_storage_target('"><script>')
    assert platform_origin("https://SSO.canvaslms.com/api/lti/authorize_redirect") == (
        "https://sso.canvaslms.com"
    )


def _login_cookie(base_url: str) -> tuple[int, str]:
    app = Flask(__name__)
    start = LoginStart(
        auth_url="https://lms.example/auth?state=" + STATE,
        state=STATE,
        storage_target=None,
        platform_origin="https://lms.example",
    )
    with app.test_request_context("/lti/login"):
        response = browser_check.login_response(start, base_url=base_url, ttl=600)
    (cookie,) = response.headers.getlist("Set-Cookie")
    return response.status_code, cookie


def test_production_state_cookie_is_partitioned_and_cross_site() -> None:
    status, cookie = _login_cookie("https://cxa.example.edu")
    assert status == 302
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    # CHIPS: SameSite=None rides the platform's cross-site form_post, Partitioned survives
    # third-party cookie blocking, Secure is required by both.
    assert {"secure", "httponly", "partitioned", "samesite", "path", "max-age"} <= attributes
    assert "SameSite=None" in cookie
    # __Host-: no sibling subdomain can plant or overwrite it (cookie tossing); needs Path=/.
    assert "Path=/;" in cookie or cookie.endswith("Path=/")
    name = browser_check.state_cookie_name(STATE, "https://cxa.example.edu")
    assert name.startswith("__Host-")
    assert cookie.startswith(name + "=" + STATE)


def test_plain_http_state_cookie_is_lax() -> None:
    _, cookie = _login_cookie("http://127.0.0.1:8000")
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    assert "Path=/lti/" in cookie
