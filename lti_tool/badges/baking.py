"""Baking a VC-JWT credential into a badge image and reading it back (OB 3.0 section 5.3).

PNG: one uncompressed ``iTXt`` chunk with keyword ``openbadgecredential`` whose text is the
Compact JWS. SVG: an ``xmlns:openbadges`` declaration on the root and, directly after the
``<svg>`` start tag, one ``<openbadges:credential>`` whose ``verify`` attribute is the JWS.
"""

from __future__ import annotations

import re
import struct
import zlib
from html import escape

from lti_tool.badges.artwork import PNG_SIGNATURE
from lti_tool.badges.errors import BakingError

PNG_KEYWORD = b"openbadgecredential"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("not a PNG image")
    chunks, offset = [], len(PNG_SIGNATURE)
    while offset < len(png):
        if offset + 8 > len(png):
            raise BakingError("truncated PNG chunk")
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        if len(data) != length:
            raise BakingError("truncated PNG chunk")
        chunks.append((kind, data))
        offset += 12 + length
    return chunks


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _is_credential_chunk(kind: bytes, data: bytes) -> bool:
    return kind == b"iTXt" and data.split(b"\x00", 1)[0] == PNG_KEYWORD


def bake_png(png: bytes, compact_jws: str) -> bytes:
    """The image with the credential; an earlier credential chunk is replaced, never doubled."""
    # keyword NUL, compression flag 0 and method 0 (the spec forbids compression), empty
    # language tag NUL, empty translated keyword NUL, then the UTF-8 text.
    itxt = PNG_KEYWORD + b"\x00\x00\x00" + b"\x00" + b"\x00" + compact_jws.encode()
    out = bytearray(PNG_SIGNATURE)
    for kind, data in _chunks(png):
        if _is_credential_chunk(kind, data):
            continue
        out += _chunk(kind, data)
        if kind == b"IHDR":
            out += _chunk(b"iTXt", itxt)
    return bytes(out)


def extract_png(png: bytes) -> str:
    """The text of the first ``openbadgecredential`` iTXt chunk."""
    for kind, data in _chunks(png):
        if _is_credential_chunk(kind, data):
            rest = data[len(PNG_KEYWORD) + 1 :]
            if rest[:1] != b"\x00":
                raise BakingError("the credential chunk is compressed")
            # Skip compression flag and method, then the language tag and translated keyword.
            _, _, tail = rest[2:].partition(b"\x00")
            _, _, text = tail.partition(b"\x00")
            return text.decode()
    raise BakingError("the image carries no credential")


_SVG_START = re.compile(r"<svg\b[^>]*>")


def bake_svg(svg: str, compact_jws: str) -> str:
    match = _SVG_START.search(svg)
    if match is None:
        raise BakingError("not an SVG image")
    if "<openbadges:credential" in svg:
        raise BakingError("the image already carries a credential")
    start = match.group(0)
    opened = start[:-1].rstrip("/") + f' xmlns:openbadges="{SVG_NAMESPACE}">'
    element = f'<openbadges:credential verify="{escape(compact_jws)}"></openbadges:credential>'
    return svg[: match.start()] + opened + element + svg[match.end() :]


_SVG_CREDENTIAL = re.compile(r'<openbadges:credential\b[^>]*\bverify="([^"]*)"')


def extract_svg(svg: str) -> str:
    match = _SVG_CREDENTIAL.search(svg)
    if match is None:
        raise BakingError("the image carries no credential")
    return match.group(1)
