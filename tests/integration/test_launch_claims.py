"""What a correctly signing platform may still get wrong in its claims, on both databases.

Display values (names, titles, email, locale) are cleaned and cut to fit, so the learner
gets in; identifiers that cannot be stored are refused with a 4xx page naming the claim.
PostgreSQL refuses NUL bytes in text and enforces VARCHAR lengths where SQLite does
neither, so every case runs on both.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from lti_tool.config import Settings
from lti_tool.services import Services
from lti_tool.store.db import make_engine, transaction
from lti_tool.store.migrate import upgrade
from lti_tool.store.models import Launch, OutboxRow, Platform
from lti_tool.store.platforms import add_platform
from tests.conftest import embedded_settings
from tests.fixtures.platform import CLAIM, ROLE, TestPlatform, served_platform
from tests.fixtures.stack import isolated_database
from tests.fixtures.tokens import segment, sign_claims, sign_raw
from xapi.vocabulary import SESSION_ID

pytestmark = pytest.mark.integration

Change = Callable[[dict[str, Any]], None]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per engine for the module; each test registers its own platform."""
    folder = tmp_path_factory.mktemp(f"claims-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'claims.db'}"
        _migrate(url)
        yield url
        return
    with isolated_database(folder) as url:
        _migrate(url)
        yield url


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return embedded_settings(tmp_path, database_url=database_url)


def _with(name: str, value: Any) -> Change:
    def change(claims: dict[str, Any]) -> None:
        claims[name] = value

    return change


def _within(name: str, key: str, value: Any) -> Change:
    def change(claims: dict[str, Any]) -> None:
        claims[name] = {**claims[name], key: value}

    return change


def _launch(client: FlaskClient, platform: TestPlatform, *changes: Change) -> Any:
    redirect = platform.login(client)
    claims = platform.claims(redirect.nonce)
    for change in changes:
        change(claims)
    token = sign_claims(platform, claims)
    return client.post("/lti/launch", data={"id_token": token, "state": redirect.state})


def _launches(services: Services, platform: TestPlatform) -> list[Launch]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(Launch).join(Platform).where(Platform.client_id == platform.client_id)
            )
        )


def _statements(services: Services, launch: Launch) -> list[dict[str, Any]]:
    with services.sessions() as session:
        rows = session.scalars(select(OutboxRow)).all()
    return [
        row.statement
        for row in rows
        # The launch is the cmi5 session; the registration is the learner's enrolment.
        if row.statement["context"].get("extensions", {}).get(SESSION_ID) == str(launch.id)
    ]


def _accepted(
    client: FlaskClient, response: Any, services: Services, platform: TestPlatform
) -> Launch:
    assert response.status_code == 303, response.get_data(as_text=True)
    home = client.get(response.headers["Location"])
    assert home.status_code == 200, home.get_data(as_text=True)
    (launch,) = _launches(services, platform)
    return launch


def _refused(response: Any, services: Services, platform: TestPlatform, words: str) -> None:
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400, text
    assert words in text
    assert "reference" in text
    assert _launches(services, platform) == []


def test_a_platform_on_a_port_an_earlier_one_used_gets_in(
    client: FlaskClient, services: Services
) -> None:
    # This module's tests share a database, so key sets cached by URL outlive each test's
    # platform; the OS sometimes hands a later platform (other keys) the same port. That
    # made launches here fail now and then with "unknown kid" until each platform got a
    # key set URL of its own.
    with served_platform() as first:
        with transaction(services.sessions) as session:
            add_platform(session, first.spec())
        _accepted(client, _launch(client, first), services, first)
    port = urlsplit(first.base_url).port
    assert port is not None
    with served_platform(port) as second:
        with transaction(services.sessions) as session:
            add_platform(session, second.spec())
        _accepted(client, _launch(client, second), services, second)


# --- display values: cleaned and cut, the learner gets in ----------------------------------


def test_long_name_and_titles_are_cut_to_fit(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    launch = _accepted(
        client,
        _launch(
            client,
            registered,
            _with("name", "N" * 300),
            _within(CLAIM + "context", "title", "C" * 600),
            _within(CLAIM + "resource_link", "title", "R" * 600),
        ),
        services,
        registered,
    )
    assert launch.name is not None and len(launch.name) <= 255
    assert launch.context_title is not None and len(launch.context_title) <= 500
    assert launch.resource_link_title is not None and len(launch.resource_link_title) <= 500
    assert launch.name.startswith("NNN") and launch.context_title.startswith("CCC")


def test_nul_bytes_and_control_characters_leave_display_values(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    launch = _accepted(
        client,
        _launch(
            client,
            registered,
            _with("name", "Lee\x00 Lear\x07ner"),
            _within(CLAIM + "context", "title", "Support\x00 Team"),
            _within(CLAIM + "resource_link", "title", "\ud800Week 1"),
        ),
        services,
        registered,
    )
    assert launch.name == "Lee Learner"
    assert launch.context_title == "Support Team"
    assert launch.resource_link_title == "Week 1"
    (statement,) = _statements(services, launch)
    # The cleaned name stays in the tool: statements carry none unless the registration
    # opts in (tests/unit/lti_tool/test_learner_of.py checks the cleaned name is what goes).
    assert "name" not in statement["actor"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ([_with("name", ["Lee", "Learner"]), _with("given_name", "Lee")], "Lee"),
        (
            [_with("name", None), _with("given_name", 42), _with("family_name", "Learner")],
            "Learner",
        ),
        ([_with("name", {"first": "Lee"})], None),
        ([_with("name", "   ")], None),
    ],
    ids=["name-as-list", "given-name-as-number", "name-as-object", "blank-name"],
)
def test_names_of_the_wrong_type_are_ignored(
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    changes: list[Change],
    expected: str | None,
) -> None:
    launch = _accepted(client, _launch(client, registered, *changes), services, registered)
    assert launch.name == expected


@pytest.mark.parametrize("value", ["a string", ["a", "list"], 7])
def test_launch_presentation_that_is_no_object_is_ignored(
    client: FlaskClient, registered: TestPlatform, services: Services, value: Any
) -> None:
    launch = _accepted(
        client,
        _launch(client, registered, _with(CLAIM + "launch_presentation", value)),
        services,
        registered,
    )
    assert launch.locale is None


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pt_br", "pt-BR"),
        ("en_us", "en-US"),
        ("zh_cn", "zh-CN"),
        ("EN-gb", "en-GB"),
        ("zh_hant_tw", "zh-Hant-TW"),
        ("es_mx_kids", "es-MX"),
        ("de-DE-1996", "de-DE-1996"),
        ("en-US-" + "x" * 60, "en-US"),
        ("english", None),
        ("not a tag!", None),
        ("", None),
        (42, None),
        ("en\x00", "en"),
    ],
)
def test_locales_are_normalised_or_dropped(
    client: FlaskClient,
    registered: TestPlatform,
    services: Services,
    locale: Any,
    expected: str | None,
) -> None:
    launch = _accepted(
        client,
        _launch(client, registered, _with(CLAIM + "launch_presentation", {"locale": locale})),
        services,
        registered,
    )
    assert launch.locale == expected
    (statement,) = _statements(services, launch)
    assert statement["context"].get("language") == expected


def test_roles_that_are_not_strings_are_dropped(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    launch = _accepted(
        client,
        _launch(client, registered, _with(CLAIM + "roles", [1, None, {"r": 2}, ROLE + "Learner"])),
        services,
        registered,
    )
    assert launch.roles == [ROLE + "Learner"]


def test_integer_roles_only_leave_a_guest_who_can_still_see_the_home_page(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    response = _launch(client, registered, _with(CLAIM + "roles", [1, 2]))
    launch = _accepted(client, response, services, registered)
    assert launch.roles == []
    assert "Guest" in client.get(response.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "a@b", "lee@example.test\x00", "@example.test", "x" * 310 + "@example.test"],
)
@pytest.mark.parametrize("actor_format", ["mbox", "mbox_sha1sum"])
def test_unusable_email_falls_back_to_the_account_actor(
    client: FlaskClient, platform: TestPlatform, services: Services, email: str, actor_format: str
) -> None:
    with transaction(services.sessions) as session:
        add_platform(session, platform.spec(actor_format=actor_format))
    launch = _accepted(client, _launch(client, platform, _with("email", email)), services, platform)
    assert launch.email is None
    (statement,) = _statements(services, launch)
    assert statement["actor"]["account"] == {"homePage": platform.issuer, "name": "learner-1"}


def test_usable_email_is_kept_for_the_mbox_actor(
    client: FlaskClient, platform: TestPlatform, services: Services
) -> None:
    with transaction(services.sessions) as session:
        add_platform(session, platform.spec(actor_format="mbox"))
    launch = _accepted(
        client, _launch(client, platform, _with("email", " Lee@Example.TEST ")), services, platform
    )
    assert launch.email == "Lee@Example.TEST"
    (statement,) = _statements(services, launch)
    assert statement["actor"]["mbox"] == "mailto:Lee@example.test"


# --- identifiers that cannot be stored: refused, naming the claim ----------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (_with("sub", "s" * 256), "'sub'"),
        (_with("sub", "learner\x00-1"), "'sub'"),
        (_with("sub", 12345), "'sub'"),
        (_with("sub", ["learner-1"]), "'sub'"),
        (_within(CLAIM + "context", "id", "c" * 256), "'context'"),
        (_within(CLAIM + "context", "id", "course\x00"), "'context'"),
        (_within(CLAIM + "context", "id", 7), "'context'"),
        (_with(CLAIM + "context", "course-7"), "'context'"),
        (_with(CLAIM + "context", ["course-7"]), "'context'"),
        (_within(CLAIM + "resource_link", "id", "l" * 256), "'resource_link'"),
        (_within(CLAIM + "resource_link", "id", {"id": 1}), "'resource_link'"),
        (_with(CLAIM + "resource_link", "link-1"), "'resource_link'"),
        (_with(CLAIM + "resource_link", ["link-1"]), "'resource_link'"),
        # A null resource link used to reach pylti1p3, which crashed on it (a 500).
        (_with(CLAIM + "resource_link", None), "'resource_link'"),
        (_with(CLAIM + "message_type", {"type": "LtiResourceLinkRequest"}), "'message_type'"),
        (_with(CLAIM + "message_type", ["LtiResourceLinkRequest"]), "'message_type'"),
        (_with(CLAIM + "roles", ROLE + "Learner"), "'roles'"),
        (_with(CLAIM + "roles", {"role": "Learner"}), "'roles'"),
        (_with(CLAIM + "deployment_id", ["deployment-1"]), "'deployment_id'"),
        (_with(CLAIM + "version", 1.3), "'version'"),
        (_with(CLAIM + "target_link_uri", ["http://localhost/lti/launch"]), "'target_link_uri'"),
        (_with("nonce", {"n": 1}), "'nonce'"),
        (_with("iss", ["x"]), "'iss'"),
        (_with("aud", {"client": 1}), "'aud'"),
        (_with("exp", "tomorrow"), "'exp'"),
        (_with("iat", [1]), "'iat'"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_identifiers_that_cannot_be_stored_are_refused(
    client: FlaskClient, registered: TestPlatform, services: Services, change: Change, words: str
) -> None:
    _refused(_launch(client, registered, change), services, registered, words)


def test_non_finite_numbers_are_refused(
    client: FlaskClient, registered: TestPlatform, services: Services
) -> None:
    # json.loads reads NaN and Infinity although JSON (RFC 8259 section 6) has neither, and
    # PostgreSQL's json type refuses them: such a token must not reach the database.
    redirect = registered.login(client)
    claims = registered.claims(redirect.nonce)
    body = json.dumps({**claims, "https://example.test/claim": float("nan")}).encode()
    token = sign_raw(registered, body)
    response = client.post("/lti/launch", data={"id_token": token, "state": redirect.state})
    _refused(response, services, registered, "not valid JSON")


# --- junk from strangers ---------------------------------------------------------------------


@pytest.mark.parametrize("part", ["header", "payload"])
@pytest.mark.parametrize("value", [[1, 2], 42, "a string", None, True])
def test_token_parts_that_are_not_objects_are_refused(
    client: FlaskClient, registered: TestPlatform, services: Services, part: str, value: Any
) -> None:
    redirect = registered.login(client)
    good_header, good_payload, signature = registered.sign(registered.claims(redirect.nonce)).split(
        "."
    )
    header = segment(value) if part == "header" else good_header
    payload = segment(value) if part == "payload" else good_payload
    response = client.post(
        "/lti/launch", data={"id_token": f"{header}.{payload}.{signature}", "state": redirect.state}
    )
    _refused(response, services, registered, "JSON object")
