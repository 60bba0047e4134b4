"""Moves the IRIs we mint from the canonical base in ``vocabulary`` to the operator's own.

``vocabulary.CX_BASE`` is a placeholder under the reserved ``.example`` name (RFC 2606):
it keeps the library free of deployment settings, and an IRI under it resolves nowhere.
Each installation passes its own base (a URL it controls, so GET on an activity IRI can
return the activity's definition, as xAPI 1.0.3 Part Two, 2.4.4.1 recommends for ids of
activities a provider mints), and every IRI under the placeholder is rewritten to it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from xapi.vocabulary import CX_BASE


def normalise_base(base: str) -> str:
    """``base`` with one trailing slash; ValueError unless it is an absolute http(s) URL."""
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"an IRI base must be an absolute http(s) URL, got {base!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"an IRI base must not carry a query or fragment, got {base!r}")
    return base.rstrip("/") + "/"


def rebase_iri(iri: str, base: str) -> str:
    """``iri`` under ``base`` if it is one of ours (under ``CX_BASE``), else unchanged."""
    if iri.startswith(CX_BASE):
        return normalise_base(base) + iri[len(CX_BASE) :]
    return iri


def canonical_iri(iri: str, base: str) -> str | None:
    """The canonical (``CX_BASE``) form of an IRI under ``base``, or None if it is not."""
    prefix = normalise_base(base)
    if iri.startswith(prefix):
        return CX_BASE + iri[len(prefix) :]
    return None


def rebase(document: Any, base: str) -> Any:
    """A copy of a JSON-ready document with every one of our IRIs moved under ``base``.

    Keys are rewritten too (extension keys are IRIs). Text such as names never starts with
    the placeholder base, so only identifiers change.
    """
    prefix = normalise_base(base)
    return _rebase(document, prefix)


def _rebase(value: Any, prefix: str) -> Any:
    if isinstance(value, str):
        return prefix + value[len(CX_BASE) :] if value.startswith(CX_BASE) else value
    if isinstance(value, dict):
        return {_rebase(key, prefix): _rebase(item, prefix) for key, item in value.items()}
    if isinstance(value, list):
        return [_rebase(item, prefix) for item in value]
    return value
