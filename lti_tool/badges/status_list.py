"""The revocation list as a W3C Bitstring Status List (VC Bitstring Status List 1.0).

One bit per issued credential, by its status-list index; bit 0 is the most significant bit of
the first byte. The list is GZIP-compressed and multibase-encoded (base64url, prefix ``u``),
and is at least 16 KiB uncompressed so that a list reveals little about how many exist.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from lti_tool.badges.credential import VC_CONTEXT, IssuerProfile, iso

#: The specification's minimum length: 131,072 entries (16 KiB).
MIN_BITS = 16 * 1024 * 8


def encode_list(revoked: Iterable[int], size: int = MIN_BITS) -> str:
    indices = list(revoked)
    bits = max(size, MIN_BITS, (max(indices, default=-1) // 8 + 1) * 8)
    raw = bytearray(bits // 8)
    for index in indices:
        raw[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same list always encodes to the same bytes.
    packed = gzip.compress(bytes(raw), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("the list is not multibase base64url")
    body = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def is_set(raw: bytes, index: int) -> bool:
    return bool(raw[index // 8] & (0x80 >> (index % 8)))


def status_list_credential(
    *, list_url: str, issuer: IssuerProfile, revoked: Iterable[int], now: datetime
) -> dict[str, Any]:
    """The unsigned BitstringStatusListCredential; it is signed as VC-JWT like the badges."""
    return {
        "@context": [VC_CONTEXT],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        # The id alone: the VC context (the only one a status list needs) has no Profile terms.
        "issuer": issuer.id,
        "validFrom": iso(now),
        "credentialSubject": {
            "id": f"{list_url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_list(revoked),
        },
    }
