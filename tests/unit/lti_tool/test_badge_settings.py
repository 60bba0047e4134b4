"""The issuer settings: read from the environment, bad values refused at start-up."""

from __future__ import annotations

import pytest

from lti_tool.config import Settings
from lti_tool.errors import ConfigError


def test_defaults_and_environment() -> None:
    assert Settings.from_env({}).badge_issuer_name == "CX Academy"
    settings = Settings.from_env(
        {
            "CXA_BADGE_ISSUER_NAME": "Acme Support",
            "CXA_BADGE_ISSUER_URL": "https://acme.example.org/",
            "CXA_BADGE_ISSUER_EMAIL": "academy@acme.example.org",
        }
    )
    assert settings.badge_issuer_name == "Acme Support"
    assert settings.badge_issuer_url == "https://acme.example.org"
    assert settings.badge_issuer_email == "academy@acme.example.org"
    assert Settings.from_env(settings.as_env()) == settings


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CXA_BADGE_ISSUER_NAME", "  "),
        ("CXA_BADGE_ISSUER_URL", "ftp://acme.example.org"),
        ("CXA_BADGE_ISSUER_EMAIL", "not an address"),
    ],
)
def test_bad_values_are_refused(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: value})
