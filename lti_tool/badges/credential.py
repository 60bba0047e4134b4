"""The OpenBadgeCredential document (OB 3.0 section 4, VC Data Model 2.0): issuer, achievement,
recipient and status, as plain JSON-LD dictionaries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREDENTIAL_SCHEMA = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)


@dataclass(frozen=True)
class IssuerProfile:
    """The organisation running the tool, as the credential's ``issuer`` Profile names it."""

    id: str
    name: str
    url: str
    email: str = ""

    def as_json(self) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "id": self.id,
            "type": ["Profile"],
            "name": self.name,
            "url": self.url,
        }
        if self.email:
            profile["email"] = self.email
        return profile


@dataclass(frozen=True)
class SkillAlignment:
    """The skill an achievement is aligned to (OB 3.0 Alignment: targetName and targetUrl)."""

    code: str
    name: str
    url: str
    description: str = ""

    def as_json(self) -> dict[str, Any]:
        alignment: dict[str, Any] = {
            "type": ["Alignment"],
            "targetCode": self.code,
            "targetName": self.name,
            "targetUrl": self.url,
            "targetFramework": "CX Academy skills",
        }
        if self.description:
            alignment["targetDescription"] = self.description
        return alignment


@dataclass(frozen=True)
class AchievementDefinition:
    """What was achieved: one per goal template, or one per goal written from scratch."""

    id: str
    name: str
    description: str
    criteria: str
    image_url: str
    skill: SkillAlignment | None = None

    def as_json(self, issuer: IssuerProfile) -> dict[str, Any]:
        achievement: dict[str, Any] = {
            "id": self.id,
            "type": ["Achievement"],
            "achievementType": "Achievement",
            "name": self.name,
            "description": self.description,
            "criteria": {"narrative": self.criteria},
            "image": {"id": self.image_url, "type": "Image", "caption": self.name},
            "creator": issuer.as_json(),
        }
        if self.skill is not None:
            achievement["alignment"] = [self.skill.as_json()]
            achievement["tag"] = [self.skill.name]
        return achievement


def identity_hash(identity: str, salt: str) -> str:
    """OB 3.0 IdentityHash: ``sha256$`` and the hex digest of the identity followed by the salt."""
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def iso(moment: datetime) -> str:
    """DateTimeZ as OB 3.0 wants it: UTC, whole seconds, trailing ``Z``."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Recipient:
    """Who earned it, without personal data: an opaque subject id and a salted hash of the
    learner's LTI user id (OB 3.0 IdentityObject, identityType ``ltiUserId``)."""

    subject_id: str
    lti_user_id: str
    salt: str

    def identity(self) -> dict[str, Any]:
        return {
            "type": "IdentityObject",
            "identityHash": identity_hash(self.lti_user_id, self.salt),
            "identityType": "ltiUserId",
            "hashed": True,
            "salt": self.salt,
        }


@dataclass(frozen=True)
class StatusEntry:
    """Where a verifier finds whether this credential was revoked (Bitstring Status List)."""

    list_url: str
    index: int

    def as_json(self) -> dict[str, Any]:
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            # The Bitstring Status List spec makes the index a string of digits.
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


def build_credential(
    *,
    credential_id: str,
    issuer: IssuerProfile,
    achievement: AchievementDefinition,
    recipient: Recipient,
    awarded: datetime,
    status: StatusEntry,
    image_url: str,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential; VC-JWT signing wraps it unchanged."""
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.name,
        "description": achievement.description,
        "image": {"id": image_url, "type": "Image", "caption": achievement.name},
        "issuer": issuer.as_json(),
        "validFrom": iso(awarded),
        "awardedDate": iso(awarded),
        "credentialSubject": {
            "id": recipient.subject_id,
            "type": ["AchievementSubject"],
            "identifier": [recipient.identity()],
            "achievement": achievement.as_json(issuer),
        },
        "credentialStatus": status.as_json(),
        "credentialSchema": [{"id": CREDENTIAL_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
