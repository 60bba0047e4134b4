"""The badges package on its own: credential shape, VC-JWT, baking and the status list,
each checked with code that is not ours (tests/fixtures/openbadges.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwcrypto.jwk import JWK

from lti_tool.badges.artwork import badge_png, badge_svg
from lti_tool.badges.baking import bake_png, bake_svg, extract_png, extract_svg
from lti_tool.badges.credential import (
    AchievementDefinition,
    IssuerProfile,
    Recipient,
    SkillAlignment,
    StatusEntry,
    build_credential,
    identity_hash,
)
from lti_tool.badges.errors import BakingError, CredentialInvalidError
from lti_tool.badges.signing import sign_credential, verify_credential
from lti_tool.badges.status_list import encode_list, status_list_credential
from tests.fixtures.openbadges import (
    jsonld_dropped,
    png_credential,
    schema_errors,
    status_bit,
    svg_credential,
    verify_vc_jwt,
)

BASE = "https://academy.example.org/badges"
KID_URL = f"{BASE}/keys/k1"
ISSUER = IssuerProfile(id=f"{BASE}/issuer", name="Acme Support", url="https://acme.example.org")
AWARDED = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def keypair() -> tuple[str, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = json.loads(JWK.from_pem(pem).export_public())
    return pem.decode(), public


def credential(**changes: Any) -> dict[str, Any]:
    achievement = AchievementDefinition(
        id=f"{BASE}/achievements/goal-name-the-impact",
        name="Name the impact on the customer",
        description="Acknowledge what the problem means for this customer.",
        criteria="Reach 8 of 10 sampled contacts.",
        image_url=f"{BASE}/images/empathy.svg",
        skill=SkillAlignment(code="empathy", name="Empathy", url=f"{BASE}/skills/empathy"),
    )
    values: dict[str, Any] = {
        "credential_id": f"{BASE}/0b6c3e1e-7a7e-4a55-9d4c-1d2b5c3a4f10",
        "issuer": ISSUER,
        "achievement": achievement,
        "recipient": Recipient(
            subject_id="urn:uuid:5f1d0a6e-3b7c-4c2d-8e9f-0a1b2c3d4e5f",
            lti_user_id="lms-user-42",
            salt="pepper",
        ),
        "awarded": AWARDED,
        "status": StatusEntry(list_url=f"{BASE}/status/revocation", index=7),
        "image_url": f"{BASE}/images/empathy.svg",
    }
    values.update(changes)
    return build_credential(**values)


def test_credential_conforms_to_the_ob3_json_schema() -> None:
    document = credential()
    assert schema_errors(document) == []
    assert document["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    # DateTimeZ: UTC with the trailing Z, no fraction.
    assert document["validFrom"] == "2026-03-02T09:30:15Z"


def test_every_term_is_defined_by_the_vc_and_ob_contexts() -> None:
    # A JSON-LD verifier silently drops undefined terms; pyld with the bundled contexts
    # must keep every value of the credential.
    assert jsonld_dropped(credential()) == 0
    undefined = credential()
    undefined["credentialSubject"]["shoeSize"] = "42"
    assert jsonld_dropped(undefined) == 1


def test_the_schema_check_can_fail() -> None:
    broken = credential()
    del broken["credentialSubject"]["achievement"]["criteria"]
    broken["credentialSubject"]["identifier"][0]["identityType"] = "shoeSize"
    assert len(schema_errors(broken)) == 2


def test_recipient_is_a_salted_hash_of_the_lti_user_id_only() -> None:
    subject = credential()["credentialSubject"]
    (identity,) = subject["identifier"]
    assert identity == {
        "type": "IdentityObject",
        "identityHash": identity_hash("lms-user-42", "pepper"),
        "identityType": "ltiUserId",
        "hashed": True,
        "salt": "pepper",
    }
    # OB 3.0's own example: sha256 of "a@example.com" salted with "Kosher".
    assert identity_hash("a@example.com", "Kosher") == (
        "sha256$b5809d8a92f8858436d7e6b87c12ebc0ae1eac4baecc2c0b913aee2c922ef399"
    )
    assert "lms-user-42" not in json.dumps(subject)


def test_skill_alignment_and_status_entry() -> None:
    document = credential()
    (alignment,) = document["credentialSubject"]["achievement"]["alignment"]
    assert alignment["targetName"] == "Empathy"
    assert alignment["targetUrl"] == f"{BASE}/skills/empathy"
    assert document["credentialStatus"] == {
        "id": f"{BASE}/status/revocation#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": f"{BASE}/status/revocation",
    }


def test_vc_jwt_verifies_with_pyjwt(keypair: tuple[str, dict[str, Any]]) -> None:
    pem, public = keypair
    compact = sign_credential(credential(), private_key_pem=pem, kid_url=KID_URL)
    payload = verify_vc_jwt(compact, public)
    assert jwt.get_unverified_header(compact) == {"alg": "RS256", "kid": KID_URL, "typ": "JWT"}
    assert payload["iss"] == ISSUER.id
    assert payload["nbf"] == int(datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC).timestamp())
    claims = {"iss", "jti", "nbf", "sub"}
    assert {k: v for k, v in payload.items() if k not in claims} == credential()


def test_a_tampered_credential_fails_both_verifiers(keypair: tuple[str, dict[str, Any]]) -> None:
    pem, public = keypair
    compact = sign_credential(credential(), private_key_pem=pem, kid_url=KID_URL)
    header, payload, signature = compact.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["credentialSubject"]["achievement"]["name"] = "Something grander"
    forged_payload = jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()
    forged = f"{header}.{forged_payload}.{signature}"
    with pytest.raises(jwt.InvalidSignatureError):
        verify_vc_jwt(forged, public)
    with pytest.raises(CredentialInvalidError):
        verify_credential(forged, public)


def test_another_key_does_not_verify(keypair: tuple[str, dict[str, Any]]) -> None:
    pem, _ = keypair
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other_pem = other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    other_public = json.loads(JWK.from_pem(other_pem).export_public())
    compact = sign_credential(credential(), private_key_pem=pem, kid_url=KID_URL)
    with pytest.raises(jwt.InvalidSignatureError):
        verify_vc_jwt(compact, other_public)


def test_our_verifier_refuses_a_credential_not_valid_yet(
    keypair: tuple[str, dict[str, Any]],
) -> None:
    pem, public = keypair
    compact = sign_credential(credential(), private_key_pem=pem, kid_url=KID_URL)
    assert verify_credential(compact, public)["id"] == credential()["id"]
    with pytest.raises(CredentialInvalidError, match="not valid yet"):
        verify_credential(compact, public, now=AWARDED - timedelta(days=1))


def test_png_baking_round_trip(keypair: tuple[str, dict[str, Any]]) -> None:
    pem, public = keypair
    compact = sign_credential(credential(), private_key_pem=pem, kid_url=KID_URL)
    baked = bake_png(badge_png("empathy"), compact)
    assert png_credential(baked) == compact
    assert extract_png(baked) == compact
    verify_vc_jwt(png_credential(baked), public)
    # Baking again replaces the chunk: never two credentials in one image.
    assert png_credential(bake_png(baked, "a.b.c")) == "a.b.c"


def test_svg_baking_round_trip(keypair: tuple[str, dict[str, Any]]) -> None:
    pem, _ = keypair
    compact = sign_credential(credential(), private_key_pem=pem, kid_url=KID_URL)
    baked = bake_svg(badge_svg("Empathy & more", "empathy"), compact)
    assert svg_credential(baked) == compact
    assert extract_svg(baked) == compact
    with pytest.raises(BakingError):
        bake_svg(baked, compact)


def test_reading_images_without_a_credential() -> None:
    with pytest.raises(BakingError):
        extract_png(badge_png(None))
    with pytest.raises(BakingError):
        extract_png(b"GIF89a")
    with pytest.raises(BakingError):
        extract_svg(badge_svg("x", None))


def test_status_list_sets_exactly_the_revoked_bits() -> None:
    encoded = encode_list([0, 9, 131071])
    assert [status_bit(encoded, i) for i in (0, 1, 8, 9, 10, 131071)] == [
        True, False, False, True, False, True,
    ]  # fmt: skip
    assert not any(status_bit(encode_list([]), i) for i in range(64))


def test_status_list_credential_verifies(keypair: tuple[str, dict[str, Any]]) -> None:
    pem, public = keypair
    document = status_list_credential(
        list_url=f"{BASE}/status/revocation", issuer=ISSUER, revoked=[3], now=AWARDED
    )
    compact = sign_credential(document, private_key_pem=pem, kid_url=KID_URL)
    payload = verify_vc_jwt(compact, public)
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = payload["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    assert jsonld_dropped(document) == 0
    assert status_bit(subject["encodedList"], 3)
    assert not status_bit(subject["encodedList"], 2)
