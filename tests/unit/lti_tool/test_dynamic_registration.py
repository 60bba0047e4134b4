"""The tool's side of LTI Dynamic Registration and the Canvas JSON, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from lti_tool.egress import PERMISSIVE
from lti_tool.lti.registration import (
    CANVAS_PRIVACY_LEVEL,
    PLATFORM_CONFIGURATION,
    SCOPE_NRPS,
    TOOL_CONFIGURATION,
    DynamicRegistrationError,
    canvas_configuration,
    describe_tool,
    fetch_platform_configuration,
    read_platform_configuration,
    registration_request,
)

TOOL = "https://cxa.example.com"
LMS = "https://lms.example.edu"
CONFIG_URL = LMS + "/mod/lti/openid-configuration.php"
AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


def configuration(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "issuer": LMS,
        "authorization_endpoint": LMS + "/mod/lti/auth.php",
        "token_endpoint": LMS + "/mod/lti/token.php",
        "jwks_uri": LMS + "/mod/lti/certs.php",
        "registration_endpoint": LMS + "/mod/lti/openid-registration.php",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", AGS_SCORE, SCOPE_NRPS],
        PLATFORM_CONFIGURATION: {"product_family_code": "moodle", "version": "4.3"},
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


@pytest.mark.parametrize(
    "field", ["issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
              "registration_endpoint", PLATFORM_CONFIGURATION]
)  # fmt: skip
def test_a_configuration_missing_a_required_field_is_refused(field: str) -> None:
    with pytest.raises(DynamicRegistrationError, match="lacks"):
        read_platform_configuration(CONFIG_URL, configuration(**{field: None}))


@pytest.mark.parametrize(
    "issuer",
    ["https://evil.example.net", "http://lms.example.edu", "https://lms.example.edu:8443"],
)
def test_an_issuer_off_the_configuration_urls_origin_is_refused(issuer: str) -> None:
    with pytest.raises(DynamicRegistrationError, match="does not match the origin"):
        read_platform_configuration(CONFIG_URL, configuration(issuer=issuer))


def test_an_issuer_with_a_path_on_the_same_origin_is_accepted() -> None:
    read = read_platform_configuration(CONFIG_URL, configuration(issuer=LMS + "/moodle"))
    assert read.issuer == LMS + "/moodle"


def test_a_platform_without_private_key_jwt_or_rs256_is_refused() -> None:
    with pytest.raises(DynamicRegistrationError, match="private_key_jwt"):
        read_platform_configuration(
            CONFIG_URL, configuration(token_endpoint_auth_methods_supported=["client_secret"])
        )
    with pytest.raises(DynamicRegistrationError, match="RS256"):
        read_platform_configuration(
            CONFIG_URL, configuration(id_token_signing_alg_values_supported=["HS256"])
        )


def test_the_request_carries_what_dr_section_3_5_2_asks_for() -> None:
    platform = read_platform_configuration(CONFIG_URL, configuration())
    body = registration_request(describe_tool(TOOL), platform)

    assert body["application_type"] == "web"
    assert body["response_types"] == ["id_token"]
    assert body["grant_types"] == ["implicit", "client_credentials"]
    assert body["initiate_login_uri"] == TOOL + "/lti/login"
    assert body["redirect_uris"] == [TOOL + "/lti/launch"]
    assert body["jwks_uri"] == TOOL + "/.well-known/jwks.json"
    assert body["token_endpoint_auth_method"] == "private_key_jwt"
    assert body["client_name"] == "CX Academy"
    assert body["logo_uri"] == TOOL + "/static/logo.svg"
    # Only the scopes this platform offers are asked for.
    assert body["scope"].split() == [AGS_SCORE, SCOPE_NRPS]
    tool = body[TOOL_CONFIGURATION]
    assert tool["domain"] == "cxa.example.com"
    assert tool["target_link_uri"] == TOOL + "/lti/launch"
    assert {"iss", "sub", "email"} <= set(tool["claims"])
    assert [m["type"] for m in tool["messages"]] == [
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
    ]
    # Placements and the privacy level are Canvas's extensions: not sent to Moodle.
    assert all("placements" not in m for m in tool["messages"])
    assert CANVAS_PRIVACY_LEVEL not in tool


def test_canvas_gets_its_placements_and_privacy_level() -> None:
    canvas = configuration(
        **{PLATFORM_CONFIGURATION: {"product_family_code": "canvas", "version": "1"}}
    )
    body = registration_request(
        describe_tool(TOOL), read_platform_configuration(CONFIG_URL, canvas)
    )

    messages = {m["type"]: m for m in body[TOOL_CONFIGURATION]["messages"]}
    assert messages["LtiResourceLinkRequest"]["placements"] == ["course_navigation"]
    assert messages["LtiDeepLinkingRequest"]["placements"] == [
        "link_selection",
        "assignment_selection",
    ]
    assert body[TOOL_CONFIGURATION][CANVAS_PRIVACY_LEVEL] == "public"


# Canvas "LTI 1.3 configuration" (developer key JSON) rules, field by field.
CANVAS_PRIVACY_LEVELS = {"anonymous", "name_only", "email_only", "public"}
CANVAS_SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
}
CANVAS_MESSAGE_TYPES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}


def test_the_canvas_json_follows_canvas_rules_field_by_field() -> None:
    doc = canvas_configuration(describe_tool(TOOL))

    for required in ("title", "description", "oidc_initiation_url", "target_link_uri"):
        assert isinstance(doc[required], str) and doc[required], required
    assert doc["oidc_initiation_url"] == TOOL + "/lti/login"
    assert doc["target_link_uri"] == TOOL + "/lti/launch"
    # Canvas needs public_jwk or public_jwk_url; the URL keeps key rotation working.
    assert doc["public_jwk_url"] == TOOL + "/.well-known/jwks.json"
    assert "public_jwk" not in doc
    assert set(doc["scopes"]) <= CANVAS_SCOPES
    assert isinstance(doc["custom_fields"], dict)
    [extension] = doc["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["domain"] == "cxa.example.com"
    assert extension["privacy_level"] in CANVAS_PRIVACY_LEVELS
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"course_navigation", "link_selection", "assignment_selection"}
    for placement in placements.values():
        assert placement["message_type"] in CANVAS_MESSAGE_TYPES
        assert placement["target_link_uri"].startswith(TOOL + "/")
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["assignment_selection"]["message_type"] == "LtiDeepLinkingRequest"


def test_dr_and_canvas_json_come_from_one_description() -> None:
    tool = describe_tool(TOOL)
    changed = replace(
        tool,
        name="CX Academy (staging)",
        scopes=(SCOPE_NRPS,),
        messages=(replace(tool.messages[0], canvas_placements=("account_navigation",)),),
    )
    canvas_lms = configuration(
        **{PLATFORM_CONFIGURATION: {"product_family_code": "canvas"}, "scopes_supported": None}
    )
    dr = registration_request(changed, read_platform_configuration(CONFIG_URL, canvas_lms))
    canvas = canvas_configuration(changed)

    assert dr["client_name"] == canvas["title"] == "CX Academy (staging)"
    assert dr["scope"].split() == canvas["scopes"] == [SCOPE_NRPS]
    assert dr["initiate_login_uri"] == canvas["oidc_initiation_url"]
    assert dr["jwks_uri"] == canvas["public_jwk_url"]
    assert dr[TOOL_CONFIGURATION]["target_link_uri"] == canvas["target_link_uri"]
    dr_placements = [
        (p, m["type"]) for m in dr[TOOL_CONFIGURATION]["messages"] for p in m["placements"]
    ]
    canvas_placements = [
        (p["placement"], p["message_type"])
        for p in canvas["extensions"][0]["settings"]["placements"]
    ]
    assert dr_placements == canvas_placements == [("account_navigation", "LtiResourceLinkRequest")]


def test_a_plain_http_configuration_url_off_loopback_is_refused() -> None:
    with pytest.raises(DynamicRegistrationError, match="must be an https URL"):
        fetch_platform_configuration(
            "http://lms.example.edu/.well-known/openid-configuration", egress=PERMISSIVE
        )
