"""The operator console at /admin: signing in with an operator account, a cookie session of
its own (learners' sessions are cookieless), CSRF on every POST, and headers that keep the
console out of frames and caches (decision 0014). The pages live in pages.py.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from lti_tool.administration import console_actor
from lti_tool.errors import ForbiddenError
from lti_tool.store import operators
from lti_tool.store.operators import Operator, SignInOutcome
from lti_tool.web.db import commit, db, services
from lti_tool.web.limits import client_address

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The endpoints a stranger may reach; everything else needs a live console session.
_OPEN = frozenset({"admin.sign_in", "admin.sign_in_form"})

_REFUSED = _l("The name or password is wrong, or the account cannot sign in.")
_LOCKED = _l(
    "Too many failed sign-ins for this account or from this address. "
    "Try again in %(minutes)d minutes, or ask another operator to unlock it "
    "(`cxa operators unlock`).",
    minutes=int(operators.LOCKOUT.total_seconds() // 60),
)


class CsrfError(ForbiddenError):
    """Raised when a console form arrives without the token the console gave it."""

    title = "This form has expired"


def _secure() -> bool:
    settings = services().settings
    return settings.secure_cookies or settings.production


def _cookie(name: str) -> str:
    # __Host- cookies are Secure, host-only and Path=/: no subdomain can plant or read one.
    return f"__Host-{name}" if _secure() else name


SESSION_COOKIE = "cxa_operator"
SIGN_IN_COOKIE = "cxa_operator_sign_in"


def _set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        _cookie(name),
        value,
        max_age=max_age,
        path="/",
        secure=_secure(),
        httponly=True,
        # Strict: the browser never sends it from another site, LMS frames included.
        samesite="Strict",
    )


def _mac(purpose: str, value: str) -> str:
    key = services().settings.secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _same(expected: str, submitted: str | None) -> bool:
    if not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogatepass"))


def csrf_token() -> str:
    """The token every console form carries: bound to the console session (or, before
    sign-in, to the sign-in cookie), so another site cannot forge a form."""
    token = g.get("operator_token")
    if token is not None:
        return _mac("admin-csrf", token)
    return _mac("admin-sign-in", g.get("sign_in_nonce") or "")


def current_operator() -> Operator:
    operator: Operator = g.operator
    return operator


def actor() -> str:
    return console_actor(current_operator().name)


bp.context_processor(lambda: {"admin_csrf": csrf_token})


@bp.before_request
def _guard() -> Response | None:
    token = request.cookies.get(_cookie(SESSION_COOKIE))
    live = operators.get_live_console_session(db(), token) if token else None
    if live is not None:
        commit()  # the last-seen time, even if the page itself writes nothing
        g.operator = live.operator
        g.operator_token = token
    elif request.endpoint not in _OPEN:
        return redirect(url_for("admin.sign_in_form", next=request.path), code=303)
    if request.method == "POST":
        submitted = request.form.get("csrf_token")
        if live is not None:
            expected = _mac("admin-csrf", token or "")
        else:
            nonce = request.cookies.get(_cookie(SIGN_IN_COOKIE), "")
            expected = _mac("admin-sign-in", nonce) if nonce else ""
        if not expected or not _same(expected, submitted):
            raise CsrfError(
                "The form was not sent from this console page, or the page is too old. "
                "Reload the page and try again."
            )
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    # Never framed (clickjacking an operator is worth more than a learner), never cached.
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _safe_next(value: str | None) -> str:
    # Only a path inside the console: never an open redirect to another host.
    if value and value.startswith("/admin") and not urlsplit(value).netloc and "\\" not in value:
        return value
    return url_for("admin.overview")


@bp.get("/sign-in")
def sign_in_form() -> Response:
    if g.get("operator") is not None:
        return redirect(url_for("admin.overview"), code=303)
    return _sign_in_page(200, None)


def _sign_in_page(status: int, problem: str | None) -> Response:
    nonce = secrets.token_urlsafe(32)
    g.sign_in_nonce = nonce
    body = render_template(
        "admin/sign_in.html", problem=problem, next=_safe_next(request.values.get("next"))
    )
    response = Response(body, status=status, mimetype="text/html")
    _set_cookie(response, SIGN_IN_COOKIE, nonce, max_age=3600)
    return response


@bp.post("/sign-in")
def sign_in() -> Response:
    session = db()
    result = operators.check_sign_in(
        session,
        request.form.get("name", "")[:200],
        request.form.get("password", "")[:1000],
        client_address(),
    )
    if result.operator is None:
        commit()  # the failure counts, whatever the answer
        if result.outcome == SignInOutcome.LOCKED:
            return _sign_in_page(429, str(_LOCKED))
        return _sign_in_page(401, str(_REFUSED))
    token = secrets.token_urlsafe(32)
    operators.add_console_session(session, result.operator, token)
    operators.audit(session, console_actor(result.operator.name), "operator.sign_in")
    commit()
    response = redirect(_safe_next(request.form.get("next")), code=303)
    _set_cookie(response, SESSION_COOKIE, token, max_age=int(operators.SESSION_MAX.total_seconds()))
    response.delete_cookie(_cookie(SIGN_IN_COOKIE), path="/", secure=_secure(), samesite="Strict")
    return response


@bp.post("/sign-out")
def sign_out() -> Response:
    session = db()
    operators.revoke_console_session(session, g.operator_token)
    operators.audit(session, actor(), "operator.sign_out")
    commit()
    response = redirect(url_for("admin.sign_in_form"), code=303)
    response.delete_cookie(_cookie(SESSION_COOKIE), path="/", secure=_secure(), samesite="Strict")
    return response


from lti_tool.web.admin import pages  # noqa: E402,F401  (registers the pages on bp)
