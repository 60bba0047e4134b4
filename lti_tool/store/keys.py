"""The tool's RSA keys: generation, encryption at rest, the public JWKS and rotation.

Rotation has three stages so that no platform ever sees a signature it cannot check:
a new key is first published as NEXT (in the JWKS, signing nothing); once it has been
public for the publish lead it becomes ACTIVE and the old key turns RETIRING; a RETIRING
key stays in the JWKS for the overlap window and is then RETIRED (dropped).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from jwcrypto.jwk import JWK
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from lti_tool.errors import KeyStoreError
from lti_tool.store.models import KeyStatus, ToolKey, utcnow

PUBLISHED = (KeyStatus.NEXT, KeyStatus.ACTIVE, KeyStatus.RETIRING)


def _fernet(secret: str) -> Fernet:
    # HKDF turns any configured secret into a 32-byte Fernet key; the info string pins the use.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"cxa tool keys v1").derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal_private_key(secret: str, pem: bytes) -> str:
    """A private key encrypted at rest the way the tool keys are (other key tables share it)."""
    return _fernet(secret).encrypt(pem).decode()


def open_private_key(secret: str, sealed: str) -> str:
    """The PEM back; KeyStoreError if CXA_KEY_ENCRYPTION_SECRET is not the one that sealed it."""
    try:
        return _fernet(secret).decrypt(sealed.encode()).decode()
    except InvalidToken as err:
        raise KeyStoreError(
            "a private key cannot be decrypted: CXA_KEY_ENCRYPTION_SECRET changed?"
        ) from err


@dataclass(frozen=True)
class SealedKeyPair:
    """A new RS256 key: its kid, the private half sealed for storage, the public JWK."""

    kid: str
    private_key_encrypted: str
    public_jwk: dict[str, Any]


def new_sealed_key_pair(secret: str) -> SealedKeyPair:
    """A fresh RSA-2048 signing key, shared by the tool keys and the badge issuer keys."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    jwk = JWK.from_pem(pem)
    # RFC 7638 thumbprint: a kid derived from the key itself, stable and collision-free.
    kid = jwk.thumbprint()
    public = json.loads(jwk.export_public())
    # Canvas refuses keys without kid, alg and use.
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    return SealedKeyPair(kid, seal_private_key(secret, pem), public)


def _new_key(secret: str, status: KeyStatus, now: datetime) -> ToolKey:
    pair = new_sealed_key_pair(secret)
    return ToolKey(
        kid=pair.kid,
        status=status,
        private_key_encrypted=pair.private_key_encrypted,
        public_jwk=pair.public_jwk,
        created_at=now,
        activated_at=now if status is KeyStatus.ACTIVE else None,
    )


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key_pem: str
    public_jwk: dict[str, Any]

    @property
    def public_key_pem(self) -> str:
        private = serialization.load_pem_private_key(self.private_key_pem.encode(), password=None)
        return (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )


def _active_key(session: Session) -> ToolKey | None:
    # The unique index allows one ACTIVE key; the order keeps the choice deterministic even on
    # a database that predates it (migration 0006 keeps the same, first, key).
    return session.scalars(
        select(ToolKey).where(ToolKey.status == KeyStatus.ACTIVE).order_by(ToolKey.id).limit(1)
    ).first()


def ensure_active_key(session: Session, secret: str, now: datetime | None = None) -> ToolKey:
    """The ACTIVE key, creating the first one on a fresh install.

    Several processes may start at once on an empty database; the partial unique index on
    ACTIVE lets one insert win, and the others take the winner's key.
    """
    key = _active_key(session)
    if key is not None:
        return key
    candidate = _new_key(secret, KeyStatus.ACTIVE, now or utcnow())
    try:
        # A savepoint, so losing the race leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(candidate)
    except IntegrityError:
        key = _active_key(session)
        if key is None:  # the winner rolled back: nothing to join, so say so
            raise
        return key
    return candidate


def require_signing_key(session: Session, secret: str) -> SigningKey:
    """The ACTIVE key decrypted; KeyStoreError if there is none or the secret is wrong."""
    key = _active_key(session)
    if key is None:
        raise KeyStoreError("no active tool key: run `cxa keys rotate` or start the app once")
    try:
        pem = _fernet(secret).decrypt(key.private_key_encrypted.encode()).decode()
    except InvalidToken as err:
        raise KeyStoreError(
            "the tool's private key cannot be decrypted: CXA_KEY_ENCRYPTION_SECRET changed?"
        ) from err
    return SigningKey(kid=key.kid, private_key_pem=pem, public_jwk=dict(key.public_jwk))


def list_keys(session: Session) -> list[ToolKey]:
    return list(session.scalars(select(ToolKey).order_by(ToolKey.id)))


def public_jwks(session: Session, now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """The JWK Set platforms fetch: NEXT, ACTIVE and not yet expired RETIRING keys."""
    now = now or utcnow()
    keys = session.scalars(
        select(ToolKey).where(ToolKey.status.in_(PUBLISHED)).order_by(ToolKey.id)
    )
    return {
        "keys": [
            dict(k.public_jwk)
            for k in keys
            if not (k.status is KeyStatus.RETIRING and k.retire_after and k.retire_after <= now)
        ]
    }


@dataclass(frozen=True)
class RotationStep:
    """What one call of rotate_keys did, for the CLI to report."""

    action: str  # "published", "activated", "waiting" or "nothing"
    kid: str | None
    retired: tuple[str, ...]
    ready_at: datetime | None = None


def rotate_keys(
    session: Session,
    secret: str,
    *,
    publish_lead: timedelta,
    overlap: timedelta,
    now: datetime | None = None,
    force: bool = False,
) -> RotationStep:
    """Advance rotation one stage (see the module docstring); safe to run on a schedule."""
    now = now or utcnow()
    retired = retire_expired_keys(session, now)
    pending = session.scalars(select(ToolKey).where(ToolKey.status == KeyStatus.NEXT)).first()
    if pending is None:
        key = _new_key(secret, KeyStatus.NEXT, now)
        session.add(key)
        session.flush()
        return RotationStep("published", key.kid, retired, ready_at=now + publish_lead)
    ready_at = pending.created_at + publish_lead
    if not force and now < ready_at:
        return RotationStep("waiting", pending.kid, retired, ready_at=ready_at)
    for old in session.scalars(select(ToolKey).where(ToolKey.status == KeyStatus.ACTIVE)):
        old.status = KeyStatus.RETIRING
        old.retire_after = now + overlap
    # Demote first, in a flush of its own: the unit of work orders UPDATEs by primary key, and
    # activating a lower-id key before the old one leaves ACTIVE would trip the unique index.
    session.flush()
    pending.status = KeyStatus.ACTIVE
    pending.activated_at = now
    session.flush()
    return RotationStep("activated", pending.kid, retired)


def retire_expired_keys(session: Session, now: datetime | None = None) -> tuple[str, ...]:
    """Drop RETIRING keys whose overlap window has passed; returns their kids."""
    now = now or utcnow()
    done = []
    for key in session.scalars(select(ToolKey).where(ToolKey.status == KeyStatus.RETIRING)):
        if key.retire_after is not None and key.retire_after <= now:
            key.status = KeyStatus.RETIRED
            done.append(key.kid)
    session.flush()
    return tuple(done)
