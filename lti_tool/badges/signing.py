"""VC-JWT (OB 3.0 section 8.2): the credential as the JWT payload, signed RS256 as a Compact JWS.

The JOSE header holds only ``alg``, ``kid`` and ``typ`` (8.2.3 allows no others); ``kid`` is a
URL that answers with the public JWK. The payload is the credential itself, its members at the
top level, plus the registered claims 8.2.4 maps from it: iss, jti, nbf, sub (no ``exp``: our
credentials have no ``validUntil``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from lti_tool.badges.errors import CredentialInvalidError

#: RS256 is the one algorithm OB 3.0 requires every verifier to support (8.2.3).
ALGORITHM = "RS256"


def _numeric_date(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())


def jwt_claims(credential: dict[str, Any]) -> dict[str, Any]:
    """The JWT payload: the credential plus the claims mapped from it."""
    payload = dict(credential)
    issuer = credential["issuer"]
    # The issuer is a Profile object in badges, a bare URL in the status list credential.
    payload["iss"] = issuer if isinstance(issuer, str) else issuer["id"]
    payload["jti"] = credential["id"]
    payload["nbf"] = _numeric_date(credential["validFrom"])
    payload["sub"] = credential["credentialSubject"]["id"]
    return payload


def sign_credential(credential: dict[str, Any], *, private_key_pem: str, kid_url: str) -> str:
    """The Compact JWS of ``credential``."""
    key = jwk.JWK.from_pem(private_key_pem.encode())
    token = jws.JWS(json.dumps(jwt_claims(credential), separators=(",", ":"), ensure_ascii=False))
    token.add_signature(
        key,
        alg=ALGORITHM,
        protected=json.dumps({"alg": ALGORITHM, "kid": kid_url, "typ": "JWT"}),
    )
    return str(token.serialize(compact=True))


def unverified_kid(compact: str) -> str:
    """The ``kid`` of a Compact JWS, to find the key it claims; CredentialInvalidError if none."""
    token = jws.JWS()
    try:
        token.deserialize(compact)
        header = token.jose_header
    except (JWException, ValueError) as err:
        raise CredentialInvalidError("not a Compact JWS") from err
    kid = header.get("kid") if isinstance(header, dict) else None
    if not isinstance(kid, str):
        raise CredentialInvalidError("the JOSE header names no kid")
    return kid


def verify_credential(
    compact: str, public_jwk: dict[str, Any], *, now: datetime | None = None
) -> dict[str, Any]:
    """Check the signature and the claim mapping (OB 3.0 8.2.6); the credential if they hold."""
    token = jws.JWS()
    try:
        token.deserialize(compact)
        token.verify(jwk.JWK(**public_jwk), alg=ALGORITHM)
        payload = json.loads(token.payload)
    except (JWException, ValueError) as err:
        raise CredentialInvalidError("the signature does not verify") from err
    if not isinstance(payload, dict):
        raise CredentialInvalidError("the payload is not a credential")
    try:
        expected = jwt_claims({k: v for k, v in payload.items() if k not in _CLAIMS})
    except (KeyError, TypeError, ValueError) as err:
        raise CredentialInvalidError(
            "the credential lacks issuer, id, validFrom or subject"
        ) from err
    for claim in _CLAIMS:
        if payload.get(claim) != expected[claim]:
            raise CredentialInvalidError(f"the {claim} claim does not match the credential")
    if payload["nbf"] > int((now or datetime.now(UTC)).timestamp()):
        raise CredentialInvalidError("the credential is not valid yet")
    return {k: v for k, v in payload.items() if k not in _CLAIMS}


_CLAIMS = ("iss", "jti", "nbf", "sub")
