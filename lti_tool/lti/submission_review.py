"""LTI Submission Review (an AGS 2.0 companion): the line item's ``submissionReview`` we
declare, and the ``LtiSubmissionReviewRequest`` a platform sends to open one learner's work.

A line item may say its submissions are reviewable: ``submissionReview`` holds
``reviewableStatus`` (the activityProgress values for which the platform offers the review
link), an optional ``label`` and the tool's review ``url``. The platform then launches that
URL with message_type ``LtiSubmissionReviewRequest``, the AGS endpoint claim naming the
``lineitem``, and the ``for_user`` claim naming the learner whose work to show (its
``user_id`` is the learner's ``sub``). The launching user may be the learner or staff.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lti_tool.errors import LaunchError
from lti_tool.lti.claims import MAX_ID, MAX_NAME, display_text
from lti_tool.lti.grades import ENDPOINT_CLAIM
from lti_tool.lti.roles import is_instructor_type

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = "LtiSubmissionReviewRequest"
#: The learner the review is about (user_id required; name, email, roles optional).
FOR_USER_CLAIM = CLAIM + "for_user"
#: The line item property declaring reviewable submissions.
SUBMISSION_REVIEW = "submissionReview"
#: Offered once an attempt is handed in: our scores say Submitted for a quiz attempt that
#: may be retried and Completed when the activity is done (AGS 2.0 section 3.4.1 values).
REVIEWABLE_STATUS = ("Submitted", "Completed")
#: Where a review launch points (the ``url`` we declare), followed by ``<kind>/<slug>``:
#: naming the activity lets a platform that drops custom parameters still say which.
REVIEW_PATH = "/lti/review/"
#: Activity kinds (content.activities) with attempts a review can show.
REVIEWABLE_KINDS = frozenset({"quiz", "scenario"})


def review_url(base_url: str, activity_id: str) -> str | None:
    """The review URL of a placeable activity (``<kind>:<slug>``); None when its kind has
    no attempt to review."""
    kind, _sep, slug = activity_id.partition(":")
    if kind not in REVIEWABLE_KINDS or not slug:
        return None
    return f"{base_url}{REVIEW_PATH}{kind}/{slug}"


def submission_review(url: str, label: str | None = None) -> dict[str, Any]:
    """The ``submissionReview`` object of a line item whose attempts our review URL shows."""
    body: dict[str, Any] = {"reviewableStatus": list(REVIEWABLE_STATUS), "url": url}
    if label:
        body["label"] = label
    return body


@dataclass(frozen=True)
class ForUser:
    """The learner a review launch names."""

    user_id: str
    name: str | None = None

    @classmethod
    def from_claims(cls, body: Mapping[str, Any]) -> ForUser:
        claim = body.get(FOR_USER_CLAIM)
        if not isinstance(claim, Mapping):
            raise LaunchError("The submission review launch does not name a learner (for_user).")
        user_id = claim.get("user_id")
        # The id is a learner's sub: refused rather than cut, so it never names someone else.
        if (
            not isinstance(user_id, str)
            or not user_id
            or len(user_id) > MAX_ID
            or "\x00" in user_id
        ):
            raise LaunchError("The submission review launch's for_user has no usable user_id.")
        name = display_text(claim.get("name"), MAX_NAME) or display_text(
            " ".join(
                p for p in (claim.get("given_name"), claim.get("family_name")) if isinstance(p, str)
            ),
            MAX_NAME,
        )
        return cls(user_id=user_id, name=name)


@dataclass(frozen=True)
class ReviewRequest:
    """What an LtiSubmissionReviewRequest asks: whose work, for which line item and link."""

    for_user: ForUser
    lineitem: str
    resource_link_id: str

    @classmethod
    def from_claims(cls, body: Mapping[str, Any]) -> ReviewRequest:
        """The request of a review launch; LaunchError names what is missing."""
        for_user = ForUser.from_claims(body)
        endpoint = body.get(ENDPOINT_CLAIM)
        lineitem = endpoint.get("lineitem") if isinstance(endpoint, Mapping) else None
        if not isinstance(lineitem, str) or not lineitem:
            raise LaunchError(
                "The submission review launch does not name its line item (AGS lineitem)."
            )
        link = body.get(CLAIM + "resource_link")
        link_id = link.get("id") if isinstance(link, Mapping) else None
        # Attempts are kept per placement (deployment, context, resource link): without the
        # link there is no telling which of a learner's attempts the line item is about.
        if not isinstance(link_id, str) or not link_id:
            raise LaunchError(
                "The submission review launch names no resource link, so CX Academy cannot "
                "tell which placement's attempts to show."
            )
        return cls(for_user=for_user, lineitem=lineitem, resource_link_id=link_id)


def may_review(roles: Sequence[str], sub: str, learner_sub: str) -> bool:
    """Whether the launching user may see ``learner_sub``'s work: staff of the context (the
    launch's context bounds what is shown) or the learner themself, never another learner."""
    return learner_sub == sub or is_instructor_type(roles)
