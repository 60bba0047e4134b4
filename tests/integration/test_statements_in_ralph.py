"""Every kind of statement we build passes our strict validator and survives a real LRS."""

from __future__ import annotations

import pytest

from lti_tool.demo.ralph import RalphServer
from tests.unit.xapi.catalogue import NAMESPACE, STATEMENT_KINDS
from xapi.lrs import LRSClient, Outcome
from xapi.statements import build_statement
from xapi.validation import validate_statement

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("kind", sorted(STATEMENT_KINDS))
def test_statement_is_stored_and_read_back_unchanged(ralph: RalphServer, kind: str) -> None:
    statement = build_statement(STATEMENT_KINDS[kind], namespace=NAMESPACE)
    assert validate_statement(statement) == []
    with LRSClient(
        ralph.config.endpoint, username=ralph.config.username, password=ralph.config.password
    ) as client:
        posted = client.post_statements([statement])
        assert posted.outcome in (Outcome.STORED, Outcome.DUPLICATE), posted.detail
        stored = client.get_statement(statement["id"])
    assert stored is not None
    # The LRS adds stored/authority/version; everything we sent must come back as sent.
    for field in ("actor", "verb", "object", "context", "result", "timestamp"):
        if field == "timestamp":
            assert stored[field][:19] == statement[field][:19]
        elif field in statement:
            assert stored[field] == statement[field], field
