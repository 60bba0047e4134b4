"""The demo LMS's side of Deep Linking 2.0: it asks the tool for content, checks the
signed answer the way a platform must, keeps the placed links, and launches them.

Placed links live in a small JSON file next to the LMS's key, so they survive a restart
of ``make run``; requests in flight and spent nonces are kept in memory (one process).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Flask, abort, redirect, render_template, request
from werkzeug.wrappers import Response

from lti_tool.demo.ags import Refusal, check_submission_review

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DEEP_LINK_HINT = "deep-link"
PLACED_HINT = "placed-"
ACCEPT_TYPES = ["ltiResourceLink"]
ACCEPT_TARGETS = ["iframe", "window"]
#: How long the LMS waits for the tool's answer to one request.
REQUEST_TTL_SECONDS = 3600
CLOCK_LEEWAY = 60


class ResponseRefusedError(Exception):
    """Raised when a Deep Linking response fails one of the platform's checks."""


@dataclass(frozen=True)
class PlacedLink:
    """A link the instructor placed in the demo course through Deep Linking."""

    id: str
    title: str
    text: str
    url: str
    custom: dict[str, str]
    line_item: dict[str, Any] | None
    placed_by: str
    placed_at: float = field(default_factory=time.time)


class Placements:
    """The course's placed links, the open requests and the spent response nonces."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[str, float]] = {}
        self._spent_nonces: dict[str, float] = {}

    def list_links(self) -> list[PlacedLink]:
        if not self._path.exists():
            return []
        return [PlacedLink(**row) for row in json.loads(self._path.read_text())]

    def get_link(self, link_id: str) -> PlacedLink | None:
        return next((link for link in self.list_links() if link.id == link_id), None)

    def add_links(self, links: list[PlacedLink]) -> None:
        with self._lock:
            rows = [asdict(link) for link in self.list_links()] + [asdict(x) for x in links]
            self._path.parent.mkdir(parents=True, exist_ok=True)
            self._path.write_text(json.dumps(rows, indent=1))

    def open_request(self, login: str) -> str:
        """A fresh ``data`` value binding the answer to this request and this instructor."""
        data = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[data] = (login, time.time() + REQUEST_TTL_SECONDS)
        return data

    def settle(self, data: Any, nonce: Any, expires: float) -> str:
        """Close the request ``data`` names and spend the response's nonce, both or neither;
        returns the instructor who asked. Each request is answered once, each nonce used
        once (LTI 1.3 section 5.1.3 asks the same of the tool for id_tokens)."""
        now = time.time()
        with self._lock:
            for old, until in list(self._spent_nonces.items()):
                if until < now:
                    del self._spent_nonces[old]
            if not isinstance(nonce, str) or not nonce or nonce in self._spent_nonces:
                raise ResponseRefusedError("nonce missing or already used")
            entry = self._pending.get(data) if isinstance(data, str) else None
            if entry is None or entry[1] < now:
                raise ResponseRefusedError("data does not echo an open Deep Linking request")
            del self._pending[data]
            self._spent_nonces[nonce] = expires + CLOCK_LEEWAY
        return entry[0]


def check_response(
    claims: dict[str, Any],
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    tool_url: str,
    placements: Placements,
) -> tuple[str, list[dict[str, Any]]]:
    """The platform's checks of a signature-verified response (Deep Linking 2.0 section 4.2,
    LTI 1.3 section 5.2); returns the instructor and the content items."""
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    now = time.time()
    if claims.get("iss") != client_id:
        raise ResponseRefusedError("iss must be the tool's client_id")
    if issuer not in audiences:
        raise ResponseRefusedError("aud must be this platform's issuer")
    iat, exp = claims.get("iat"), claims.get("exp")
    if not isinstance(iat, int | float) or iat > now + CLOCK_LEEWAY:
        raise ResponseRefusedError("iat missing or in the future")
    if not isinstance(exp, int | float) or exp < now - CLOCK_LEEWAY:
        raise ResponseRefusedError("exp missing or passed")
    if claims.get(CLAIM + "message_type") != "LtiDeepLinkingResponse":
        raise ResponseRefusedError("message_type must be LtiDeepLinkingResponse")
    if claims.get(CLAIM + "version") != "1.3.0":
        raise ResponseRefusedError("version must be 1.3.0")
    if claims.get(CLAIM + "deployment_id") != deployment_id:
        raise ResponseRefusedError("deployment_id is not this deployment")
    items = claims.get(DL_CLAIM + "content_items", [])
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ResponseRefusedError("content_items must be a list of objects")
    tool = urlsplit(tool_url)
    for item in items:
        if item.get("type") not in ACCEPT_TYPES:
            raise ResponseRefusedError(f"content item type {item.get('type')!r} was not asked for")
        url = urlsplit(str(item.get("url") or tool_url))
        if (url.scheme, url.netloc) != (tool.scheme, tool.netloc):
            raise ResponseRefusedError("a content item points away from the tool")
        custom = item.get("custom", {})
        if not isinstance(custom, dict) or not all(isinstance(v, str) for v in custom.values()):
            raise ResponseRefusedError("custom must map names to strings")
        line_item = item.get("lineItem")
        if line_item is not None:
            maximum = line_item.get("scoreMaximum") if isinstance(line_item, dict) else None
            if not isinstance(maximum, int | float) or maximum <= 0:
                raise ResponseRefusedError("lineItem.scoreMaximum must be a positive number")
            try:
                check_submission_review(line_item.get("submissionReview"))
            except Refusal as err:
                raise ResponseRefusedError(f"lineItem: {err.reason}") from err
    # Settled only once everything else held: a refused response must not burn the request.
    login = placements.settle(claims.get(DL_CLAIM + "data"), claims.get("nonce"), float(exp))
    return login, items


def login_initiation_url(
    tool_login_url: str,
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    login: str,
    hint: str,
    target: str,
) -> str:
    """The third-party initiated login (LTI 1.3 section 4.1) that starts a launch of
    ``target`` for ``login``; ``hint`` tells the authorization endpoint what to send."""
    params = {
        "iss": issuer,
        "login_hint": login,
        "target_link_uri": target,
        "lti_message_hint": hint,
        "client_id": client_id,
        "lti_deployment_id": deployment_id,
    }
    return tool_login_url + "?" + urlencode(params)


def install(
    app: Flask,
    placements: Placements,
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    tool_login_url: str,
    tool_launch_url: str,
    tool_url: str,
    personas: dict[str, Any],
    decode_tool_jwt: Callable[[str], dict[str, Any]],
    create_line_item: Callable[[str, dict[str, Any]], Any] | None = None,
) -> None:
    """Add the Deep Linking routes and the ``placed_links`` template variable.

    ``create_line_item(link_id, lineItem)`` makes the gradebook column a content item asks
    for, bound to the placed link (Deep Linking 2.0 section 3.4.2.1: the platform creates
    it; the tool learns of it from the link's launches)."""

    def start_login(login: str, hint: str, target: str) -> Response:
        return redirect(
            login_initiation_url(
                tool_login_url,
                issuer=issuer,
                client_id=client_id,
                deployment_id=deployment_id,
                login=login,
                hint=hint,
                target=target,
            )
        )

    @app.context_processor
    def _placed_links() -> dict[str, Any]:
        return {"placed_links": placements.list_links()}

    @app.get("/deep-link/<login>")
    def deep_link(login: str) -> Response:
        """Start a Deep Linking request, the way an LMS's "add activity" button does."""
        persona = personas.get(login)
        if persona is None or not any("Instructor" in r for r in persona.roles):
            abort(404)
        return start_login(login, DEEP_LINK_HINT, tool_launch_url)

    @app.get("/placed/<link_id>/launch/<login>")
    def launch_placed(link_id: str, login: str) -> Response:
        link = placements.get_link(link_id)
        if link is None or login not in personas:
            abort(404)
        return start_login(login, PLACED_HINT + link.id, link.url or tool_launch_url)

    @app.post("/deep-link/return")
    def deep_link_return() -> tuple[str, int]:
        token = request.form.get("JWT", "")
        if not token:
            abort(400, "the response has no JWT field")
        try:
            claims = decode_tool_jwt(token)
            login, items = check_response(
                claims,
                issuer=issuer,
                client_id=client_id,
                deployment_id=deployment_id,
                tool_url=tool_url,
                placements=placements,
            )
        except ResponseRefusedError as err:
            abort(400, f"Deep Linking response refused: {err}")
        except Exception as err:  # signature, kid, format: whatever the verifier raised
            abort(400, f"Deep Linking response refused: {err}")
        links = [
            PlacedLink(
                id=uuid.uuid4().hex[:12],
                title=str(item.get("title") or "CX Academy activity"),
                text=str(item.get("text") or ""),
                url=str(item.get("url") or tool_launch_url),
                custom=dict(item.get("custom") or {}),
                line_item=item.get("lineItem"),
                placed_by=login,
            )
            for item in items
        ]
        placements.add_links(links)
        if create_line_item is not None:
            for link in links:
                if link.line_item is not None:
                    create_line_item(link.id, link.line_item)
        return (
            render_template(
                "demo_dl_result.html",
                added=links,
                msg=claims.get(DL_CLAIM + "msg") or claims.get(DL_CLAIM + "errormsg"),
            ),
            200,
        )


def prepare_message(message: Any, hint: str, placements: Placements, return_url: str) -> bool:
    """Turn the demo's standard launch into a Deep Linking request or a placed link's
    launch when the login hint names one; False when the hint is neither."""
    if hint == DEEP_LINK_HINT:
        # Deep Linking 2.0 section 4.4: no resource link in a Deep Linking request.
        message.lti_claim_resource_link = None
        settings = {
            "deep_link_return_url": return_url,
            "accept_types": ACCEPT_TYPES,
            "accept_presentation_document_targets": ACCEPT_TARGETS,
            "accept_multiple": True,
            "accept_lineitem": True,
            "auto_create": True,
            "title": "Add CX Academy content",
            "data": placements.open_request(message.lti_claim_user_data["sub"]),
        }
        message.set_extra_claims(
            {
                CLAIM + "message_type": "LtiDeepLinkingRequest",
                DL_CLAIM + "deep_linking_settings": settings,
            }
        )
        return True
    if hint.startswith(PLACED_HINT):
        link = placements.get_link(hint[len(PLACED_HINT) :])
        if link is None:
            return False
        message.set_resource_link_claim(link.id, title=link.title, description=link.text)
        if link.custom:
            message.set_custom_parameters_claim(dict(link.custom))
        message.set_launch_url(link.url)
        return True
    return False


def knows_hint(hint: str, placements: Placements) -> bool:
    if hint == DEEP_LINK_HINT:
        return True
    if not hint.startswith(PLACED_HINT):
        return False
    return placements.get_link(hint[len(PLACED_HINT) :]) is not None
