"""Per-deployment branding rules: an organisation name and an accent colour that stays readable.

Pure (no Flask, no database): the store keeps what passed these checks, the web side
only renders it. The accent colour fills buttons under white text and colours links on
the white cards and the pale page background, so it must reach WCAG 2.1 AA contrast
(4.5:1 for normal text, success criterion 1.4.3) against each of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lti_tool.errors import BrandingError

#: WCAG 2.1 SC 1.4.3 (AA) minimum for normal-size text.
MIN_CONTRAST = 4.5
#: What the accent meets in our stylesheet (cxa.css): white button text, the white card and
#: the page background.
BACKGROUNDS = {"white": "#ffffff", "page background": "#f5f7fa"}
MAX_NAME = 80
DEFAULT_ACCENT = "#0b5cad"

_HEX = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")


@dataclass(frozen=True)
class Brand:
    """What a page shows for one deployment; None means the product default."""

    organisation: str | None = None
    accent: str | None = None


def _channel(value: int) -> float:
    # sRGB to linear light, WCAG 2.1 definition of relative luminance.
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two "#rrggbb" colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def parse_accent(text: str) -> str:
    """``text`` as "#rrggbb" when it is a colour readable on every background it meets.

    Raises BrandingError naming the failing background and the ratio reached, so an
    operator can pick a darker shade.
    """
    match = _HEX.match(text.strip())
    if match is None:
        raise BrandingError(
            f"{text!r} is not a colour: give six hexadecimal digits such as #0b5cad"
        )
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    colour = "#" + digits
    for name, background in BACKGROUNDS.items():
        ratio = contrast_ratio(colour, background)
        if ratio < MIN_CONTRAST:
            raise BrandingError(
                f"accent {colour} has a contrast of {ratio:.2f}:1 against the {name} "
                f"({background}); WCAG AA needs at least {MIN_CONTRAST}:1 for text, so "
                "choose a darker shade"
            )
    return colour


def parse_organisation(text: str) -> str:
    """The organisation name as shown in the page header: trimmed, one line, not too long."""
    name = " ".join(text.split())
    if not name:
        raise BrandingError("the organisation name is empty")
    if len(name) > MAX_NAME:
        raise BrandingError(f"the organisation name is longer than {MAX_NAME} characters")
    return name
