"""The tool publishes its xAPI Profile as JSON-LD at a stable URL."""

from __future__ import annotations

from flask.testing import FlaskClient

from xapi import vocabulary


def test_profile_is_served_as_json_ld(client: FlaskClient) -> None:
    response = client.get("/xapi/profile")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    assert document["id"] == vocabulary.PROFILE_IRI
    assert document["seeAlso"] == "http://localhost/xapi/profile"
    concept_ids = {c["id"] for c in document["concepts"]}
    assert vocabulary.CHOSE.iri in concept_ids
    assert vocabulary.SKILL_SCORES in concept_ids
    # The version IRI that statements name in their category resolves to the same document.
    assert client.get("/xapi/profile/v1.0").get_json(force=True) == document
