"""The egress policy: which addresses platform URLs may point at, in production and not."""

from __future__ import annotations

from pathlib import Path
from secrets import token_urlsafe

import pytest

from lti_tool.config import Settings
from lti_tool.egress import EgressPolicy, EgressRefused, address_kind
from lti_tool.errors import ConfigError
from tests.conftest import embedded_settings

PUBLIC = "93.184.216.34"


def resolving(**names: list[str]) -> EgressPolicy:
    """A production policy whose DNS answers come from ``names`` (dots written as _)."""

    def resolve(host: str) -> list[str]:
        try:
            return names[host.replace(".", "_")]
        except KeyError:
            raise OSError(f"{host} does not resolve") from None

    return EgressPolicy(enforce=True, resolve=resolve)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("::ffff:192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("100.64.0.1", "non-public"),
        (PUBLIC, None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_addresses_are_classified(address: str, kind: str | None) -> None:
    assert address_kind(address) == kind


def test_production_refuses_a_loopback_literal() -> None:
    policy = EgressPolicy(enforce=True)

    problem = policy.registration_problem("https://127.0.0.1/jwks")

    assert problem is not None
    assert "127.0.0.1, a loopback address" in problem
    assert "CXA_ALLOWED_PRIVATE_HOSTS" in problem


def test_production_refuses_an_ipv6_literal_of_a_private_range() -> None:
    problem = EgressPolicy(enforce=True).registration_problem("https://[fd00::5]:8443/jwks")

    assert problem is not None
    assert "private address" in problem


def test_production_refuses_a_name_that_resolves_to_a_private_address() -> None:
    policy = resolving(lms_corp_example=[PUBLIC, "10.0.0.7"])

    problem = policy.registration_problem("https://lms.corp.example/jwks")

    assert problem is not None
    assert "lms.corp.example (which resolves to 10.0.0.7), a private address" in problem
    with pytest.raises(EgressRefused, match=r"10\.0\.0\.7"):
        policy.require_public("https://lms.corp.example/jwks")


def test_the_real_resolver_is_used_for_localhost() -> None:
    problem = EgressPolicy(enforce=True).registration_problem("http://localhost:8001/jwks")

    assert problem is not None
    assert "loopback address" in problem


def test_a_public_name_is_allowed() -> None:
    policy = resolving(moodle_example_edu=[PUBLIC])

    assert policy.registration_problem("https://moodle.example.edu/jwks") is None
    assert policy.require_public("https://moodle.example.edu/jwks") == [PUBLIC]


def test_an_unresolvable_name_may_be_registered_but_not_fetched() -> None:
    policy = resolving()

    # DNS may be set up after the registration; every fetch checks again.
    assert policy.registration_problem("https://lms.not-yet.example/jwks") is None
    with pytest.raises(EgressRefused, match="cannot be resolved"):
        policy.require_public("https://lms.not-yet.example/jwks")


@pytest.mark.parametrize("allowed", ["lms.corp.example", "LMS.corp.example."])
def test_an_operator_may_allow_a_private_host_by_name(allowed: str) -> None:
    policy = EgressPolicy(
        enforce=True,
        allowed_hosts=frozenset({allowed.lower().rstrip(".")}),
        resolve=lambda _host: ["10.0.0.7"],
    )

    assert policy.registration_problem("https://LMS.corp.example/jwks") is None
    assert policy.require_public("https://lms.corp.example/jwks") == []
    # Allowing one host allows no other.
    assert policy.registration_problem("https://other.corp.example/jwks") is not None


def test_outside_production_every_address_is_allowed() -> None:
    policy = EgressPolicy(enforce=False)

    assert policy.registration_problem("http://127.0.0.1:8001/jwks") is None
    assert policy.registration_problem("https://169.254.169.254/latest") is None


@pytest.mark.parametrize(
    ("base_url", "enforced"),
    [
        ("https://cxa.example.com", True),
        ("HTTPS://cxa.example.com", True),
        ("http://127.0.0.1:8000", False),
    ],
)
def test_the_policy_follows_the_base_url(tmp_path: Path, base_url: str, enforced: bool) -> None:
    keys = {
        "secret_key": token_urlsafe(32),
        "key_encryption_secret": token_urlsafe(32),
    }
    settings = embedded_settings(
        tmp_path, base_url=base_url, allowed_private_hosts=("lms.internal",), **keys
    )

    policy = EgressPolicy.from_settings(settings)

    assert policy.enforce is enforced
    assert policy.allowed_hosts == frozenset({"lms.internal"})


def test_the_allowed_hosts_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"CXA_ALLOWED_PRIVATE_HOSTS": " LMS.internal, 10.0.0.5 ,::1"})

    assert settings.allowed_private_hosts == ("lms.internal", "10.0.0.5", "::1")
    assert Settings.from_env(settings.as_env()).allowed_private_hosts == (
        "lms.internal",
        "10.0.0.5",
        "::1",
    )


@pytest.mark.parametrize("value", ["https://lms.internal", "lms.internal:8443", "lms/jwks"])
def test_allowed_hosts_are_host_names_only(value: str) -> None:
    with pytest.raises(ConfigError, match="CXA_ALLOWED_PRIVATE_HOSTS"):
        Settings.from_env({"CXA_ALLOWED_PRIVATE_HOSTS": value})
