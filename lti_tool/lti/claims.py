"""The claims of one launch in our own words: every type and size check on them, in one place.

A platform that signs correctly can still send claims of the wrong JSON type, longer than
our columns, or with characters no database stores (PostgreSQL refuses NUL in text). Two
rules, so one odd claim never turns into a 500:
- display values (names, titles, locale, email) are cleaned and cut to fit, or dropped;
- identifiers (sub, deployment, context and resource link ids, message type, roles) that
  cannot be stored as sent are refused with a LaunchError naming the claim, because a
  shortened or altered identifier would silently merge two learners or two courses.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from lti_tool.errors import LaunchError
from xapi.validation import is_language_tag

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"

# Column sizes of lti_tool.store.models.Launch: what we keep must fit them on PostgreSQL.
MAX_ID = 255
MAX_NAME = 255
MAX_TITLE = 500
MAX_MESSAGE_TYPE = 100
MAX_LOCALE = 35
# RFC 5321 section 4.5.3.1: 64 octets of local part, 255 of domain, and the "@".
MAX_EMAIL = 320
# Real id_tokens nest a few levels; far deeper is junk, and serialising it again for the
# claims column would exhaust the interpreter's recursion limit.
MAX_DEPTH = 32

# The shape xAPI 1.0.3 Part Two 2.4.2.3 wants behind "mailto:" (an address with a dotted
# domain), kept in step with xapi.validation so a kept email always makes a valid actor.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# RFC 3987 forbids these in an IRI; an mbox is an IRI (xAPI 1.0.3 Part Two 2.4.2.3).
_IRI_FORBIDDEN = re.compile(r"[<>\"{}|\\^`]")


@dataclass(frozen=True)
class LaunchClaims:
    """The validated facts of one launch, each of a type and size our store accepts."""

    issuer: str
    client_id: str
    deployment_id: str
    sub: str
    message_type: str
    roles: tuple[str, ...]
    name: str | None = None
    email: str | None = None
    context_id: str | None = None
    context_title: str | None = None
    resource_link_id: str | None = None
    resource_link_title: str | None = None
    locale: str | None = None
    target_link_uri: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_body(cls, body: dict[str, Any], client_id: str) -> LaunchClaims:
        """Our claims from a validated id_token body; LaunchError names a claim we cannot keep."""
        check_claim_types(body)
        context = _object(body.get(CLAIM + "context"))
        link = _object(body.get(CLAIM + "resource_link"))
        presentation = _object(body.get(CLAIM + "launch_presentation"))
        name = display_text(body.get("name"), MAX_NAME) or display_text(
            " ".join(
                part
                for part in (
                    display_text(body.get("given_name"), MAX_NAME),
                    display_text(body.get("family_name"), MAX_NAME),
                )
                if part
            ),
            MAX_NAME,
        )
        return cls(
            issuer=body["iss"],
            client_id=client_id,
            deployment_id=_identifier(body, CLAIM + "deployment_id", "deployment_id"),
            sub=_identifier(body, "sub", "sub"),
            message_type=_identifier(
                body, CLAIM + "message_type", "message_type", limit=MAX_MESSAGE_TYPE
            ),
            # A role we cannot read (a number, a string with NUL) grants nothing: drop it
            # rather than refuse a learner whose LMS adds junk to the list.
            roles=tuple(role for role in body.get(CLAIM + "roles") or () if _storable(role)),
            name=name,
            email=usable_email(body.get("email")),
            context_id=_optional_identifier(context, "id", "context"),
            context_title=display_text(context.get("title"), MAX_TITLE)
            or display_text(context.get("label"), MAX_TITLE),
            resource_link_id=_optional_identifier(link, "id", "resource_link"),
            resource_link_title=display_text(link.get("title"), MAX_TITLE),
            locale=language_tag(presentation.get("locale")) or language_tag(body.get("locale")),
            target_link_uri=body.get(CLAIM + "target_link_uri"),
            raw=body,
        )


# --- the token as a whole ---------------------------------------------------------------------


def check_token_shape(header: Any, body: Any) -> None:
    """Refuse an id_token whose header or payload is not a JSON object (RFC 7519 section 7.2)
    or whose payload holds what JSON does not (NaN, Infinity) or nests absurdly deep."""
    if not isinstance(header, dict):
        raise LaunchError("The id_token header is not a JSON object.")
    if not isinstance(body, dict):
        raise LaunchError("The id_token payload is not a JSON object.")
    _check_json_values(body)
    check_claim_types(body)


def _check_json_values(body: dict[str, Any]) -> None:
    # Iterative, so a deep payload cannot exhaust the stack while we look at it.
    pending: list[tuple[Any, int]] = [(body, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise LaunchError(f"The id_token payload nests deeper than {MAX_DEPTH} levels.")
        if isinstance(value, float) and not math.isfinite(value):
            # RFC 8259 section 6 has no NaN or Infinity; json.loads reads them anyway.
            raise LaunchError("The id_token payload is not valid JSON (NaN or Infinity).")
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)


# JSON types of the claims pylti1p3 and we read (OIDC Core 2 and 5.1; LTI 1.3 sections 5.3
# and 5.4). A claim that is present must have its type, or reading it would crash.
_STRING_CLAIMS = {
    "iss": "iss",
    "sub": "sub",
    "nonce": "nonce",
    "azp": "azp",
    CLAIM + "message_type": "message_type",
    CLAIM + "version": "version",
    CLAIM + "deployment_id": "deployment_id",
    CLAIM + "target_link_uri": "target_link_uri",
}
_NUMBER_CLAIMS = ("exp", "iat", "nbf")
_OBJECT_CLAIMS = {CLAIM + "context": "context", CLAIM + "resource_link": "resource_link"}


def check_claim_types(body: dict[str, Any]) -> None:
    """LaunchError naming the first claim whose JSON type is not the one the specs give it.

    Absent claims pass, and so do null ones: pylti1p3 says which required ones are missing.
    The exception is a null resource link: pylti1p3 reads it with ``body.get(claim, {})``,
    which gives None for a present null and then fails with a 500. A null context is taken
    for no context (the claim is optional, and a platform serialising an empty field as null
    should still launch); nothing reads it without checking its type.
    """
    for key, label in _STRING_CLAIMS.items():
        if body.get(key) is not None and not isinstance(body[key], str):
            raise LaunchError(f"The id_token's '{label}' claim must be a string.")
    for key in _NUMBER_CLAIMS:
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise LaunchError(f"The id_token's '{key}' claim must be a number (NumericDate).")
    aud = body.get("aud")
    if aud is not None and not (
        isinstance(aud, str) or (isinstance(aud, list) and all(isinstance(a, str) for a in aud))
    ):
        raise LaunchError("The id_token's 'aud' claim must be a string or an array of strings.")
    roles = body.get(CLAIM + "roles")
    if roles is not None and not isinstance(roles, list):
        raise LaunchError("The id_token's 'roles' claim must be an array (LTI 1.3 section 5.3.7).")
    for key, label in _OBJECT_CLAIMS.items():
        if key not in body:
            continue
        value = body[key]
        if value is None and label == "context":
            continue
        if not isinstance(value, dict):
            raise LaunchError(f"The id_token's '{label}' claim must be a JSON object.")
        if value.get("id") is not None and not isinstance(value["id"], str):
            raise LaunchError(f"The id_token's '{label}' claim has an id that is not a string.")


# --- identifiers: stored exactly as sent, or refused -----------------------------------------


def _identifier(body: dict[str, Any], key: str, label: str, *, limit: int = MAX_ID) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise LaunchError(f"The id_token's '{label}' claim is missing or not a string.")
    _check_storable(value, label, limit)
    return value


def _optional_identifier(claim: dict[str, Any], key: str, label: str) -> str | None:
    value = claim.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise LaunchError(f"The id_token's '{label}' claim has an id that is not a string.")
    _check_storable(value, label, MAX_ID)
    return value


def _check_storable(value: str, label: str, limit: int) -> None:
    if len(value) > limit:
        raise LaunchError(
            f"The id_token's '{label}' claim is {len(value)} characters long; "
            f"CX Academy stores at most {limit}."
        )
    if not _storable(value):
        raise LaunchError(
            f"The id_token's '{label}' claim contains control characters or invalid Unicode."
        )


def _storable(value: Any) -> bool:
    """A string every database keeps as is: no control characters, no lone surrogates."""
    return isinstance(value, str) and not any(_unstorable(ch) for ch in value)


def _unstorable(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs")


# --- display values: cleaned, cut to fit, or dropped ------------------------------------------


def display_text(value: Any, limit: int) -> str | None:
    """Text fit to show and store: a string without control characters or lone surrogates,
    whitespace runs made one space, cut to ``limit`` characters; None when nothing is left."""
    if not isinstance(value, str):
        return None
    kept = "".join(
        " " if ch in "\t\n\r" else ch for ch in value if ch in "\t\n\r" or not _unstorable(ch)
    )
    text = " ".join(kept.split())[:limit].rstrip()
    return text or None


def usable_email(value: Any) -> str | None:
    """The email when it can identify an xAPI agent (an mbox), else None (never an error)."""
    if not isinstance(value, str):
        return None
    email = value.strip()
    if (
        len(email) > MAX_EMAIL
        or not _storable(email)
        or _EMAIL.match(email) is None
        or _IRI_FORBIDDEN.search(email)
    ):
        return None
    return email


def language_tag(value: Any) -> str | None:
    """A well-formed RFC 5646 tag from what a platform calls a locale, or None.

    Moodle sends "pt_br" and "en_us"; others send tags too long or with subtags no
    registry has. Underscores become hyphens, subtags get the RFC 5646 section 2.1.1 case,
    and subtags are dropped from the end until the tag is well-formed and fits our column.
    """
    # Far longer than any tag we keep: what lies beyond this is dropped anyway.
    text = display_text(value, 4 * MAX_LOCALE)
    if text is None:
        return None
    subtags = [s for s in text.replace("_", "-").split("-") if s]
    subtags = _cased(subtags)
    while subtags:
        tag = "-".join(subtags)
        if len(tag) <= MAX_LOCALE and is_language_tag(tag):
            return tag
        subtags.pop()
    return None


def _cased(subtags: list[str]) -> list[str]:
    # RFC 5646 2.1.1: language lower case, script title case, region upper case; every
    # subtag after a singleton (extension or private use) lower case.
    cased: list[str] = []
    after_singleton = False
    for index, subtag in enumerate(subtags):
        if index == 0 or after_singleton:
            cased.append(subtag.lower())
        elif len(subtag) == 1:
            after_singleton = True
            cased.append(subtag.lower())
        elif len(subtag) == 4 and subtag.isalpha():
            cased.append(subtag.title())
        elif len(subtag) == 2 and subtag.isalpha():
            cased.append(subtag.upper())
        else:
            cased.append(subtag.lower())
    return cased


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
