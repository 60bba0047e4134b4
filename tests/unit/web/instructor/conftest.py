"""Deep Linking fixtures: an instructor's content picker opened by a signed request."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from lti_tool.store.keys import public_jwks
from tests.fixtures.platform import CLAIM, ROLE, TestPlatform

DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RETURN_URL = "https://lms.example.test/deep-link/return?course=7"
_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
_JWT = re.compile(r'name="JWT" value="([^"]+)"')
_ACTION = re.compile(r'<form id="deep-link-return" method="post" action="([^"]+)"')


def dl_settings(**changes: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "deep_link_return_url": RETURN_URL,
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["iframe", "window"],
        "accept_multiple": True,
        "accept_lineitem": True,
        "data": {"opaque": ["kept", 1]},
    }
    settings.update(changes)
    return {k: v for k, v in settings.items() if v is not None}


def deep_link_launch(
    client: FlaskClient,
    platform: TestPlatform,
    *,
    roles: list[str] | None = None,
    settings: dict[str, Any] | None = None,
    sub: str = "teacher-1",
) -> Any:
    """The whole OIDC flow for an LtiDeepLinkingRequest; returns the tool's response."""
    redirect = platform.login(client)
    claims = platform.claims(redirect.nonce, sub=sub)
    claims[CLAIM + "message_type"] = "LtiDeepLinkingRequest"
    claims[CLAIM + "roles"] = roles if roles is not None else [ROLE + "Instructor"]
    del claims[CLAIM + "resource_link"]
    claims[DL_CLAIM + "deep_linking_settings"] = settings if settings is not None else dl_settings()
    return client.post(
        "/lti/launch", data={"id_token": platform.sign(claims), "state": redirect.state}
    )


@dataclass
class Returned:
    """The auto-submitting page that carries the response back to the platform."""

    status: int
    action: str
    token: str
    headers: Any

    def claims(self, jwks: dict[str, Any], audience: str) -> dict[str, Any]:
        """The response verified as a platform verifies it: by the kid in the published JWKS."""
        kid = jwt.get_unverified_header(self.token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        return jwt.decode(self.token, jwt.PyJWK(key).key, algorithms=["RS256"], audience=audience)


@dataclass
class Picker:
    client: FlaskClient
    path: str
    csrf: str

    def page(self, **query: str) -> Any:
        return self.client.get(self.path, query_string=query)

    def post(self, fields: list[tuple[str, str]], *, csrf: bool = True) -> Any:
        data = list(fields) + ([("csrf_token", self.csrf)] if csrf else [])
        return self.client.post(self.path, data=MultiDict(data))

    def choose(self, *activity_ids: str, **options: str) -> Any:
        """Tick activities; options are ``"quiz:x.pass_mark": "80"``-style keyword pairs."""
        fields = [("item", a) for a in activity_ids]
        fields += [(f"opt.{name}", value) for name, value in options.items()]
        return self.post([*fields, ("action", "place")])

    def cancel(self) -> Any:
        return self.post([("action", "cancel")])


def returned(response: Any) -> Returned:
    text = response.get_data(as_text=True)
    action, token = _ACTION.search(text), _JWT.search(text)
    assert action and token, text[:2000]
    return Returned(
        response.status_code, html.unescape(action.group(1)), token.group(1), response.headers
    )


def open_picker(client: FlaskClient, platform: TestPlatform, **kwargs: Any) -> Picker:
    response = deep_link_launch(client, platform, **kwargs)
    assert response.status_code == 303, response.get_data(as_text=True)
    path = urlsplit(response.headers["Location"]).path
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    match = _CSRF.search(page.get_data(as_text=True))
    assert match
    return Picker(client, path, match.group(1))


@pytest.fixture
def picker(client: FlaskClient, registered: TestPlatform) -> Picker:
    return open_picker(client, registered)


@pytest.fixture
def tool_jwks(app: Flask) -> dict[str, Any]:
    with app.extensions["cxa"].sessions() as session:
        return public_jwks(session)
