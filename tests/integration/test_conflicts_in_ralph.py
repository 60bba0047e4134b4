"""A 409 from a real LRS is settled by reading the statement back (xAPI 1.0.3 Part Two
2.3.1): the statement Ralph holds unchanged is delivered, a different one under our id is a
conflict with Ralph's version, and everything else in the batch is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lti_tool.demo.ralph import RalphServer
from lti_tool.services import Services
from lti_tool.store import outbox
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import OutboxRow
from tests.conftest import embedded_settings
from tests.fixtures.stack import isolated_database
from tests.integration.test_ralph_lrs import make_statement
from workers.delivery import DeliveryPolicy, deliver_outbox
from xapi.lrs import LRSClient, Outcome

pytestmark = pytest.mark.integration


def client_for(ralph: RalphServer) -> LRSClient:
    return LRSClient(
        ralph.config.endpoint, username=ralph.config.username, password=ralph.config.password
    )


def different(statement: dict[str, Any]) -> dict[str, Any]:
    """Another installation's statement that happens to carry the same id."""
    return {**statement, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}


def test_a_batch_answered_409_is_settled_statement_by_statement(ralph: RalphServer) -> None:
    held, new, clash = (make_statement(n) for n in range(3))
    with client_for(ralph) as client:
        assert client.post_statements([held, different(clash)]).delivered

        result = client.post_statements([held, new, clash])

        assert result.outcome is Outcome.CONFLICT
        (conflict,) = result.conflicts
        assert conflict.statement_id == clash["id"] and conflict.differences == ("verb",)
        assert conflict.stored["verb"]["id"].endswith("/failed")
        assert client.get_statement(new["id"]) is not None


def test_the_outbox_dead_letters_the_conflict_and_delivers_the_rest(
    tmp_path: Path, ralph: RalphServer
) -> None:
    bodies = [make_statement(n) for n in range(3)]
    with client_for(ralph) as client:
        assert client.post_statements([different(bodies[1])]).delivered
    with isolated_database(tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        services = Services.build(embedded_settings(tmp_path, database_url=url))
        try:
            with transaction(services.sessions) as session:
                for body in bodies:
                    outbox.add_statement(session, body)
            with client_for(ralph) as client:
                report = deliver_outbox(
                    services.sessions, client, policy=DeliveryPolicy(batch_size=3)
                )
            with services.sessions() as session:
                rows = {r.statement_id: r for r in session.query(OutboxRow)}
        finally:
            services.close()

    assert (report.sent, report.dead) == (2, 1)
    clash = rows[bodies[1]["id"]]
    assert clash.status.value == "dead" and clash.last_error.startswith("conflict")
    assert clash.statement == bodies[1]
    assert clash.lrs_statement is not None and clash.lrs_statement["verb"]["id"].endswith("/failed")
    assert {rows[bodies[n]["id"]].status.value for n in (0, 2)} == {"sent"}
