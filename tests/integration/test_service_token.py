"""The tool's signing key, seen from a platform: a client-credentials token (IMS Security
Framework 4.1) that the demo LMS grants only to an assertion it can verify against the
tool's published JWKS. AGS and NRPS calls will ride on this token."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pylti1p3.registration import Registration

from lti_tool.app import create_app
from lti_tool.demo.lms import (
    CLIENT_ID,
    JWT_BEARER,
    DemoLMSConfig,
    create_demo_lms,
    register_with_tool,
)
from lti_tool.demo.ralph import free_port
from lti_tool.lti.service_token import CachedServiceConnector
from lti_tool.lti.tool_conf import DbToolConf
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.keys import require_signing_key
from lti_tool.store.migrate import upgrade
from tests.conftest import embedded_settings
from tests.fixtures.servers import serve

pytestmark = pytest.mark.integration

AGS_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"


@dataclass
class Pair:
    services: Services
    lms: DemoLMSConfig

    @property
    def token_url(self) -> str:
        return self.lms.base_url + "/token"

    def registration(self) -> Registration:
        with self.services.sessions() as session:
            key = require_signing_key(session, self.services.settings.key_encryption_secret)
            return DbToolConf(session, key).find_registration_by_params(self.lms.issuer, CLIENT_ID)

    def assertion(self, **changes: object) -> str:
        with self.services.sessions() as session:
            key = require_signing_key(session, self.services.settings.key_encryption_secret)
        now = int(time.time())
        claims = {
            "iss": CLIENT_ID, "sub": CLIENT_ID, "aud": self.token_url,
            "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()), **changes,
        }  # fmt: skip
        return jwt.encode(claims, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})

    def ask(self, assertion: str) -> requests.Response:
        return requests.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": JWT_BEARER,
                "client_assertion": assertion,
                "scope": AGS_SCORE,
            },
            timeout=10,
        )


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    tool_port, lms_port = free_port(), free_port()
    settings = embedded_settings(tmp_path, base_url=f"http://127.0.0.1:{tool_port}")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    lms = DemoLMSConfig(f"http://127.0.0.1:{lms_port}", settings.base_url, tmp_path / "lms")
    services = Services.build(settings)
    with transaction(services.sessions) as session:
        register_with_tool(session, lms)
    try:
        with (
            serve(create_app(services=services), port=tool_port),
            serve(create_demo_lms(lms), port=lms_port),
        ):
            yield Pair(services, lms)
    finally:
        services.close()


def test_the_tool_gets_a_token_signed_by_the_platform_and_reuses_it(pair: Pair) -> None:
    connector = CachedServiceConnector(pair.registration(), pair.services.state)
    token = connector.get_access_token([AGS_SCORE])
    # A second call within the token's life is answered from the cache, not the platform.
    assert connector.get_access_token([AGS_SCORE]) == token
    lms_keys = requests.get(pair.lms.base_url + "/jwks", timeout=10).json()["keys"]
    public = jwt.PyJWK(lms_keys[0]).key
    claims = jwt.decode(token, public, algorithms=["RS256"])
    assert claims["sub"] == CLIENT_ID


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"aud": "https://elsewhere.example/token"}, "aud must be this token endpoint"),
        ({"iss": "someone-else"}, "iss and sub"),
        ({"exp": int(time.time()) - 120, "iat": int(time.time()) - 180}, "refused"),
    ],
)
def test_bad_assertions_get_no_token(pair: Pair, changes: dict[str, object], words: str) -> None:
    answer = pair.ask(pair.assertion(**changes))
    assert answer.status_code == 401
    assert words in answer.json()["error_description"]


def test_an_assertion_is_good_once(pair: Pair) -> None:
    assertion = pair.assertion()
    assert pair.ask(assertion).status_code == 200
    again = pair.ask(assertion)
    assert again.status_code == 401
    assert "already used" in again.json()["error_description"]


def test_an_assertion_signed_with_an_unpublished_key_is_refused(pair: Pair) -> None:
    stranger = jwt.encode(
        {"iss": CLIENT_ID, "sub": CLIENT_ID, "aud": pair.token_url, "jti": "x",
         "iat": int(time.time()), "exp": int(time.time()) + 60},
        _throwaway_key(), algorithm="RS256", headers={"kid": "not-published"},
    )  # fmt: skip
    assert pair.ask(stranger).status_code == 401


def _throwaway_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
