"""Numbers, percentages and dates in the learner's regional format (the launch's locale).

Text follows the interface language (lti_tool.web.language), which falls back to English
where we ship no translation; numbers follow the launch's locale whenever Babel knows it,
so a pt-BR learner reads "0,5" and "1.234" even on English pages, as their LMS shows them.
"""

from __future__ import annotations

import functools
from datetime import date, datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern
from flask import Flask, g

from lti_tool.lti.claims import language_tag
from lti_tool.web.language import DEFAULT


def regional_locale(tag: str | None = None) -> Locale:
    """The Babel locale for ``tag`` (default: the current launch's), English if unknown."""
    if tag is None:
        return _launch_locale(getattr(g.get("cxa_launch"), "locale", None))
    return _parse(tag or None)


@functools.lru_cache(maxsize=256)
def _launch_locale(claimed: str | None) -> Locale:
    # A page formats many numbers for one launch: clean its locale claim once, not per number.
    return _parse(language_tag(claimed) or None)


@functools.lru_cache(maxsize=256)
def _parse(tag: str | None) -> Locale:
    # Parsing is costly and pages format many numbers; the tags come from launches, so the
    # cache is bounded rather than keyed on whatever an LMS sends.
    if tag:
        try:
            return Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(DEFAULT)


def number(value: float, digits: int = 0) -> str:
    """``value`` with at most ``digits`` decimals, grouped the regional way."""
    return format_decimal(value, format=_decimal_pattern(digits), locale=regional_locale())


@functools.lru_cache(maxsize=16)
def _decimal_pattern(digits: int) -> NumberPattern:
    # Babel parses a pattern string on every call; the parsed form is reusable.
    return parse_pattern("#,##0" + ("." + "#" * digits if digits else ""))


def percent(fraction: float) -> str:
    """A 0..1 fraction as a whole percentage ("83 %" in some locales, "83%" in others)."""
    return format_percent(fraction, locale=regional_locale())


def day(value: date | datetime) -> str:
    """A date in the regional medium format ("30 Nov 2026", "30 de nov. de 2026")."""
    return format_date(value, format="medium", locale=regional_locale())


def init_app(app: Flask) -> None:
    app.add_template_filter(number, "number")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(day, "day")
