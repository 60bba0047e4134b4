"""Our IRIs live under the operator's base and resolve: GET returns what statements carry."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from content import load_catalog
from lti_tool.app import create_app
from lti_tool.errors import ConfigError
from lti_tool.services import Services
from lti_tool.store.db import make_engine
from lti_tool.store.migrate import upgrade
from tests.conftest import embedded_settings
from tests.unit.web.conftest import LearnerBrowser, outbox_statements
from tests.unit.web.test_progress import finish_course
from xapi import vocabulary

COURSE = "service-foundations"
BASE = "http://localhost/xapi/"


def test_statements_name_our_iris_under_the_deployment_base(
    learner: LearnerBrowser, session: Session
) -> None:
    finish_course(learner, session)
    statements = outbox_statements(session)
    text = repr(statements)
    assert vocabulary.CX_BASE not in text
    assert "cx-academy.example" not in text
    completed = next(s for s in statements if s["verb"]["id"] == vocabulary.COMPLETED.iri)
    assert completed["object"]["id"] == f"{BASE}activities/course/{COURSE}"
    assert BASE + "extensions/content-version" in completed["context"]["extensions"]
    assert completed["context"]["contextActivities"]["category"][0]["id"] == (BASE + "profile/v1.0")


def test_an_activity_iri_returns_its_definition_as_json_when_asked(
    learner: LearnerBrowser, session: Session, client: FlaskClient
) -> None:
    finish_course(learner, session)
    sent = next(
        s["object"]
        for s in outbox_statements(session)
        if s["verb"]["id"] == vocabulary.ANSWERED.iri
    )
    path = sent["id"].removeprefix("http://localhost")
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    # Exactly the object the LRS was sent, interaction details and all.
    assert response.get_json() == sent


def test_an_activity_iri_gives_people_a_small_page(client: FlaskClient) -> None:
    course = load_catalog().require_course(COURSE)
    response = client.get(f"/xapi/activities/course/{COURSE}", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"<h1>{course.title}</h1>" in page or course.title.replace("'", "&#39;") in page
    assert f"{BASE}activities/course/{COURSE}" in page


def test_our_verbs_types_and_extensions_resolve_to_their_profile_concepts(
    client: FlaskClient,
) -> None:
    for path, label in (
        ("verbs/chose", "chose"),
        ("activity-types/audience", "audience"),
        ("extensions/attempt-id", "attempt id"),
    ):
        response = client.get("/xapi/" + path, headers={"Accept": "application/json"})
        assert response.status_code == 200, path
        concept = response.get_json()
        assert concept["id"] == BASE + path
        assert concept["prefLabel"] == {"en": label}


@pytest.mark.parametrize(
    "path",
    ["/xapi/activities/course/no-such-course", "/xapi/verbs/hacked", "/xapi/activities/x/../y"],
)
def test_unknown_iris_are_a_clear_404(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "application/json"})
    assert response.status_code == 404


def test_the_base_can_be_set_and_a_reserved_one_is_refused(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, xapi_iri_base="https://lrs-ids.acme.test/cx")
    assert settings.iri_base == "https://lrs-ids.acme.test/cx/"
    with pytest.raises(ConfigError, match="CXA_XAPI_IRI_BASE"):
        embedded_settings(tmp_path, xapi_iri_base="ftp://acme.test/")
    with pytest.raises(ConfigError, match="CXA_XAPI_IRI_BASE"):
        embedded_settings(
            tmp_path,
            base_url="https://cx.acme.test",
            secret_key="s" * 43,
            key_encryption_secret="k" * 43,
            demo_lms=False,
            xapi_iri_base="https://cx-academy.example/xapi/",
        )


def test_a_configured_base_reaches_the_profile(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path, xapi_iri_base="https://ids.acme.test/xapi")
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    services = Services.build(settings)
    try:
        document = (
            create_app(services=services).test_client().get("/xapi/profile").get_json(force=True)
        )
    finally:
        services.close()
    assert document["id"] == "https://ids.acme.test/xapi/profile"
