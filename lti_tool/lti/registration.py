"""LTI Dynamic Registration 1.0 (tool side) and the Canvas JSON configuration, both drawn
from one description of the tool (ToolDescription), so the two can never disagree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lti_tool.egress import EgressPolicy
from lti_tool.errors import ToolError
from lti_tool.lti import grades
from lti_tool.lti.launch import DEEP_LINKING_REQUEST, RESOURCE_LINK_REQUEST
from lti_tool.lti.platform_http import PlatformFetchError, fetch_json, post_json

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
#: Canvas's own addition to the tool configuration claim (Canvas "Registration" docs).
CANVAS_PRIVACY_LEVEL = "https://canvas.instructure.com/lti/privacy_level"
CANVAS_PRODUCT = "canvas"


class DynamicRegistrationError(ToolError):
    """Raised when a Dynamic Registration cannot go ahead; the message says which step."""

    title = "CX Academy could not register with your LMS"


@dataclass(frozen=True)
class MessageDescription:
    """One LTI message the tool handles, and where Canvas should offer it."""

    type: str
    label: str
    target_link_uri: str
    canvas_placements: tuple[str, ...]


@dataclass(frozen=True)
class ToolDescription:
    """Everything a platform needs to know about this tool: the one source of both the
    Dynamic Registration request and the Canvas JSON configuration."""

    name: str
    description: str
    base_url: str
    messages: tuple[MessageDescription, ...]
    #: AGS (grades) and NRPS (roster) scopes the tool uses.
    scopes: tuple[str, ...]
    #: Identity claims the tool reads from launches (DR 1.0 section 3.2 "claims").
    claims: tuple[str, ...]
    #: Canvas privacy level: "public" sends name and email, which instructor pages show.
    privacy_level: str = "public"

    @property
    def domain(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def login_url(self) -> str:
        return self.base_url + "/lti/login"

    @property
    def launch_url(self) -> str:
        return self.base_url + "/lti/launch"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/.well-known/jwks.json"

    @property
    def logo_url(self) -> str:
        return self.base_url + "/static/logo.svg"


def describe_tool(base_url: str) -> ToolDescription:
    launch = base_url + "/lti/launch"
    return ToolDescription(
        name="CX Academy",
        description="Customer-service training with scenarios, quizzes and xAPI reporting.",
        base_url=base_url,
        messages=(
            MessageDescription(RESOURCE_LINK_REQUEST, "CX Academy", launch, ("course_navigation",)),
            MessageDescription(
                DEEP_LINKING_REQUEST,
                "Add a CX Academy activity",
                launch,
                ("link_selection", "assignment_selection"),
            ),
        ),
        scopes=(
            grades.SCOPE_LINEITEM,
            grades.SCOPE_LINEITEM_READONLY,
            grades.SCOPE_RESULT_READONLY,
            grades.SCOPE_SCORE,
            SCOPE_NRPS,
        ),
        claims=("iss", "sub", "name", "given_name", "family_name", "email", "locale"),
    )


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of a platform's OpenID configuration (DR 1.0 section 3.4) we use."""

    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    scopes_supported: tuple[str, ...] | None
    product_family_code: str
    authorization_server: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_canvas(self) -> bool:
        return self.product_family_code == CANVAS_PRODUCT


_LOOPBACK = ("127.0.0.1", "localhost", "::1")

_REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "registration_endpoint",
)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def read_platform_configuration(url: str, document: Any) -> PlatformConfiguration:
    """Check a fetched OpenID configuration; DynamicRegistrationError names what is wrong."""
    if not isinstance(document, dict):
        raise DynamicRegistrationError("The LMS's OpenID configuration is not a JSON object.")
    missing = [name for name in _REQUIRED if not isinstance(document.get(name), str)]
    if missing:
        raise DynamicRegistrationError(
            f"The LMS's OpenID configuration lacks {', '.join(missing)}."
        )
    # DR 1.0 section 3.5.1: the issuer must match the configuration URL's origin, so a
    # registration link cannot make us trust an issuer the configuration's host does not own.
    if _origin(document["issuer"]) != _origin(url):
        raise DynamicRegistrationError(
            f"The LMS's issuer {document['issuer']} does not match the origin of its "
            f"configuration URL {url}."
        )
    lti = document.get(PLATFORM_CONFIGURATION)
    if not isinstance(lti, dict):
        raise DynamicRegistrationError(
            f"The LMS's OpenID configuration lacks the {PLATFORM_CONFIGURATION} object."
        )
    methods = document.get("token_endpoint_auth_methods_supported")
    if isinstance(methods, list) and "private_key_jwt" not in methods:
        raise DynamicRegistrationError(
            "The LMS does not accept private_key_jwt client authentication, which LTI needs."
        )
    algorithms = document.get("id_token_signing_alg_values_supported")
    if isinstance(algorithms, list) and "RS256" not in algorithms:
        raise DynamicRegistrationError("The LMS does not sign id_tokens with RS256.")
    scopes = document.get("scopes_supported")
    server = document.get("authorization_server")
    return PlatformConfiguration(
        url=url,
        issuer=document["issuer"],
        authorization_endpoint=document["authorization_endpoint"],
        token_endpoint=document["token_endpoint"],
        jwks_uri=document["jwks_uri"],
        registration_endpoint=document["registration_endpoint"],
        scopes_supported=(
            tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else None
        ),
        product_family_code=str(lti.get("product_family_code") or ""),
        authorization_server=server if isinstance(server, str) and server else None,
        raw=document,
    )


def fetch_platform_configuration(url: str, *, egress: EgressPolicy) -> PlatformConfiguration:
    """Fetch (bounded, egress-checked) and check the configuration a platform sent us to."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DynamicRegistrationError("openid_configuration must be an absolute http(s) URL.")
    # The registration token and the platform's endpoints travel over this: https only, as
    # for every platform URL we store (plain http is kept for loopback demos and tests).
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        raise DynamicRegistrationError("openid_configuration must be an https URL.")
    try:
        document = fetch_json(url, egress=egress)
    except PlatformFetchError as err:
        raise DynamicRegistrationError(
            f"The LMS's OpenID configuration could not be read: {err}"
        ) from err
    return read_platform_configuration(url, document)


def registration_request(tool: ToolDescription, platform: PlatformConfiguration) -> dict[str, Any]:
    """The client registration the tool POSTs (DR 1.0 section 3.5.2)."""
    wanted = tool.scopes
    if platform.scopes_supported is not None:
        # Asking for a scope the platform does not offer may get the whole request refused.
        wanted = tuple(s for s in tool.scopes if s in platform.scopes_supported)
    messages = []
    for message in tool.messages:
        entry: dict[str, Any] = {
            "type": message.type,
            "target_link_uri": message.target_link_uri,
            "label": message.label,
        }
        if platform.is_canvas:
            entry["placements"] = list(message.canvas_placements)
        messages.append(entry)
    configuration: dict[str, Any] = {
        "domain": tool.domain,
        "description": tool.description,
        "target_link_uri": tool.launch_url,
        "claims": list(tool.claims),
        "messages": messages,
    }
    if platform.is_canvas:
        configuration[CANVAS_PRIVACY_LEVEL] = tool.privacy_level
    return {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.login_url,
        "redirect_uris": [tool.launch_url],
        "client_name": tool.name,
        "jwks_uri": tool.jwks_url,
        "logo_uri": tool.logo_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(wanted),
        TOOL_CONFIGURATION: configuration,
    }


@dataclass(frozen=True)
class ClientRegistration:
    """What the platform answered: our client id there, and its deployment if it made one."""

    client_id: str
    deployment_id: str | None


def register_client(
    platform: PlatformConfiguration,
    registration_token: str,
    body: dict[str, Any],
    *,
    egress: EgressPolicy,
) -> ClientRegistration:
    """POST the registration with the platform's token as bearer (DR 1.0 section 3.5.2)."""
    headers = {"Authorization": f"Bearer {registration_token}"} if registration_token else {}
    try:
        answer = post_json(platform.registration_endpoint, body, egress=egress, headers=headers)
    except PlatformFetchError as err:
        hint = ""
        if err.status_code in (401, 403):
            hint = (
                " The registration token was refused: it may have expired or been used "
                "already. Start the registration again from the LMS."
            )
        raise DynamicRegistrationError(f"The LMS refused the registration: {err}.{hint}") from err
    if not isinstance(answer, dict):
        raise DynamicRegistrationError("The LMS answered the registration with no JSON object.")
    client_id = answer.get("client_id")
    if not isinstance(client_id, str) or not client_id.strip():
        raise DynamicRegistrationError(
            "The LMS answered the registration without a client_id; nothing was stored."
        )
    configuration = answer.get(TOOL_CONFIGURATION)
    deployment = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    return ClientRegistration(
        client_id=client_id,
        deployment_id=deployment if isinstance(deployment, str) and deployment else None,
    )


def canvas_configuration(tool: ToolDescription) -> dict[str, Any]:
    """Canvas's LTI 1.3 developer key JSON ("Configuring LTI Advantage tools", Canvas docs)."""
    placements = [
        {
            "placement": placement,
            "message_type": message.type,
            "target_link_uri": message.target_link_uri,
            "text": message.label,
            "icon_url": tool.logo_url,
        }
        for message in tool.messages
        for placement in message.canvas_placements
    ]
    return {
        "title": tool.name,
        "description": tool.description,
        "oidc_initiation_url": tool.login_url,
        "target_link_uri": tool.launch_url,
        "public_jwk_url": tool.jwks_url,
        "scopes": list(tool.scopes),
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "domain": tool.domain,
                "privacy_level": tool.privacy_level,
                "settings": {
                    "text": tool.name,
                    "icon_url": tool.logo_url,
                    "placements": placements,
                },
            }
        ],
        "custom_fields": {},
    }
