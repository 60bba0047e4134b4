"""Stable xAPI activity IRIs for every curriculum item."""

from __future__ import annotations

from typing import Protocol

DEFAULT_BASE_URL = "https://cx-academy.example/xapi/activities"
"""The canonical placeholder base; the app moves it under the operator's own IRI base
(CXA_XAPI_IRI_BASE) when it builds statements, so source ids never depend on the setting."""


class Identified(Protocol):
    """Anything with an activity kind and a stable slug id."""

    @property
    def kind(self) -> str: ...

    @property
    def id(self) -> str: ...


def activity_iri(item: Identified, base_url: str = DEFAULT_BASE_URL) -> str:
    """Return the activity IRI of ``item``: ``<base_url>/<kind>/<id>``.

    The IRI is built from the slug alone, never from titles or versions, so a
    statement sent for version 1.0.0 and one sent for 1.1.0 of a lesson land on
    the same activity in the LRS (xAPI 1.0.3, 2.4.4.1: an activity id must keep
    identifying the same thing).
    """
    return f"{base_url.rstrip('/')}/{item.kind}/{item.id}"
