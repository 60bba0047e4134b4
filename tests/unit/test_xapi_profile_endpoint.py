"""The tool publishes its xAPI Profile as JSON-LD at a stable URL."""

from __future__ import annotations

from flask.testing import FlaskClient

from xapi import vocabulary


def test_profile_is_served_as_json_ld(client: FlaskClient) -> None:
    response = client.get("/xapi/profile")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.get_json(force=True)
    # Under the deployment's IRI base (CXA_BASE_URL + /xapi/ by default), never the
    # reserved placeholder: the profile's IRI is the address it is served at.
    assert document["id"] == "http://localhost/xapi/profile"
    assert document["seeAlso"] == "http://localhost/xapi/profile"
    concept_ids = {c["id"] for c in document["concepts"]}
    assert "http://localhost/xapi/verbs/chose" in concept_ids
    assert "http://localhost/xapi/extensions/skill-scores" in concept_ids
    assert not [i for i in concept_ids if i.startswith(vocabulary.CX_BASE)]
    # The version IRI that statements name in their category resolves to the same document.
    assert client.get("/xapi/profile/v1.0").get_json(force=True) == document
