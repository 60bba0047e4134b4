"""Our xAPI Profile document describes exactly the IRIs we mint, in the Profiles 1.0 shape."""

from __future__ import annotations

import pytest

from xapi import vocabulary as v
from xapi.profile import profile_document
from xapi.validation import is_iri, is_timestamp


def concepts_of(kind: str) -> dict[str, dict[str, object]]:
    document = profile_document("https://cx.example.org/xapi/profile")
    return {c["id"]: c for c in document["concepts"] if c["type"] == kind}


def test_profile_metadata() -> None:
    document = profile_document("https://cx.example.org/xapi/profile")
    assert document["@context"] == "https://w3id.org/xapi/profiles/context"
    assert document["id"] == v.PROFILE_IRI
    assert document["type"] == "Profile"
    assert document["conformsTo"] == "https://w3id.org/xapi/profiles#1.0"
    assert document["seeAlso"] == "https://cx.example.org/xapi/profile"
    assert document["prefLabel"]["en"] and document["definition"]["en"]
    assert document["author"]["type"] in ("Organization", "Person")
    # Statements name the newest version in their category (see statements.py).
    assert document["versions"][0]["id"] == v.PROFILE_VERSION_IRI
    assert is_timestamp(document["versions"][0]["generatedAtTime"])


def test_profile_verbs_are_our_verbs() -> None:
    verbs = concepts_of("Verb")
    assert set(verbs) == {verb.iri for verb in v.CX_VERBS}
    for verb in v.CX_VERBS:
        assert verbs[verb.iri]["prefLabel"] == {"en": verb.display}


def test_profile_activity_types_are_ours() -> None:
    assert set(concepts_of("ActivityType")) == set(v.CX_ACTIVITY_TYPES)


def test_profile_context_extensions_are_ours() -> None:
    assert set(concepts_of("ContextExtension")) == set(v.CX_CONTEXT_EXTENSIONS)
    assert set(concepts_of("ResultExtension")) == set(v.CX_RESULT_EXTENSIONS)


def test_every_concept_is_complete() -> None:
    document = profile_document("https://cx.example.org/")
    for concept in document["concepts"]:
        assert is_iri(concept["id"])
        assert concept["id"].startswith(v.CX_BASE)
        assert concept["inScheme"] == v.PROFILE_VERSION_IRI
        assert concept["prefLabel"]["en"], concept["id"]
        assert concept["definition"]["en"], concept["id"]


def test_callers_get_their_own_copy() -> None:
    first = profile_document("https://a.example/")
    first["concepts"].clear()
    assert profile_document("https://a.example/")["concepts"]


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValueError):
        profile_document("cx.example.org")
