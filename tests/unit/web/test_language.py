"""The interface language comes from the launch's locale, English when we do not ship it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, g

from lti_tool.web.language import select_locale
from tests.unit.web.conftest import LearnerBrowser


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("en-GB", "en"), ("en", "en"), ("fr-CA", "en"), (None, "en"), ("not a tag!", "en")],
)
def test_locale_from_the_launch(app: Flask, locale: str | None, expected: str) -> None:
    with app.test_request_context():
        g.cxa_launch = SimpleNamespace(locale=locale)
        assert select_locale() == expected


def test_pages_declare_their_language(learner: LearnerBrowser) -> None:
    assert '<html lang="en">' in learner.get("courses/service-foundations/").get_data(as_text=True)


@pytest.mark.parametrize("locale", ["pt_br", "zh_cn", "en_us", "x" * 500, "en\x00", 42, ["en"]])
def test_any_stored_locale_gives_a_shipped_language(app: Flask, locale: object) -> None:
    with app.test_request_context():
        g.cxa_launch = SimpleNamespace(locale=locale)
        assert select_locale() in ("en",)
