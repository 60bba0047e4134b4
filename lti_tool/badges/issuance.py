"""From an issued-badge row to its signed credential: URLs, issuer, achievement, signature.

Every URL a credential names is under CXA_BASE_URL/badges/ and served by the tool itself
(web/badges.py), so a verifier can dereference the issuer, achievement, image, key and list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from content.catalog import Catalog
from lti_tool.badges.credential import (
    AchievementDefinition,
    IssuerProfile,
    Recipient,
    SkillAlignment,
    StatusEntry,
    build_credential,
)
from lti_tool.badges.errors import CredentialInvalidError
from lti_tool.badges.signing import sign_credential, unverified_kid, verify_credential
from lti_tool.badges.status_list import status_list_credential
from lti_tool.config import Settings
from lti_tool.store.badges import (
    IssuedBadge,
    get_issuer_public_jwk,
    require_issuer_key,
    revoked_indices,
    store_signature,
)

GENERIC_CRITERIA = (
    "Set a personal SMART goal in CX Academy (a specific action, a measurable target and a "
    "deadline) and reach its target before the deadline."
)


@dataclass(frozen=True)
class BadgeUrls:
    """Where the tool serves each part of a credential."""

    base: str

    @property
    def root(self) -> str:
        return self.base.rstrip("/") + "/badges"

    def credential(self, badge: IssuedBadge) -> str:
        return f"{self.root}/{badge.public_id}"

    @property
    def issuer(self) -> str:
        return f"{self.root}/issuer"

    def achievement(self, key: str) -> str:
        return f"{self.root}/achievements/{key}"

    def skill(self, skill: str) -> str:
        return f"{self.root}/skills/{skill}"

    def image(self, skill: str | None) -> str:
        return f"{self.root}/images/{skill or 'goal'}.svg"

    def key(self, kid: str) -> str:
        return f"{self.root}/keys/{kid}"

    @property
    def status_list(self) -> str:
        return f"{self.root}/status/revocation"


def issuer_profile(settings: Settings) -> IssuerProfile:
    urls = BadgeUrls(settings.base_url)
    return IssuerProfile(
        id=urls.issuer,
        name=settings.badge_issuer_name,
        url=settings.badge_issuer_url or settings.base_url,
        email=settings.badge_issuer_email,
    )


def achievement_for(
    key: str, goal_title: str, skill_id: str | None, catalog: Catalog, urls: BadgeUrls
) -> AchievementDefinition:
    """The template's achievement, or a generic one named after a goal set from scratch."""
    skill = catalog.get_skill(skill_id) if skill_id else None
    alignment = (
        SkillAlignment(
            code=skill.id,
            name=str(skill.name),
            url=urls.skill(skill.id),
            description=str(skill.description),
        )
        if skill is not None
        else None
    )
    template = catalog.get_goal_template(key)
    if template is not None:
        return AchievementDefinition(
            id=urls.achievement(template.id),
            name=str(template.title),
            description=f"{template.specific} {template.relevance}",
            criteria=(
                f"Reach the goal's target: {template.target:g} {template.unit}, measured as "
                f"{template.measure[0].lower()}{template.measure[1:]} "
                f"Check in on progress every {template.check_in_days} days."
            ),
            image_url=urls.image(template.skill),
            skill=alignment,
        )
    return AchievementDefinition(
        id=urls.achievement(key),
        name=f"Personal goal achieved: {goal_title}",
        description="A personal goal the learner set for themselves in CX Academy and reached.",
        criteria=GENERIC_CRITERIA,
        image_url=urls.image(skill.id if skill is not None else None),
        skill=alignment,
    )


def credential_of(badge: IssuedBadge, settings: Settings, catalog: Catalog) -> dict[str, Any]:
    urls = BadgeUrls(settings.base_url)
    achievement = achievement_for(
        badge.achievement_key, badge.achievement_name, badge.skill, catalog, urls
    )
    return build_credential(
        credential_id=urls.credential(badge),
        issuer=issuer_profile(settings),
        achievement=achievement,
        recipient=Recipient(
            subject_id=f"urn:uuid:{badge.subject_id}",
            lti_user_id=badge.sub,
            salt=badge.identity_salt,
        ),
        awarded=badge.issued_at,
        status=StatusEntry(list_url=urls.status_list, index=badge.status_index),
        image_url=achievement.image_url,
    )


def require_signed(
    session: Session, badge: IssuedBadge, settings: Settings, catalog: Catalog, *, now: datetime
) -> str:
    """The badge's Compact JWS, signing and storing it on first use."""
    if badge.credential_jws is not None:
        return badge.credential_jws
    kid, pem = require_issuer_key(session, settings.key_encryption_secret, now=now)
    urls = BadgeUrls(settings.base_url)
    compact = sign_credential(
        credential_of(badge, settings, catalog), private_key_pem=pem, kid_url=urls.key(kid)
    )
    return store_signature(session, badge, compact, kid)


def check_signed(session: Session, compact: str, settings: Settings) -> dict[str, Any]:
    """Verify one of our credentials against our published key; CredentialInvalidError if not."""
    urls = BadgeUrls(settings.base_url)
    kid_url = unverified_kid(compact)
    prefix = urls.key("")
    if not kid_url.startswith(prefix):
        raise CredentialInvalidError("the credential was not signed by this issuer")
    public = get_issuer_public_jwk(session, kid_url[len(prefix) :])
    if public is None:
        raise CredentialInvalidError("the signing key is unknown")
    return verify_credential(compact, public)


def signed_status_list(session: Session, settings: Settings, *, now: datetime) -> str:
    """The revocation list credential, signed now (it changes whenever a badge is revoked)."""
    urls = BadgeUrls(settings.base_url)
    kid, pem = require_issuer_key(session, settings.key_encryption_secret, now=now)
    document = status_list_credential(
        list_url=urls.status_list,
        issuer=issuer_profile(settings),
        revoked=revoked_indices(session),
        now=now,
    )
    return sign_credential(document, private_key_pem=pem, kid_url=urls.key(kid))
