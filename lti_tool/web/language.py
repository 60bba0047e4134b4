"""The interface language: the launch's locale when we ship it, English otherwise."""

from __future__ import annotations

from babel import Locale
from flask import Flask, g
from flask_babel import Babel, get_locale

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


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")
    app.context_processor(lambda: {"page_lang": page_language()})
