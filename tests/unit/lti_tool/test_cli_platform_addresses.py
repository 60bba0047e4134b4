"""`cxa platform add` in production refuses platform URLs inside the tool's own network."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.cli import main

LOOPBACK = "http://127.0.0.1:8001"
# A public address literal, so the check needs no DNS (unit tests touch no network).
PUBLIC = "https://93.184.216.34"
OPTIONS = [
    "--name", "Internal LMS",
    "--issuer", PUBLIC,
    "--client-id", "client-1",
    "--auth-login-url", f"{PUBLIC}/auth",
    "--auth-token-url", f"{PUBLIC}/token",
    "--key-set-url", f"{LOOPBACK}/jwks",
]  # fmt: skip

Cxa = Callable[..., Result]


@pytest.fixture
def production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Cxa]:
    """`cxa` as a production operator runs it: an https base URL and real secrets."""
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)

    def with_env(**extra: str) -> Cxa:
        env = {
            "CXA_BASE_URL": "https://cxa.example.com",
            "CXA_SECRET_KEY": secrets.token_urlsafe(32),
            "CXA_KEY_ENCRYPTION_SECRET": secrets.token_urlsafe(32),
            "CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
            "CXA_VAR_DIR": str(tmp_path),
            **extra,
        }
        runner = CliRunner()
        return lambda *args: runner.invoke(main, list(args), env=env)

    assert with_env()("db", "upgrade").exit_code == 0
    return with_env


def test_platform_add_refuses_a_loopback_key_set_url(production: Callable[..., Cxa]) -> None:
    cxa = production()

    result = cxa("platform", "add", *OPTIONS)

    assert result.exit_code == 2, result.output
    assert "key_set_url points at 127.0.0.1, a loopback address" in result.output
    assert "CXA_ALLOWED_PRIVATE_HOSTS" in result.output
    assert cxa("platform", "list").output.strip() == "no platforms registered"


def test_platform_add_accepts_a_host_the_operator_allows(production: Callable[..., Cxa]) -> None:
    cxa = production(CXA_ALLOWED_PRIVATE_HOSTS="127.0.0.1")

    result = cxa("platform", "add", *OPTIONS)

    assert result.exit_code == 0, result.output
    assert "registered platform 1" in result.output
