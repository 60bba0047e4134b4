"""The interface language comes from the launch's locale, English when we do not ship it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from flask import Flask, g, render_template
from jinja2 import ChoiceLoader, DictLoader

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


class _Marked:
    """A catalogue that marks every string it translates, so the test sees who was asked."""

    def ugettext(self, string: str) -> str:
        return f"[{string}]"

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return f"[{singular if n == 1 else plural}]"

    def upgettext(self, context: str, string: str) -> str:
        return f"[{context}:{string}]"

    def unpgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return f"[{context}:{singular if n == 1 else plural}]"


def test_templates_translate_through_the_requests_catalogue(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pages read the catalogue once per render instead of once per string: the strings must
    # still come from the request's catalogue, escaped and formatted as Flask-Babel's are,
    # in the page and in a macro imported without the page's context.
    monkeypatch.setattr("lti_tool.web.language.get_translations", _Marked)
    templates = {
        "lang-test-macro.html": "{% macro hi(who) %}{{ _('Hi %(who)s', who=who) }}{% endmacro %}",
        "lang-test-page.html": (
            "{% import 'lang-test-macro.html' as m %}"
            "{{ _('Hello %(name)s', name=name) }}"
            "|{{ ngettext('%(num)d goal', '%(num)d goals', 2) }}"
            "|{{ pgettext('menu', 'Open') }}|{{ npgettext('menu', 'item', 'items', 1) }}"
            "|{{ m.hi(name) }}"
        ),
    }
    original = app.jinja_env.loader
    assert original is not None
    app.jinja_env.loader = ChoiceLoader([DictLoader(templates), original])
    try:
        with app.test_request_context():
            rendered = render_template("lang-test-page.html", name="<b>")
    finally:
        app.jinja_env.loader = original
    assert rendered == "[Hello &lt;b&gt;]|[2 goals]|[menu:Open]|[menu:item]|[Hi &lt;b&gt;]"
