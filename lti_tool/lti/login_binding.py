"""Which browser a login belongs to: the proof a launch must bring before it is accepted.

A valid id_token and a known state only show that *someone* logged in. Without a check
that the browser posting them is the one that started the login, an attacker can log in
as themselves and make a victim's browser finish that launch (login CSRF). The proofs,
strongest first (decision 0006):

1. platform storage: the platform kept the state for this browser (``lti.put_data`` at
   login) and hands it back to our page in the same browser (``lti.get_data``);
2. cookie: the browser kept our partitioned state cookie from the login;
3. server state: neither works in this browser (no storage answer, no cookie kept at all),
   so only the single-use server-side state remains, if the operator allows it.

A browser that does keep our cookies but has none for this login, or whose platform storage
returns another value, is a different browser: refused.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from enum import StrEnum

from lti_tool.errors import LaunchError

log = logging.getLogger(__name__)

OTHER_BROWSER = (
    "This launch does not belong to this browser: it was started somewhere else. "
    "Please open the activity again from your course."
)


class BindingPath(StrEnum):
    PLATFORM_STORAGE = "platform-storage"
    COOKIE = "cookie"
    SERVER_STATE = "server-state"


@dataclass(frozen=True)
class BrowserEvidence:
    """What the launching browser showed of the login it claims to finish."""

    #: Our state cookie for this state, as the browser sent it (None: not sent).
    state_cookie: str | None = None
    #: The value ``lti.get_data`` returned for this state's key (None: nothing returned).
    stored_value: str | None = None
    #: The browser sent back the probe cookie our check page set: it keeps our cookies.
    keeps_cookies: bool = False


def choose_binding_path(
    state: str, evidence: BrowserEvidence, *, allow_unbound: bool
) -> BindingPath:
    """The strongest proof this browser gives that it started the login of ``state``."""
    if evidence.stored_value is not None:
        if not hmac.compare_digest(evidence.stored_value.encode(), state.encode()):
            raise LaunchError(OTHER_BROWSER)
        return BindingPath.PLATFORM_STORAGE
    if evidence.state_cookie is not None:
        if not hmac.compare_digest(evidence.state_cookie.encode(), state.encode()):
            raise LaunchError(OTHER_BROWSER)
        return BindingPath.COOKIE
    if evidence.keeps_cookies:
        # It kept the cookie our check page just set, so it would have kept the login's too.
        raise LaunchError(OTHER_BROWSER)
    if not allow_unbound:
        raise LaunchError(
            "This browser could not prove that it started this launch (it keeps no cookies "
            "for CX Academy and the platform's storage did not answer). Please allow cookies "
            "for this site or open the activity in a new window."
        )
    return BindingPath.SERVER_STATE
