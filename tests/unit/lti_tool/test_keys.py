"""The tool's signing keys: encryption at rest, the public JWKS, and staged rotation."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import KeyStoreError
from lti_tool.services import Services
from lti_tool.store import keys
from lti_tool.store.db import transaction
from lti_tool.store.models import KeyStatus, ToolKey

SECRET = "unit-test-key-secret"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
LEAD = timedelta(hours=24)
OVERLAP = timedelta(days=7)
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def rotate(session: Session, at: datetime, *, force: bool = False) -> keys.RotationStep:
    return keys.rotate_keys(
        session, SECRET, publish_lead=LEAD, overlap=OVERLAP, now=at, force=force
    )


def published_kids(session: Session, at: datetime) -> list[str]:
    return [k["kid"] for k in keys.public_jwks(session, now=at)["keys"]]


def signing_kid(session: Session) -> str:
    return keys.require_signing_key(session, SECRET).kid


def statuses(session: Session) -> dict[str, KeyStatus]:
    return {k.kid: k.status for k in keys.list_keys(session)}


def b64url_int(value: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)), "big")


def rfc7638_thumbprint(jwk: dict[str, Any]) -> str:
    required = json.dumps({m: jwk[m] for m in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(required.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def stored_ciphertext(session: Session, kid: str) -> str:
    # Read the column as the database holds it, not through the ORM object.
    return session.execute(
        text("SELECT private_key_encrypted FROM tool_key WHERE kid = :kid"), {"kid": kid}
    ).scalar_one()


# --- the first key -----------------------------------------------------------------------


def test_ensure_active_key_creates_exactly_one_active_key(session: Session) -> None:
    key = keys.ensure_active_key(session, SECRET, now=T0)

    assert statuses(session) == {key.kid: KeyStatus.ACTIVE}
    assert key.activated_at == T0


def test_ensure_active_key_is_idempotent(session: Session) -> None:
    first = keys.ensure_active_key(session, SECRET)
    again = keys.ensure_active_key(session, SECRET)

    assert again.kid == first.kid
    assert session.scalar(select(func.count()).select_from(ToolKey)) == 1


def test_there_is_no_signing_key_before_the_first_is_made(session: Session) -> None:
    with pytest.raises(KeyStoreError, match="no active tool key"):
        keys.require_signing_key(session, SECRET)


# --- encryption at rest ------------------------------------------------------------------


def test_the_private_key_is_stored_encrypted(session: Session) -> None:
    key = keys.ensure_active_key(session, SECRET)
    pem = keys.require_signing_key(session, SECRET).private_key_pem

    stored = stored_ciphertext(session, key.kid)
    body = "".join(pem.strip().splitlines()[1:-1])
    assert pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert "PRIVATE KEY" not in stored
    assert body not in stored
    assert body[:64] not in stored


def test_the_decrypted_private_key_matches_the_published_public_key(session: Session) -> None:
    keys.ensure_active_key(session, SECRET)
    signing = keys.require_signing_key(session, SECRET)

    private = serialization.load_pem_private_key(signing.private_key_pem.encode(), None)
    assert isinstance(private, rsa.RSAPrivateKey)
    numbers = private.public_key().public_numbers()
    assert b64url_int(signing.public_jwk["n"]) == numbers.n
    assert b64url_int(signing.public_jwk["e"]) == numbers.e
    assert signing.kid == rfc7638_thumbprint(signing.public_jwk)


def test_a_wrong_secret_cannot_decrypt_and_says_why(session: Session) -> None:
    keys.ensure_active_key(session, SECRET)

    with pytest.raises(KeyStoreError) as refused:
        keys.require_signing_key(session, "some-other-secret")

    assert "cannot be decrypted" in str(refused.value)
    assert "CXA_KEY_ENCRYPTION_SECRET" in str(refused.value)


# --- the public JWKS ---------------------------------------------------------------------


def test_the_jwks_publishes_the_public_half_only(session: Session) -> None:
    key = keys.ensure_active_key(session, SECRET)

    (published,) = keys.public_jwks(session)["keys"]

    assert published["kid"] == key.kid
    assert published["alg"] == "RS256"
    assert published["use"] == "sig"
    assert published["kty"] == "RSA"
    assert published["e"] == "AQAB"
    assert len(published["n"]) > 300  # a 2048-bit modulus, base64url
    assert PRIVATE_MEMBERS.isdisjoint(published)


# --- rotation ----------------------------------------------------------------------------


def test_the_first_rotate_publishes_a_next_key_that_does_not_sign_yet(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid

    step = rotate(session, T0)

    assert step.action == "published"
    assert step.ready_at == T0 + LEAD
    assert step.kid != old
    assert published_kids(session, T0) == [old, step.kid]
    assert signing_kid(session) == old
    assert statuses(session) == {old: KeyStatus.ACTIVE, step.kid: KeyStatus.NEXT}


def test_a_rotate_before_the_publish_lead_waits_and_changes_nothing(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid
    new = rotate(session, T0).kid
    before = statuses(session)

    step = rotate(session, T0 + LEAD - timedelta(seconds=1))

    assert step.action == "waiting"
    assert step.kid == new
    assert step.ready_at == T0 + LEAD
    assert statuses(session) == before
    assert signing_kid(session) == old


def test_a_rotate_after_the_lead_activates_the_next_key(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid
    new = rotate(session, T0).kid

    step = rotate(session, T0 + LEAD)

    assert step.action == "activated"
    assert step.kid == new
    assert signing_kid(session) == new
    assert statuses(session) == {old: KeyStatus.RETIRING, new: KeyStatus.ACTIVE}
    # Platforms that cached the old key can still verify what it signed.
    assert published_kids(session, T0 + LEAD) == [old, new]
    retiring = session.scalars(select(ToolKey).where(ToolKey.kid == old)).one()
    assert retiring.retire_after == T0 + LEAD + OVERLAP


def test_the_old_key_leaves_the_jwks_after_the_overlap(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid
    new = rotate(session, T0).kid
    rotate(session, T0 + LEAD)
    end_of_overlap = T0 + LEAD + OVERLAP

    assert old in published_kids(session, end_of_overlap - timedelta(seconds=1))
    # Even before the sweep runs, an expired RETIRING key is no longer published...
    assert published_kids(session, end_of_overlap) == [new]
    # ...and the sweep marks it RETIRED.
    assert keys.retire_expired_keys(session, end_of_overlap) == (old,)
    assert statuses(session) == {old: KeyStatus.RETIRED, new: KeyStatus.ACTIVE}
    assert keys.retire_expired_keys(session, end_of_overlap) == ()


def test_the_next_rotate_after_the_overlap_retires_the_old_key(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid
    middle = rotate(session, T0).kid
    rotate(session, T0 + LEAD)
    later = T0 + LEAD + OVERLAP + timedelta(hours=1)

    step = rotate(session, later)

    assert step.action == "published"
    assert step.retired == (old,)
    assert statuses(session)[old] is KeyStatus.RETIRED
    assert published_kids(session, later) == [middle, step.kid]


def test_force_activates_the_next_key_without_waiting(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid
    new = rotate(session, T0).kid

    step = rotate(session, T0 + timedelta(minutes=1), force=True)

    assert step.action == "activated"
    assert signing_kid(session) == new
    assert statuses(session) == {old: KeyStatus.RETIRING, new: KeyStatus.ACTIVE}


def test_force_still_publishes_first_when_no_key_is_waiting(session: Session) -> None:
    old = keys.ensure_active_key(session, SECRET, now=T0).kid

    step = rotate(session, T0, force=True)

    assert step.action == "published"
    assert signing_kid(session) == old


# --- the JWKS endpoint -------------------------------------------------------------------


def test_the_jwks_endpoint_serves_the_published_set_with_a_max_age(
    client: FlaskClient, services: Services
) -> None:
    secret = services.settings.key_encryption_secret
    with transaction(services.sessions) as session:
        keys.rotate_keys(session, secret, publish_lead=LEAD, overlap=OVERLAP)
    with services.sessions() as session:
        expected = keys.public_jwks(session)

    for path in ("/.well-known/jwks.json", "/lti/jwks"):
        response = client.get(path)

        assert response.status_code == 200
        assert response.is_json
        assert response.get_json() == expected
        assert len(expected["keys"]) == 2
        assert response.cache_control.max_age == 300
        assert response.cache_control.public is True


# --- exactly one ACTIVE key ----------------------------------------------------------------


def test_the_database_refuses_a_second_active_key(session: Session) -> None:
    keys.ensure_active_key(session, SECRET, now=T0)
    # What a second process starting at the same moment would try to write.
    session.add(keys._new_key(SECRET, KeyStatus.ACTIVE, T0))

    with pytest.raises(IntegrityError):
        session.flush()


def test_rotation_activates_a_next_key_with_a_lower_id_than_the_active_one(
    session: Session,
) -> None:
    # A NEXT key that was written before the ACTIVE one: the swap must still demote first.
    pending = keys._new_key(SECRET, KeyStatus.NEXT, T0)
    session.add(pending)
    session.flush()
    old = keys.ensure_active_key(session, SECRET, now=T0).kid

    step = rotate(session, T0 + LEAD)

    assert step.action == "activated"
    assert step.kid == pending.kid
    assert statuses(session) == {pending.kid: KeyStatus.ACTIVE, old: KeyStatus.RETIRING}
    assert signing_kid(session) == pending.kid
