"""The demo LMS's side of LTI Dynamic Registration 1.0: its OpenID configuration, one-time
registration tokens, a registration endpoint that checks the tool's request the way a
platform must (DR 1.0 sections 3.4 to 3.6), and launches of the clients it registered.

Registered clients are kept in a small JSON file next to the LMS's key, so a restart of
``make run`` keeps them; tokens live in memory (one process).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, jsonify, redirect, request
from werkzeug.wrappers import Response

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
#: Seconds a registration token may wait for the tool's request.
TOKEN_TTL_SECONDS = 600
SCOPES = (
    "openid",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")


class RegistrationRefused(Exception):
    """Raised when a tool's registration request breaks a rule of DR 1.0 section 3.5."""


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    deployment_id: str
    initiate_login_uri: str
    redirect_uris: tuple[str, ...]
    jwks_uri: str
    target_link_uri: str
    client_name: str


class RegisteredClients:
    """Clients registered by DR (file-backed) and the registration tokens handed out."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._tokens: dict[str, float] = {}

    def issue_token(self, now: float | None = None) -> str:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = (now or time.time()) + TOKEN_TTL_SECONDS
        return token

    def spend_token(self, token: str, now: float | None = None) -> None:
        """Each token registers one tool, once, while fresh (DR 1.0 section 3.5.1)."""
        with self._lock:
            expiry = self._tokens.pop(token, None)
        if expiry is None:
            raise RegistrationRefused("registration token unknown or already used")
        if expiry < (now or time.time()):
            raise RegistrationRefused("registration token expired")

    def add(self, client: RegisteredClient) -> None:
        with self._lock:
            clients = self._read()
            clients[client.client_id] = asdict(client)
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._path.write_text(json.dumps(clients, indent=2))

    def get(self, client_id: str) -> RegisteredClient | None:
        with self._lock:
            found = self._read().get(client_id)
        if found is None:
            return None
        return RegisteredClient(**{**found, "redirect_uris": tuple(found["redirect_uris"])})

    def _read(self) -> dict[str, Any]:
        if not self._path.exists():
            return {}
        return dict(json.loads(self._path.read_text()))


def openid_configuration(base_url: str) -> dict[str, Any]:
    """The platform's configuration (DR 1.0 section 3.4, OpenID Connect Discovery)."""
    return {
        "issuer": base_url,
        "authorization_endpoint": base_url + "/auth",
        "token_endpoint": base_url + "/token",
        "jwks_uri": base_url + "/jwks",
        "registration_endpoint": base_url + "/register",
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public", "pairwise"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        PLATFORM_CONFIGURATION: {
            "product_family_code": "cxa-demo",
            "version": "1.0",
            "messages_supported": [{"type": t} for t in MESSAGE_TYPES],
        },
    }


def check_request(body: Any) -> RegisteredClient:
    """The tool's request as DR 1.0 section 3.5.2 defines it; RegistrationRefused names the
    first broken rule. ``client_id`` and ``deployment_id`` are left for the caller."""
    if not isinstance(body, dict):
        raise RegistrationRefused("the registration must be a JSON object")
    expected = {
        "application_type": "web",
        "token_endpoint_auth_method": "private_key_jwt",
    }
    for name, value in expected.items():
        if body.get(name) != value:
            raise RegistrationRefused(f"{name} must be {value!r}")
    if body.get("response_types") != ["id_token"]:
        raise RegistrationRefused("response_types must be ['id_token']")
    grants = body.get("grant_types")
    if not isinstance(grants, list) or not {"implicit", "client_credentials"} <= set(grants):
        raise RegistrationRefused("grant_types must include implicit and client_credentials")
    for name in ("initiate_login_uri", "jwks_uri", "client_name"):
        if not isinstance(body.get(name), str) or not body[name]:
            raise RegistrationRefused(f"{name} is required")
    redirects = body.get("redirect_uris")
    if (
        not isinstance(redirects, list)
        or not redirects
        or not all(isinstance(u, str) for u in redirects)
    ):
        raise RegistrationRefused("redirect_uris must be a non-empty list of URLs")
    tool = body.get(TOOL_CONFIGURATION)
    if not isinstance(tool, dict):
        raise RegistrationRefused(f"{TOOL_CONFIGURATION} is required")
    domain = tool.get("domain")
    if not isinstance(domain, str) or not domain:
        raise RegistrationRefused("the tool configuration's domain is required")
    target = tool.get("target_link_uri")
    if not isinstance(target, str) or not target:
        raise RegistrationRefused("the tool configuration's target_link_uri is required")
    # Section 3.2: the tool's URLs must live on its declared domain.
    for url in (body["initiate_login_uri"], target, *redirects):
        if urlsplit(url).netloc != domain:
            raise RegistrationRefused(f"{url} is not on the tool's domain {domain}")
    messages = tool.get("messages", [])
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and m.get("type") in MESSAGE_TYPES for m in messages
    ):
        raise RegistrationRefused("messages must name supported LTI message types")
    scopes = str(body.get("scope", "")).split()
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise RegistrationRefused(f"scopes not offered: {', '.join(unknown)}")
    return RegisteredClient(
        client_id="",
        deployment_id="",
        initiate_login_uri=body["initiate_login_uri"],
        redirect_uris=tuple(redirects),
        jwks_uri=body["jwks_uri"],
        target_link_uri=target,
        client_name=body["client_name"],
    )


def install(app: Flask, clients: RegisteredClients, *, base_url: str) -> None:
    """Add the Dynamic Registration routes to the demo LMS."""

    @app.get("/.well-known/openid-configuration")
    def configuration() -> Response:
        return jsonify(openid_configuration(base_url))

    @app.get("/register-tool")
    def start_registration() -> Response:
        """What an administrator's "Add LTI Advantage" does: open the tool's registration
        URL with our configuration URL and a fresh one-time token (DR 1.0 section 3.3)."""
        tool_url = request.args.get("url", "")
        if urlsplit(tool_url).scheme not in ("http", "https"):
            abort(400, "url must be the tool's registration URL")
        params = {
            "openid_configuration": base_url + "/.well-known/openid-configuration",
            "registration_token": clients.issue_token(),
        }
        joiner = "&" if urlsplit(tool_url).query else "?"
        return redirect(tool_url + joiner + urlencode(params))

    @app.post("/register")
    def register() -> tuple[Response, int] | Response:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return jsonify(error="invalid_token", error_description="bearer token missing"), 401
        try:
            clients.spend_token(header.removeprefix("Bearer ").strip())
        except RegistrationRefused as err:
            return jsonify(error="invalid_token", error_description=str(err)), 401
        try:
            checked = check_request(request.get_json(silent=True))
        except RegistrationRefused as err:
            return jsonify(error="invalid_client_metadata", error_description=str(err)), 400
        body = dict(request.get_json())
        client = RegisteredClient(
            **{
                **asdict(checked),
                "client_id": "dr-" + secrets.token_hex(6),
                "deployment_id": "dr-deployment-" + secrets.token_hex(4),
            }
        )
        clients.add(client)
        # Section 3.6: the request echoed back with the client id and our deployment.
        answer = {**body, "client_id": client.client_id}
        answer[TOOL_CONFIGURATION] = {
            **body[TOOL_CONFIGURATION],
            "deployment_id": client.deployment_id,
        }
        return jsonify(answer)

    @app.get("/dr/launch/<client_id>/<login>/<link>")
    def launch_registered(client_id: str, login: str, link: str) -> Response:
        """A third-party initiated login (LTI 1.3 section 4.1) for a DR-registered client."""
        client = clients.get(client_id)
        if client is None:
            abort(404)
        params = {
            "iss": base_url,
            "login_hint": login,
            "target_link_uri": client.target_link_uri,
            "lti_message_hint": link,
            "client_id": client.client_id,
            "lti_deployment_id": client.deployment_id,
        }
        return redirect(client.initiate_login_uri + "?" + urlencode(params))
