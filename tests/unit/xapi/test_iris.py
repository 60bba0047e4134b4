"""Our IRIs move under the operator's base; ids and everything not ours stay as they are."""

from __future__ import annotations

import pytest

from tests.unit.xapi.catalogue import NAMESPACE, STATEMENT_KINDS
from xapi import vocabulary as v
from xapi.iris import canonical_iri, normalise_base, rebase, rebase_iri
from xapi.profile import profile_document
from xapi.statements import build_statement
from xapi.validation import validate_statement

BASE = "https://learn.acme.test/xapi/"


def test_only_our_iris_move() -> None:
    assert rebase_iri(v.STAFF, BASE) == BASE + "audiences/staff"
    assert rebase_iri(v.ANSWERED.iri, BASE) == v.ANSWERED.iri
    assert rebase_iri(v.SESSION_ID, BASE) == v.SESSION_ID
    assert canonical_iri(BASE + "verbs/chose", BASE) == v.CHOSE.iri
    assert canonical_iri("https://elsewhere.test/verbs/chose", BASE) is None


@pytest.mark.parametrize(
    "base", ["ftp://acme.test/", "acme.test/xapi", "https:///x", "https://a.test/?q=1"]
)
def test_a_base_that_is_not_an_http_url_is_refused(base: str) -> None:
    with pytest.raises(ValueError, match="IRI base"):
        normalise_base(base)


def test_a_statement_under_the_operators_base_keeps_its_id_and_stays_valid() -> None:
    event = STATEMENT_KINDS["launched_by_staff"]
    plain = build_statement(event, namespace=NAMESPACE)
    moved = build_statement(event, namespace=NAMESPACE, iri_base=BASE.rstrip("/"))
    assert moved["id"] == plain["id"]
    assert validate_statement(moved) == []
    assert v.CX_BASE not in repr(moved)
    assert moved["context"]["contextActivities"]["category"][0]["id"] == BASE + "profile/v1.0"
    assert BASE + "extensions/lti-roles" in moved["context"]["extensions"]
    # Text is not an IRI and is left alone.
    assert moved["actor"] == plain["actor"]
    assert rebase({"name": {"en-US": "plain"}}, BASE) == {"name": {"en-US": "plain"}}


def test_the_profile_moves_with_the_base() -> None:
    document = profile_document("https://learn.acme.test/xapi/profile", BASE)
    assert document["id"] == BASE + "profile"
    assert all(c["id"].startswith(BASE) for c in document["concepts"])
    assert all(c["inScheme"] == BASE + "profile/v1.0" for c in document["concepts"])
