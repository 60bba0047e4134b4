"""LTI Deep Linking 2.0: the request's settings claim, content items, and the signed response.

The platform asks (an ``LtiDeepLinkingRequest`` launch, validated like any launch); the
tool answers with a JWT it signs itself, POSTed by the browser to the platform's
``deep_link_return_url`` as the form field ``JWT`` (Deep Linking 2.0 section 4.2).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti_tool.errors import ToolError
from lti_tool.store.keys import SigningKey

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SETTINGS_CLAIM = DL_CLAIM + "deep_linking_settings"
REQUEST = "LtiDeepLinkingRequest"
RESPONSE = "LtiDeepLinkingResponse"
RESOURCE_LINK = "ltiResourceLink"
LTI_VERSION = "1.3.0"
#: The form field the response travels in (Deep Linking 2.0 section 4.2).
RESPONSE_FIELD = "JWT"
#: Long enough for a slow form post, short enough that a leaked response soon dies.
RESPONSE_LIFETIME_SECONDS = 300
# Presentation targets we can serve an ltiResourceLink in, best first: the tool is built
# for an LMS iframe (its session rides in the URL), a new window works as well.
IFRAME = "iframe"
WINDOW = "window"
IFRAME_SIZE = {"width": 1000, "height": 800}


class DeepLinkingError(ToolError):
    """Raised when a Deep Linking request or response cannot be honoured."""

    title = "This content selection could not be completed"


class NotDeepLinkingError(DeepLinkingError):
    """Raised when a content selection is attempted without a validated Deep Linking request."""

    status = 403


class ContentNotAcceptedError(DeepLinkingError):
    """Raised when the platform accepts none of what CX Academy can return (accept_types,
    accept_presentation_document_targets) or fewer items than were chosen."""

    status = 422


@dataclass(frozen=True)
class DeepLinkingSettings:
    """The request's ``deep_linking_settings`` claim (Deep Linking 2.0 section 4.4.1)."""

    return_url: str
    accept_types: tuple[str, ...]
    accept_presentation_document_targets: tuple[str, ...]
    accept_multiple: bool
    #: None when the platform said nothing: then nothing may be assumed (section 4.4.1).
    accept_lineitem: bool | None
    title: str | None = None
    text: str | None = None
    has_data: bool = False
    #: Opaque; must come back unchanged in the response when present.
    data: Any = None

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> DeepLinkingSettings:
        if claims.get(CLAIM + "message_type") != REQUEST:
            raise NotDeepLinkingError("This launch is not a Deep Linking request.")
        raw = claims.get(SETTINGS_CLAIM)
        if not isinstance(raw, dict):
            raise DeepLinkingError("The Deep Linking request has no deep_linking_settings claim.")
        url = raw.get("deep_link_return_url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise DeepLinkingError("The Deep Linking request has no valid deep_link_return_url.")
        return cls(
            return_url=url,
            accept_types=_strings(raw.get("accept_types")),
            accept_presentation_document_targets=_strings(
                raw.get("accept_presentation_document_targets")
            ),
            # Section 4.4.1: absent means one item at most.
            accept_multiple=raw.get("accept_multiple") is True,
            accept_lineitem=raw["accept_lineitem"] is True if "accept_lineitem" in raw else None,
            title=raw.get("title") if isinstance(raw.get("title"), str) else None,
            text=raw.get("text") if isinstance(raw.get("text"), str) else None,
            has_data="data" in raw,
            data=raw.get("data"),
        )

    @property
    def accepts_resource_links(self) -> bool:
        return RESOURCE_LINK in self.accept_types

    @property
    def presentation(self) -> str | None:
        """How our links should open, or None if the platform offers no target we serve."""
        for target in (IFRAME, WINDOW):
            if target in self.accept_presentation_document_targets:
                return target
        return None

    def require_resource_links(self) -> None:
        if not self.accepts_resource_links:
            raise ContentNotAcceptedError(
                "Your LMS asked for content CX Academy cannot provide: it accepts "
                f"{', '.join(self.accept_types) or 'no content types'}, and CX Academy "
                "places LTI links (ltiResourceLink)."
            )
        if self.presentation is None:
            raise ContentNotAcceptedError(
                "Your LMS can show the selected content only as "
                f"{', '.join(self.accept_presentation_document_targets) or 'nothing'}; "
                "CX Academy activities open in an iframe or a new window."
            )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):  # a lenient platform may send one value bare
        return (value,)
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


@dataclass(frozen=True)
class LineItem:
    """A gradebook column the platform creates with the link (Deep Linking 2.0 section 3.4.2)."""

    score_maximum: float
    label: str
    resource_id: str
    tag: str
    #: The line item's ``submissionReview`` (lti_tool.lti.submission_review), if any.
    submission_review: Mapping[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "scoreMaximum": self.score_maximum,
            "label": self.label,
            "resourceId": self.resource_id,
            "tag": self.tag,
        }
        if self.submission_review:
            body["submissionReview"] = dict(self.submission_review)
        return body


@dataclass(frozen=True)
class ResourceLink:
    """One ``ltiResourceLink`` content item (Deep Linking 2.0 section 3.4)."""

    title: str
    text: str
    url: str
    custom: dict[str, str] = field(default_factory=dict)
    line_item: LineItem | None = None

    def to_json(self, settings: DeepLinkingSettings) -> dict[str, Any]:
        item: dict[str, Any] = {
            "type": RESOURCE_LINK,
            "title": self.title,
            "text": self.text,
            "url": self.url,
        }
        if self.custom:
            item["custom"] = dict(self.custom)
        # A platform that said it ignores line items gets none: sending one would promise a
        # gradebook column that never appears.
        if self.line_item is not None and settings.accept_lineitem is not False:
            item["lineItem"] = self.line_item.to_json()
        if settings.presentation == IFRAME:
            item["iframe"] = dict(IFRAME_SIZE)
        elif settings.presentation == WINDOW:
            item["window"] = {"targetName": "_blank"}
        return item


@dataclass(frozen=True)
class ResponseMessage:
    """What goes back besides the items: user-facing and log text (section 4.2.1)."""

    msg: str | None = None
    log: str | None = None
    errormsg: str | None = None
    errorlog: str | None = None


def build_response(
    settings: DeepLinkingSettings,
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    items: Sequence[ResourceLink],
    key: SigningKey,
    message: ResponseMessage | None = None,
    now: float | None = None,
) -> str:
    """The signed ``LtiDeepLinkingResponse`` JWT (Deep Linking 2.0 section 4.2).

    ``issuer`` is the platform's issuer: it becomes the audience, while the tool's
    client_id is the issuer of the response (LTI 1.3 section 5.2 for tool-originating
    messages).
    """
    if items:
        settings.require_resource_links()
        if len(items) > 1 and not settings.accept_multiple:
            raise ContentNotAcceptedError(
                "Your LMS accepts one activity per selection; choose just one."
            )
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "iat": issued,
        "exp": issued + RESPONSE_LIFETIME_SECONDS,
        "nonce": uuid.uuid4().hex,
        CLAIM + "message_type": RESPONSE,
        CLAIM + "version": LTI_VERSION,
        CLAIM + "deployment_id": deployment_id,
        # Section 4.2.1: an empty list says "nothing selected" (a cancel).
        DL_CLAIM + "content_items": [item.to_json(settings) for item in items],
    }
    # Section 4.2.1: data must be echoed exactly when the request had it, and only then.
    if settings.has_data:
        claims[DL_CLAIM + "data"] = settings.data
    message = message or ResponseMessage()
    for name in ("msg", "log", "errormsg", "errorlog"):
        value = getattr(message, name)
        if value:
            claims[DL_CLAIM + name] = value
    return jwt.encode(claims, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})
