"""Our xAPI Profile document (xAPI Profiles 1.0, JSON-LD) describing the IRIs we mint.

The document itself is ``profile.jsonld`` beside this module, written by hand so a
reviewer reads it as published; tests keep it in step with ``vocabulary``.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from xapi.errors import XapiError
from xapi.iris import rebase


def profile_document(base_url: str, iri_base: str | None = None) -> dict[str, Any]:
    """The profile as a JSON-ready dict, with ``seeAlso`` pointing at ``base_url``.

    ``base_url`` is where humans can read about the profile (typically the deployment's
    public URL). ``iri_base`` moves the profile's own IRI and its concepts under the
    operator's base, as ``build_statement`` does for statements; choose it once, since
    statements already sent carry the IRIs.
    """
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
    document = copy.deepcopy(_load())
    if iri_base is not None:
        document = rebase(document, iri_base)
    document["seeAlso"] = base_url
    return document


@cache
def _load() -> dict[str, Any]:
    text = resources.files("xapi").joinpath("profile.jsonld").read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except ValueError as err:  # a packaging or editing mistake, not a runtime condition
        raise XapiError(f"xapi/profile.jsonld is not valid JSON: {err}") from err
    if not isinstance(document, dict):
        raise XapiError("xapi/profile.jsonld must hold a JSON object")
    return document
