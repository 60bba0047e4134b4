"""Numbers in the learner's regional format, whatever language the page text is in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from flask import Flask, g

from lti_tool.web.regional import day, number, percent


@dataclass
class FakeLaunch:
    locale: str | None


@pytest.mark.parametrize(
    ("locale", "big", "decimal", "share"),
    [
        ("pt-BR", "1.234", "3,5", "83%"),
        ("pt_br", "1.234", "3,5", "83%"),  # Moodle's spelling
        ("de-DE", "1.234", "3,5", "83 %"),
        ("en-US", "1,234", "3.5", "83%"),
        (None, "1,234", "3.5", "83%"),
        ("xx-not-a-locale", "1,234", "3.5", "83%"),
    ],
)
def test_numbers_follow_the_launch_locale(
    app: Flask, locale: str | None, big: str, decimal: str, share: str
) -> None:
    with app.test_request_context():
        g.cxa_launch = FakeLaunch(locale)
        assert number(1234) == big
        assert number(3.5, 1) == decimal
        assert number(3.0, 1) == "3"
        assert percent(0.8333).replace("\xa0", " ") == share


def test_dates_follow_the_launch_locale(app: Flask) -> None:
    with app.test_request_context():
        g.cxa_launch = FakeLaunch("pt-BR")
        assert "2026" in day(date(2026, 11, 30)) and "nov" in day(date(2026, 11, 30))
