"""Badge images drawn by the tool itself (no CDN): an SVG and a PNG medal per skill."""

from __future__ import annotations

import hashlib
import struct
import zlib
from functools import cache
from html import escape

# One colour per shipped skill; any other skill gets one derived from its id.
_COLOURS = {
    "listening": (0x1F, 0x5F, 0x99),
    "empathy": (0xA3, 0x2D, 0x5C),
    "communication": (0x1E, 0x6B, 0x4A),
    "problem-solving": (0x8A, 0x4B, 0x08),
    "de-escalation": (0x5B, 0x3F, 0x99),
}
_GENERIC = (0x33, 0x4E, 0x68)


def colour_of(skill: str | None) -> tuple[int, int, int]:
    if skill is None:
        return _GENERIC
    if skill in _COLOURS:
        return _COLOURS[skill]
    # Dark enough for white text on it (contrast >= 4.5:1): each channel below 0x80.
    digest = hashlib.sha256(skill.encode()).digest()
    return (digest[0] % 0x70, digest[1] % 0x70, digest[2] % 0x70)


def badge_svg(label: str, skill: str | None) -> str:
    """A round medal with the skill's initials; ``label`` is its accessible name."""
    red, green, blue = colour_of(skill)
    fill = f"#{red:02x}{green:02x}{blue:02x}"
    initials = "".join(word[0] for word in (skill or "goal").split("-")[:2]).upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256" width="256" height="256" '
        'role="img" aria-labelledby="badge-title">'
        f'<title id="badge-title">{escape(label)}</title>'
        f'<circle cx="128" cy="128" r="120" fill="{fill}"/>'
        '<circle cx="128" cy="128" r="100" fill="none" stroke="#ffffff" stroke-width="6"/>'
        '<text x="128" y="150" text-anchor="middle" font-family="sans-serif" font-size="64" '
        f'font-weight="bold" fill="#ffffff">{escape(initials)}</text>'
        "</svg>\n"
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@cache
def badge_png(skill: str | None, size: int = 128) -> bytes:
    """The same medal as a PNG (a disc with a white ring), for platforms that want raster."""
    red, green, blue = colour_of(skill)
    centre = (size - 1) / 2
    outer, ring_out, ring_in = size * 0.47, size * 0.41, size * 0.37
    rows = bytearray()
    for y in range(size):
        rows.append(0)  # filter type None
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            if distance > outer:
                rows += b"\x00\x00\x00\x00"
            elif ring_in <= distance <= ring_out:
                rows += b"\xff\xff\xff\xff"
            else:
                rows += bytes((red, green, blue, 255))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _chunk(b"IEND", b"")
    )
