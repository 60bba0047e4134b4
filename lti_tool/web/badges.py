"""Open Badges on the web: the public verification page and JSON-LD documents a verifier
dereferences (issuer, achievement, skill, key, revocation list), and a learner's downloads.

Public pages show nothing personal: the recipient appears only as a salted hash.
Learner downloads live under /s/<token>/ and answer 404 for anyone else's badge.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template

from lti_tool.badges.artwork import badge_png, badge_svg
from lti_tool.badges.baking import bake_png, bake_svg
from lti_tool.badges.credential import OB_CONTEXT, VC_CONTEXT
from lti_tool.badges.errors import CredentialInvalidError
from lti_tool.badges.issuance import (
    BadgeUrls,
    achievement_for,
    check_signed,
    credential_of,
    issuer_profile,
    require_signed,
    signed_status_list,
)
from lti_tool.store import badges as store
from lti_tool.store.badges import IssuedBadge
from lti_tool.web.db import commit, db, services
from lti_tool.web.learner import catalog, open_visit

bp = Blueprint("badges", __name__)

_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,119}$")
_KID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
# The VC 2.0 media types (VC-JOSE-COSE 3.1.1 for the JWT; the JSON-LD one for documents).
VC_JWT = "application/vc+jwt"
JSON_LD = "application/ld+json"


def _public_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        abort(404)


def _json(document: dict[str, Any], mimetype: str = JSON_LD, *, cache: int = 300) -> Response:
    response = Response(json.dumps(document, indent=2, ensure_ascii=False), mimetype=mimetype)
    response.cache_control.public = True
    response.cache_control.max_age = cache
    return response


def _signed(badge: IssuedBadge) -> str:
    """The badge's JWS; the first request that needs it signs it and commits."""
    if badge.credential_jws is not None:
        return badge.credential_jws
    compact = require_signed(db(), badge, services().settings, catalog(), now=datetime.now(UTC))
    commit()
    return compact


@dataclass(frozen=True)
class Verification:
    """What the page says about one credential, and the credential it read."""

    verified: bool
    revoked: bool
    problem: str
    credential: dict[str, Any]


def _verify(badge: IssuedBadge, compact: str) -> Verification:
    revoked = badge.revoked_at is not None
    try:
        credential = check_signed(db(), compact, services().settings)
    except CredentialInvalidError as err:
        # Say what the stored credential claims if it still reads, else what we issued.
        try:
            claimed = json.loads(_payload(compact))
            _ = claimed["credentialSubject"]["achievement"]["name"], claimed["issuer"]["name"]
        except (ValueError, KeyError, TypeError, IndexError):
            claimed = credential_of(badge, services().settings, catalog())
        return Verification(False, revoked, str(err), claimed)
    return Verification(True, revoked, "", credential)


# --- public ---------------------------------------------------------------------------


@bp.get("/badges/<raw_id>")
def verify_page(raw_id: str) -> Response:
    badge = store.get_badge(db(), _public_id(raw_id))
    if badge is None:
        abort(404)
    result = _verify(badge, _signed(badge))
    credential = result.credential
    subject = credential["credentialSubject"]
    body = render_template(
        "badge_verify.html",
        badge=badge,
        result=result,
        # Shown as signed, not as the settings say today.
        issuer=credential["issuer"],
        achievement=subject["achievement"],
        identity=(subject.get("identifier") or [{}])[0],
        valid_from=credential.get("validFrom", ""),
        urls=BadgeUrls(services().settings.base_url),
    )
    response = Response(body, mimetype="text/html")
    # A verification page must say "revoked" the moment it is: never cached.
    response.headers["Cache-Control"] = "no-store"
    return response


def _payload(compact: str) -> str:
    body = compact.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


@bp.get("/badges/issuer")
def issuer_document() -> Response:
    profile = issuer_profile(services().settings).as_json()
    return _json({"@context": [VC_CONTEXT, OB_CONTEXT], **profile})


@bp.get("/badges/achievements/<key>")
def achievement_document(key: str) -> Response:
    if not _KEY.match(key):
        abort(404)
    found = catalog()
    settings = services().settings
    template = found.get_goal_template(key)
    if template is not None:
        # A template's achievement is published whether or not anyone has earned it yet.
        definition = achievement_for(key, "", template.skill, found, BadgeUrls(settings.base_url))
    else:
        badge = store.get_badge_by_achievement(db(), key)
        if badge is None:
            abort(404)
        definition = achievement_for(
            key, badge.achievement_name, badge.skill, found, BadgeUrls(settings.base_url)
        )
    achievement = definition.as_json(issuer_profile(settings))
    return _json({"@context": [VC_CONTEXT, OB_CONTEXT], **achievement})


@bp.get("/badges/skills/<skill_id>")
def skill_document(skill_id: str) -> Response:
    skill = catalog().get_skill(skill_id) if _KEY.match(skill_id) else None
    if skill is None:
        abort(404)
    return _json(
        {
            "id": BadgeUrls(services().settings.base_url).skill(skill.id),
            "name": str(skill.name),
            "description": str(skill.description),
            "framework": "CX Academy skills",
        },
        mimetype="application/json",
    )


@bp.get("/badges/images/<name>.svg")
def badge_image(name: str) -> Response:
    if name != "goal" and (not _KEY.match(name) or catalog().get_skill(name) is None):
        abort(404)
    skill = None if name == "goal" else catalog().get_skill(name)
    label = f"CX Academy badge: {skill.name}" if skill else "CX Academy badge: personal goal"
    response = Response(
        badge_svg(label, None if name == "goal" else name), mimetype="image/svg+xml"
    )
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/badges/keys/<kid>")
def issuer_key(kid: str) -> Response:
    """The public JWK a credential's ``kid`` names (OB 3.0 8.2.3: kid dereferences to a JWK)."""
    public = store.get_issuer_public_jwk(db(), kid) if _KID.match(kid) else None
    if public is None:
        abort(404)
    return _json(public, mimetype="application/jwk+json", cache=86400)


@bp.get("/badges/status/revocation")
def status_list() -> Response:
    compact = signed_status_list(db(), services().settings, now=datetime.now(UTC))
    commit()  # the first use may have created the issuer key
    response = Response(compact, mimetype=VC_JWT)
    # Short: a revocation must reach verifiers soon.
    response.cache_control.public = True
    response.cache_control.max_age = 60
    return response


# --- the learner's own ----------------------------------------------------------------


def _own(token: str, raw_id: str) -> IssuedBadge:
    visit = open_visit(token)
    badge = store.get_own_badge(db(), _public_id(raw_id), visit.learner)
    if badge is None:
        abort(404)
    return badge


@bp.get("/s/<token>/badges/")
def my_badges(token: str) -> str:
    visit = open_visit(token)
    badges = store.list_own_badges(db(), visit.learner)
    return render_template("badges_mine.html", badges=badges)


def _download(body: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/s/<token>/badges/<raw_id>.jwt")
def download_jwt(token: str, raw_id: str) -> Response:
    badge = _own(token, raw_id)
    # OB 3.0 5.1: a VC-JWT credential's file is the Compact JWS itself.
    return _download(_signed(badge), "text/plain", f"badge-{badge.public_id}.jwt")


@bp.get("/s/<token>/badges/<raw_id>.json")
def download_json(token: str, raw_id: str) -> Response:
    badge = _own(token, raw_id)
    compact = _signed(badge)
    document = {k: v for k, v in json.loads(_payload(compact)).items() if k not in _JWT_CLAIMS}
    return _download(
        json.dumps(document, indent=2, ensure_ascii=False), JSON_LD, f"badge-{badge.public_id}.json"
    )


_JWT_CLAIMS = ("iss", "jti", "nbf", "sub")


@bp.get("/s/<token>/badges/<raw_id>.svg")
def download_svg(token: str, raw_id: str) -> Response:
    badge = _own(token, raw_id)
    svg = bake_svg(badge_svg(badge.achievement_name, badge.skill), _signed(badge))
    return _download(svg, "image/svg+xml", f"badge-{badge.public_id}.svg")


@bp.get("/s/<token>/badges/<raw_id>.png")
def download_png(token: str, raw_id: str) -> Response:
    badge = _own(token, raw_id)
    png = bake_png(badge_png(badge.skill), _signed(badge))
    return _download(png, "image/png", f"badge-{badge.public_id}.png")
