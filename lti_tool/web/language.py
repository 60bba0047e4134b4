"""The interface language: the launch's locale when we ship it, English otherwise."""

from __future__ import annotations

from typing import Any

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, g
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context

from lti_tool.lti.claims import language_tag

#: Languages with a catalogue under lti_tool/translations (English is the source language).
SHIPPED = ("en",)
DEFAULT = "en"


def select_locale() -> str:
    # The LTI launch carries the LMS user's locale (launch_presentation.locale, a BCP 47
    # tag such as "en-GB", or Moodle's "pt_br"); Babel wants "en_GB" and falls back to the
    # bare language. Whatever cannot be read as a tag means the default language.
    launch = g.get("cxa_launch")
    requested = language_tag(getattr(launch, "locale", None))
    if requested:
        negotiated = Locale.negotiate([requested.replace("-", "_")], SHIPPED, sep="_")
        if negotiated is not None:
            return str(negotiated)
    return DEFAULT


def page_language() -> str:
    """The BCP 47 tag for <html lang>, so screen readers pick the right voice."""
    return str(get_locale() or DEFAULT).replace("_", "-")


#: The render context's name for the request's translations, looked up once per page.
TRANSLATIONS = "cxa_translations"


def _translations(context: Context) -> NullTranslations:
    # Flask-Babel finds the catalogue anew for every string (four context lookups each); a
    # page has dozens of strings, so the page looks it up once (issue 12). Macros imported
    # without the page's context do not see it and ask Flask-Babel as before.
    found = context.get(TRANSLATIONS)
    return found if found is not None else get_translations()


@pass_context
def _gettext(context: Context, string: str) -> str:
    return _translations(context).ugettext(string)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translations(context).ungettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, message_context: str, string: str) -> str:
    return _translations(context).upgettext(message_context, string)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, n: int) -> str:
    return _translations(context).unpgettext(message_context, singular, plural, n)


def _page_globals() -> dict[str, Any]:
    return {"page_lang": page_language(), TRANSLATIONS: get_translations()}


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    # Same strings and catalogues as Flask-Babel's own callables, with the lookup hoisted.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        npgettext=_npgettext,
        newstyle=True,
    )
    app.context_processor(_page_globals)
