"""Platform registrations: validation, many platforms at once, deployments."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lti_tool.egress import EgressPolicy
from lti_tool.errors import RegistrationError
from lti_tool.store import launches, platforms
from lti_tool.store.models import Deployment, Launch
from lti_tool.store.platforms import PlatformSpec

MOODLE = "https://moodle.example.edu"


def spec(**changes: Any) -> PlatformSpec:
    values: dict[str, Any] = {
        "name": "Acme Moodle",
        "issuer": MOODLE,
        "client_id": "client-1",
        "auth_login_url": f"{MOODLE}/mod/lti/auth.php",
        "auth_token_url": f"{MOODLE}/mod/lti/token.php",
        "key_set_url": f"{MOODLE}/mod/lti/certs.php",
        "deployment_ids": ("1",),
    }
    values.update(changes)
    return PlatformSpec(**values)


def deployment_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Deployment)) or 0


# --- validation --------------------------------------------------------------------------


def test_a_complete_spec_has_no_problems() -> None:
    assert spec().problems() == []
    assert spec(auth_audience="https://moodle.example.edu/token").problems() == []


@pytest.mark.parametrize(
    "loopback", ["http://127.0.0.1:8001", "http://localhost:8001", "http://[::1]:8001"]
)
def test_plain_http_is_allowed_on_loopback(loopback: str) -> None:
    assert spec(issuer=loopback, key_set_url=f"{loopback}/jwks").problems() == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "  "}, "name must not be empty"),
        ({"client_id": ""}, "client_id must not be empty"),
        ({"issuer": "moodle.example.edu"}, "issuer must be an absolute http(s) URL"),
        ({"auth_login_url": "/mod/lti/auth.php"}, "auth_login_url must be an absolute"),
        ({"auth_token_url": "ftp://moodle.example.edu/t"}, "auth_token_url must be an absolute"),
        ({"key_set_url": "https://"}, "key_set_url must be an absolute"),
        ({"issuer": "http://moodle.example.edu"}, "issuer must use https"),
        ({"key_set_url": "http://127.0.0.1.evil.example/jwks"}, "key_set_url must use https"),
        ({"deployment_ids": ("1", "")}, "deployment id '' must be 1 to 255 characters"),
        ({"deployment_ids": (" ",)}, "deployment id ' ' must be 1 to 255 characters"),
        ({"deployment_ids": ("x" * 256,)}, "must be 1 to 255 characters"),
        ({"auth_audience": " "}, "auth_audience must not be empty when given"),
    ],
)
def test_each_invalid_field_is_named(changes: dict[str, Any], expected: str) -> None:
    problems = spec(**changes).problems()

    assert len(problems) == 1
    assert expected in problems[0]


def test_every_problem_is_reported_at_once() -> None:
    problems = spec(name="", client_id="", issuer="nope").problems()

    assert len(problems) == 3


# --- add, list, get, remove --------------------------------------------------------------


def test_an_added_platform_can_be_listed_and_found(session: Session) -> None:
    created = platforms.add_platform(
        session, spec(name="  Acme Moodle  ", deployment_ids=("1", "2"))
    )

    (listed,) = platforms.list_platforms(session)
    assert listed.id == created.id
    assert listed.name == "Acme Moodle"
    assert [d.deployment_id for d in listed.deployments] == ["1", "2"]
    assert platforms.get_platform(session, MOODLE, "client-1") is created
    assert platforms.get_platform(session, MOODLE) is created
    assert platforms.get_platform_by_id(session, created.id) is created
    assert platforms.get_platform(session, MOODLE, "client-2") is None
    assert platforms.get_platform(session, "https://other.example.edu") is None


def test_repeated_deployment_ids_in_a_spec_are_stored_once(session: Session) -> None:
    created = platforms.add_platform(session, spec(deployment_ids=("1", "1")))

    assert [d.deployment_id for d in created.deployments] == ["1"]


def test_an_invalid_spec_is_refused_and_nothing_is_stored(session: Session) -> None:
    with pytest.raises(RegistrationError, match="issuer must use https"):
        platforms.add_platform(session, spec(issuer="http://moodle.example.edu"))

    assert platforms.list_platforms(session) == []


def test_the_same_issuer_and_client_id_cannot_register_twice(session: Session) -> None:
    platforms.add_platform(session, spec())

    with pytest.raises(RegistrationError, match="already registered"):
        platforms.add_platform(session, spec(name="Another name"))

    assert len(platforms.list_platforms(session)) == 1


def test_one_issuer_may_register_several_client_ids(session: Session) -> None:
    # Multi-tenant LMSs (one issuer, a client id per institution) register each tenant.
    first = platforms.add_platform(session, spec(client_id="tenant-a"))
    second = platforms.add_platform(session, spec(client_id="tenant-b"))

    assert platforms.get_platform(session, MOODLE, "tenant-a") is first
    assert platforms.get_platform(session, MOODLE, "tenant-b") is second
    assert [p.client_id for p in platforms.list_platforms(session)] == ["tenant-a", "tenant-b"]
    # Without a client id the issuer is ambiguous: no guess.
    assert platforms.get_platform(session, MOODLE) is None


def test_a_deployment_can_be_added_once(session: Session) -> None:
    created = platforms.add_platform(session, spec(deployment_ids=("1",)))

    platforms.add_deployment(session, created, "2")
    with pytest.raises(RegistrationError, match="deployment id 2 is already registered"):
        platforms.add_deployment(session, created, "2")
    with pytest.raises(RegistrationError, match="already registered"):
        platforms.add_deployment(session, created, "1")
    with pytest.raises(RegistrationError, match="1 to 255 characters"):
        platforms.add_deployment(session, created, "")

    assert [d.deployment_id for d in created.deployments] == ["1", "2"]
    assert deployment_count(session) == 2


def test_the_same_deployment_id_may_belong_to_two_platforms(session: Session) -> None:
    first = platforms.add_platform(session, spec(client_id="tenant-a"))
    second = platforms.add_platform(session, spec(client_id="tenant-b", deployment_ids=()))

    platforms.add_deployment(session, second, "1")

    assert [d.deployment_id for d in first.deployments] == ["1"]
    assert [d.deployment_id for d in second.deployments] == ["1"]


def test_removing_a_platform_removes_its_deployments(session: Session) -> None:
    kept = platforms.add_platform(session, spec(client_id="kept", deployment_ids=("k",)))
    gone = platforms.add_platform(session, spec(client_id="gone", deployment_ids=("1", "2")))

    platforms.remove_platform(session, gone.id)
    session.expire_all()

    assert [p.id for p in platforms.list_platforms(session)] == [kept.id]
    assert session.scalars(select(Deployment.deployment_id)).all() == ["k"]


def test_removing_a_platform_with_launches_removes_them_too(session: Session) -> None:
    gone = platforms.add_platform(session, spec())
    launches.add_launch(
        session,
        gone,
        deployment_id="1",
        sub="learner-1",
        message_type="LtiResourceLinkRequest",
        roles=[],
        claims={},
    )

    platforms.remove_platform(session, gone.id)
    session.expire_all()

    assert session.scalar(select(func.count()).select_from(Launch)) == 0


def test_removing_an_unknown_platform_is_refused(session: Session) -> None:
    with pytest.raises(RegistrationError, match="no platform with id 42"):
        platforms.remove_platform(session, 42)


# --- addresses in production -------------------------------------------------------------

PRODUCTION = EgressPolicy(enforce=True, resolve=lambda _host: ["93.184.216.34"])


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8001/jwks", "loopback"),
        ("https://10.0.0.5/jwks", "private"),
        ("https://169.254.169.254/latest/jwks", "link-local"),
        ("https://[fe80::1]/jwks", "link-local"),
        ("https://[::1]/jwks", "loopback"),
    ],
)
def test_production_refuses_platform_urls_inside_the_network(url: str, kind: str) -> None:
    problems = spec(key_set_url=url).problems(PRODUCTION)

    assert len(problems) == 1
    assert problems[0].startswith("key_set_url points at")
    assert f"a {kind} address" in problems[0]


def test_production_refuses_a_name_resolving_inside_the_network() -> None:
    inside = EgressPolicy(enforce=True, resolve=lambda _host: ["192.168.10.4"])

    problems = spec().problems(inside)

    # The two URLs the tool fetches; the issuer and login URL are never requested by us.
    assert [p.split()[0] for p in problems] == ["auth_token_url", "key_set_url"]
    assert all("resolves to 192.168.10.4" in p for p in problems)


def test_an_allowed_host_may_be_registered_in_production() -> None:
    allowed = EgressPolicy(enforce=True, allowed_hosts=frozenset({"127.0.0.1"}))

    assert spec(key_set_url="http://127.0.0.1:8001/jwks").problems(allowed) == []


def test_without_production_loopback_stays_registrable() -> None:
    loopback = "http://127.0.0.1:8001"
    local = spec(issuer=loopback, key_set_url=f"{loopback}/jwks")

    assert local.problems(EgressPolicy(enforce=False)) == []
    assert local.problems() == []


def test_add_platform_refuses_what_the_policy_refuses(session: Session) -> None:
    with pytest.raises(RegistrationError, match="loopback address"):
        platforms.add_platform(
            session, spec(key_set_url="http://127.0.0.1:8001/jwks"), egress=PRODUCTION
        )

    assert platforms.list_platforms(session) == []
