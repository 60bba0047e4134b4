"""LTI Client Side postMessages and Platform Storage (1EdTech lti-cs-pm, lti-pm-s, lti-cs-oidc).

The messages themselves are sent by ``web/static/lti-storage.js`` in the learner's browser;
this module owns what the server must agree with it on: which frame a platform named, which
origin the messages go to, and under which key a login's state is kept.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lti_tool.errors import LaunchError

#: The key our state is stored under. The spec leaves keys to the tool; the value is in the
#: key (Canvas' guidance) so two launches in one course page never overwrite each other.
STATE_KEY_PREFIX = "lti1p3_state-"

#: ``_parent`` means the window that framed (or opened) the tool; anything else is the name
#: of a frame inside it (Canvas: ``post_message_forwarding``). Frame names are plain tokens;
#: a bound keeps junk out of the state store and the page.
_TARGET = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def storage_key(state: str) -> str:
    return STATE_KEY_PREFIX + state


def require_storage_target(value: str | None) -> str | None:
    """The ``lti_storage_target`` login parameter, checked; None when the platform sent none."""
    if not value:
        return None
    if not _TARGET.match(value):
        raise LaunchError("The login request's lti_storage_target is not a frame name.")
    return value


def platform_origin(auth_login_url: str) -> str:
    """Where storage messages go and must come from: the origin of the platform's OIDC
    authorization endpoint (lti-cs-oidc section 3: the target origin is that of the
    authentication request URL, so a page of another origin can neither read nor answer)."""
    parts = urlsplit(auth_login_url)
    return f"{parts.scheme}://{parts.netloc}".lower()
