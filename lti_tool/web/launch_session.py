"""The learner's session after a launch, carried in the URL rather than a cookie.

LMSs show tools in iframes where browsers increasingly block third-party cookies, so
each page URL carries a signed token naming the launch (issuer, sub, context and roles
live on the launch row). Pages send ``Referrer-Policy: same-origin`` so the token does
not leak to other sites.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid

from flask import g
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lti_tool.errors import NotLaunchedError
from lti_tool.store.launches import get_launch
from lti_tool.store.models import Launch
from lti_tool.web.db import db, services

# A working session of a day; a learner who comes back later launches again from the LMS.
MAX_AGE_SECONDS = 12 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services().settings.secret_key, salt="cxa-launch-session")


def issue_token(launch_id: uuid.UUID) -> str:
    return _serializer().dumps(launch_id.hex)


def require_launch(token: str) -> Launch:
    """The launch the token names; NotLaunchedError if it is forged, expired or unknown."""
    try:
        launch_hex = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired as err:
        raise NotLaunchedError(
            "Your session has expired. Open CX Academy from your course again."
        ) from err
    except BadSignature as err:
        raise NotLaunchedError("This link is not a valid CX Academy session.") from err
    launch = get_launch(db(), uuid.UUID(launch_hex))
    if launch is None:
        raise NotLaunchedError(
            "This session no longer exists. Open CX Academy from your course again."
        )
    g.launch_token = token
    return launch


def csrf_token(token: str) -> str:
    """A per-session form token: forms must prove they were rendered by us for this session."""
    key = services().settings.secret_key.encode()
    return hmac.new(key, b"csrf:" + token.encode(), hashlib.sha256).hexdigest()


def check_csrf(token: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(csrf_token(token), submitted)
