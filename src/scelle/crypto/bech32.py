"""Bech32 (BIP 173) encoding as age uses it for keys: no 90-character limit.

age encodes recipients with the human-readable part ``age`` (lower case) and
identities with ``AGE-SECRET-KEY-`` (upper case). Mixed case is refused.
"""

from __future__ import annotations

from scelle.crypto.errors import KeyFormatError

__all__ = ["decode", "encode"]

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    accumulator = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((accumulator >> bits) & max_value)
    if pad:
        if bits:
            out.append((accumulator << (to_bits - bits)) & max_value)
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & max_value:
        raise KeyFormatError("invalid bech32 padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under ``hrp``; the result has the case of ``hrp``."""
    lower = hrp.lower()
    values = _convert_bits(data, 8, 5, pad=True)
    checksum = _polymod([*_hrp_expand(lower), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    values += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    text = lower + "1" + "".join(_CHARSET[v] for v in values)
    return text.upper() if hrp.isupper() else text


def decode(text: str) -> tuple[str, bytes]:
    """Decode a bech32 string into ``(hrp, data)``. Raises KeyFormatError.

    The returned ``hrp`` keeps the case of the input (all upper or all lower).
    """
    if text.lower() != text and text.upper() != text:
        raise KeyFormatError("mixed-case bech32 string")
    if any(ord(c) < 33 or ord(c) > 126 for c in text):
        raise KeyFormatError("invalid character in bech32 string")
    separator = text.rfind("1")
    if separator < 1 or separator + 7 > len(text):
        raise KeyFormatError("malformed bech32 string")
    hrp = text[:separator]
    lower = text.lower()
    try:
        values = [_CHARSET.index(c) for c in lower[separator + 1 :]]
    except ValueError:
        raise KeyFormatError("invalid character in bech32 data") from None
    if _polymod(_hrp_expand(lower[:separator]) + values) != 1:
        raise KeyFormatError("invalid bech32 checksum")
    return hrp, bytes(_convert_bits(values[:-6], 5, 8, pad=False))
