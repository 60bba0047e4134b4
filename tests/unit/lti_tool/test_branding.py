"""Per-deployment branding: the contrast rule, `cxa platform brand`, and what pages show."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from lti_tool.branding import (
    BACKGROUNDS,
    MIN_CONTRAST,
    contrast_ratio,
    parse_accent,
    parse_organisation,
)
from lti_tool.cli import main
from lti_tool.errors import BrandingError

Cxa = Callable[..., Result]

MOODLE = "https://moodle.example.edu"
PLATFORM = [
    "platform", "add",
    "--name", "Acme Moodle",
    "--issuer", MOODLE,
    "--client-id", "client-1",
    "--auth-login-url", f"{MOODLE}/mod/lti/auth.php",
    "--auth-token-url", f"{MOODLE}/mod/lti/token.php",
    "--key-set-url", f"{MOODLE}/mod/lti/certs.php",
    "--deployment-id", "1",
    "--deployment-id", "2",
]  # fmt: skip


def test_contrast_ratio_matches_the_wcag_reference_points() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    # #767676 on white is the well-known lightest grey that passes AA (4.54:1).
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("given", ["#0b5cad", "0B5CAD", "#05a", "  #1e6b3a "])
def test_readable_accents_are_accepted_and_normalised(given: str) -> None:
    colour = parse_accent(given)
    assert colour.startswith("#") and len(colour) == 7 and colour == colour.lower()
    assert all(contrast_ratio(colour, bg) >= MIN_CONTRAST for bg in BACKGROUNDS.values())


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("#ffcc00", ["contrast", "white", "darker"]),  # yellow: unreadable on white
        ("#777777", ["contrast", "4.48", "4.5"]),  # just under AA on white
        ("#767676", ["page background"]),  # AA on white, not on the pale page
        ("red", ["not a colour"]),
        ("#12345", ["not a colour"]),
        ("url(x)", ["not a colour"]),
    ],
)
def test_accents_that_fail_are_refused_with_the_reason(given: str, words: list[str]) -> None:
    with pytest.raises(BrandingError) as caught:
        parse_accent(given)
    for word in words:
        assert word in str(caught.value)


def test_organisation_names_are_one_trimmed_line_of_bounded_length() -> None:
    assert parse_organisation("  Acme \n Support  ") == "Acme Support"
    for bad in ("", "   ", "x" * 81):
        with pytest.raises(BrandingError):
            parse_organisation(bad)


@pytest.fixture
def cxa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cxa:
    for name in list(os.environ):
        if name.startswith("CXA_"):
            monkeypatch.delenv(name)
    env = {"CXA_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "CXA_VAR_DIR": str(tmp_path)}
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    assert run("db", "upgrade").exit_code == 0
    assert run(*PLATFORM).exit_code == 0
    return run


def test_brand_a_registration_then_override_one_deployment(cxa: Cxa) -> None:
    result = cxa("platform", "brand", "1", "--name", "Acme Support", "--accent", "#1e6b3a")
    assert result.exit_code == 0, result.output
    assert "Acme Support" in result.output and "#1e6b3a" in result.output
    result = cxa("platform", "brand", "1", "--deployment-id", "2", "--accent", "#6b1e5a")
    assert result.exit_code == 0, result.output
    # The deployment keeps the registration's name and uses its own colour.
    assert "Acme Support" in result.output and "#6b1e5a" in result.output
    shown = cxa("platform", "brand", "1", "--deployment-id", "1")
    assert "#1e6b3a" in shown.output
    cleared = cxa("platform", "brand", "1", "--deployment-id", "2", "--clear")
    assert cleared.exit_code == 0
    assert "#1e6b3a" in cxa("platform", "brand", "1", "--deployment-id", "2").output


def test_brand_refuses_bad_input_and_writes_nothing(cxa: Cxa) -> None:
    for args, words in (
        (["--accent", "#ffff00"], ["contrast", "darker"]),
        (["--name", "   "], ["empty"]),
        (["--deployment-id", "9", "--name", "X"], ["no deployment"]),
        (["--clear", "--name", "X"], ["--clear"]),
    ):
        result = cxa("platform", "brand", "1", *args)
        assert result.exit_code == 2, result.output
        for word in words:
            assert word in result.output
    assert cxa("platform", "brand", "7", "--name", "X").exit_code == 2
    assert "organisation (none), accent (default)" in cxa("platform", "brand", "1").output
