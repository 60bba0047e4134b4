"""The Deep Linking response JWT, checked claim by claim against Deep Linking 2.0 section 4.2
and verified the way a platform does: with the key the tool's JWKS publishes for its kid."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy.orm import Session

from lti_tool.lti.deep_linking import (
    ContentNotAcceptedError,
    DeepLinkingError,
    DeepLinkingSettings,
    LineItem,
    NotDeepLinkingError,
    ResourceLink,
    ResponseMessage,
    build_response,
)
from lti_tool.store.keys import ensure_active_key, public_jwks, require_signing_key

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SECRET = "test-key-secret"
ISSUER = "https://moodle.example.test"
CLIENT_ID = "tool-client-7"
DEPLOYMENT = "deployment-3"
QUIZ = ResourceLink(
    title="Final quiz",
    text="Ten questions.",
    url="https://cxa.example.test/lti/activities/quiz/final-quiz",
    custom={"cxa_activity": "quiz:final-quiz", "cxa_pass_mark": "80"},
    line_item=LineItem(
        score_maximum=100, label="Final quiz", resource_id="quiz:final-quiz", tag="quiz"
    ),
)
LESSON = ResourceLink(
    title="Listening", text="A lesson.", url="https://cxa.example.test/lti/activities/lesson/x"
)


def request_claims(**settings: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "deep_link_return_url": "https://moodle.example.test/mod/lti/contentitem_return.php",
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
        "data": "moodle-data-42",
    }
    values.update(settings)
    return {
        CLAIM + "message_type": "LtiDeepLinkingRequest",
        DL + "deep_linking_settings": {k: v for k, v in values.items() if v is not None},
    }


def respond(session: Session, items: list[ResourceLink], **settings: Any) -> str:
    ensure_active_key(session, SECRET)
    return build_response(
        DeepLinkingSettings.from_claims(request_claims(**settings)),
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT,
        items=items,
        key=require_signing_key(session, SECRET),
        message=ResponseMessage(msg="Added.", log="placed quiz:final-quiz"),
    )


def verify(session: Session, token: str) -> dict[str, Any]:
    """As a platform: the kid in the header picks the key from the tool's published JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    published = {k["kid"]: k for k in public_jwks(session)["keys"]}
    assert kid in published
    return jwt.decode(
        token,
        jwt.PyJWK(published[kid]).key,
        algorithms=["RS256"],
        audience=ISSUER,
        issuer=CLIENT_ID,
    )


def test_the_response_carries_every_required_claim_and_verifies_with_the_published_key(
    session: Session,
) -> None:
    before = int(time.time())
    token = respond(session, [QUIZ])
    claims = verify(session, token)

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["iss"] == CLIENT_ID
    assert claims["aud"] == ISSUER
    assert before <= claims["iat"] <= int(time.time())
    assert claims["iat"] < claims["exp"] <= claims["iat"] + 600
    assert len(claims["nonce"]) >= 16
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[CLAIM + "version"] == "1.3.0"
    assert claims[CLAIM + "deployment_id"] == DEPLOYMENT
    assert claims[DL + "data"] == "moodle-data-42"
    assert claims[DL + "msg"] == "Added."
    assert claims[DL + "log"] == "placed quiz:final-quiz"


def test_a_graded_item_is_a_resource_link_with_custom_parameters_and_a_line_item(
    session: Session,
) -> None:
    [item] = verify(session, respond(session, [QUIZ]))[DL + "content_items"]

    assert item["type"] == "ltiResourceLink"
    assert item["title"] == "Final quiz"
    assert item["text"] == "Ten questions."
    assert item["url"] == QUIZ.url
    assert item["custom"] == {"cxa_activity": "quiz:final-quiz", "cxa_pass_mark": "80"}
    assert item["lineItem"] == {
        "scoreMaximum": 100,
        "label": "Final quiz",
        "resourceId": "quiz:final-quiz",
        "tag": "quiz",
    }


def test_every_response_has_a_fresh_nonce(session: Session) -> None:
    first = verify(session, respond(session, [QUIZ]))["nonce"]
    second = verify(session, respond(session, [QUIZ]))["nonce"]

    assert first != second


def test_the_signature_fails_against_any_other_key(session: Session) -> None:
    token = respond(session, [QUIZ])
    # A real key of the same size that is not ours (a mangled modulus may be too short).
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()

    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other, algorithms=["RS256"], audience=ISSUER)


@pytest.mark.parametrize(
    "data", [{"nested": [1, "two", None]}, "", 0, None], ids=["object", "empty", "zero", "null"]
)
def test_data_comes_back_exactly_as_it_was_sent(session: Session, data: Any) -> None:
    claims_in = request_claims()
    claims_in[DL + "deep_linking_settings"]["data"] = data
    ensure_active_key(session, SECRET)
    token = build_response(
        DeepLinkingSettings.from_claims(claims_in),
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT,
        items=[LESSON],
        key=require_signing_key(session, SECRET),
    )

    claims = verify(session, token)
    assert DL + "data" in claims
    assert claims[DL + "data"] == data


def test_no_data_claim_when_the_request_had_none(session: Session) -> None:
    claims = verify(session, respond(session, [LESSON], data=None))

    assert DL + "data" not in claims


def test_a_platform_that_ignores_line_items_gets_none(session: Session) -> None:
    [item] = verify(session, respond(session, [QUIZ], accept_lineitem=False))[DL + "content_items"]

    assert "lineItem" not in item


def test_an_ungraded_item_has_no_line_item(session: Session) -> None:
    [item] = verify(session, respond(session, [LESSON]))[DL + "content_items"]

    assert "lineItem" not in item
    assert "custom" not in item


def test_links_open_in_an_iframe_when_the_platform_offers_one(session: Session) -> None:
    [item] = verify(session, respond(session, [LESSON]))[DL + "content_items"]

    assert "iframe" in item
    assert "window" not in item


def test_links_open_in_a_new_window_when_that_is_all_the_platform_offers(
    session: Session,
) -> None:
    [item] = verify(
        session, respond(session, [LESSON], accept_presentation_document_targets=["window"])
    )[DL + "content_items"]

    assert item["window"] == {"targetName": "_blank"}
    assert "iframe" not in item


def test_a_platform_that_can_only_embed_html_is_refused(session: Session) -> None:
    with pytest.raises(ContentNotAcceptedError, match="iframe or a new window"):
        respond(session, [LESSON], accept_presentation_document_targets=["embed"])


def test_a_platform_that_does_not_accept_resource_links_is_refused(session: Session) -> None:
    with pytest.raises(ContentNotAcceptedError, match="ltiResourceLink"):
        respond(session, [LESSON], accept_types=["link", "file"])


@pytest.mark.parametrize("accept_multiple", [False, None], ids=["false", "absent"])
def test_two_items_are_refused_unless_the_platform_accepts_several(
    session: Session, accept_multiple: bool | None
) -> None:
    with pytest.raises(ContentNotAcceptedError, match="one activity"):
        respond(session, [QUIZ, LESSON], accept_multiple=accept_multiple)


def test_one_item_is_fine_without_accept_multiple(session: Session) -> None:
    claims = verify(session, respond(session, [QUIZ], accept_multiple=False))

    assert len(claims[DL + "content_items"]) == 1


def test_a_cancel_returns_an_empty_item_list_and_the_message(session: Session) -> None:
    ensure_active_key(session, SECRET)
    token = build_response(
        DeepLinkingSettings.from_claims(request_claims()),
        issuer=ISSUER,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT,
        items=[],
        key=require_signing_key(session, SECRET),
        message=ResponseMessage(msg="Nothing added.", log="cancelled"),
    )

    claims = verify(session, token)
    assert claims[DL + "content_items"] == []
    assert claims[DL + "msg"] == "Nothing added."
    assert claims[DL + "log"] == "cancelled"
    assert DL + "errormsg" not in claims


def test_settings_come_only_from_a_deep_linking_request() -> None:
    claims = request_claims()
    claims[CLAIM + "message_type"] = "LtiResourceLinkRequest"

    with pytest.raises(NotDeepLinkingError):
        DeepLinkingSettings.from_claims(claims)


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", 7])
def test_a_request_without_a_usable_return_url_is_refused(url: Any) -> None:
    claims = request_claims()
    claims[DL + "deep_linking_settings"]["deep_link_return_url"] = url

    with pytest.raises(DeepLinkingError, match="deep_link_return_url"):
        DeepLinkingSettings.from_claims(claims)


def test_accept_lineitem_absent_means_nothing_is_assumed() -> None:
    settings = DeepLinkingSettings.from_claims(request_claims())

    assert settings.accept_lineitem is None
    assert settings.accept_multiple is True
