"""The French social-security number (NIR) and its INS form: shape, key, normalisation.

A NIR is 15 characters: sex (1), year (2), month (2), department (2, ``2A``/``2B``
for Corsica), commune (3), order (3), and a 2-digit key equal to
``97 - (n mod 97)`` where ``n`` is the first 13 characters read as a number,
``2A`` counting as ``19`` and ``2B`` as ``18``. The INS (identifiant national
de santé) of a person with a NIR is that same number (INS-NIR); a person
without one gets an NIA of the same shape. So the shape cannot tell an INS
from a NIR: the column header does (see :mod:`scelle.subjects.kinds`).

``python-stdnum``'s ``stdnum.fr.nir`` is the reference validator
(:func:`is_valid`). The scanner finds candidates with a compiled bytes regex
(or, for a column of bare NIRs, a shape check over the whole column) and
checks their keys with :func:`key_mask`: the same arithmetic, run on all the
candidates at once (``bytes.translate`` tables hold each digit's weight mod 97
and Python integers add thousands of one-byte lanes in one operation), so no
Python code runs per candidate. :func:`split_by_key` is the same check one
value at a time. Property tests hold both equal to stdnum on every
NIR-shaped string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import compress

from stdnum.fr import nir as stdnum_nir

__all__ = [
    "COMPACT_PATTERN",
    "SPACED_PATTERN",
    "is_valid",
    "key_mask",
    "key_of",
    "normalise",
    "split_by_key",
    "split_packed",
]

#: The 15-character shape, with word boundaries (bytes). First character: sex
#: 1/2, 3/4 for some foreign-born people, 7/8 for temporary numbers (NIA).
COMPACT_SOURCE = rb"\b[1-478][0-9]{4}(?:[0-9]{2}|2[ABab])[0-9]{8}\b"
COMPACT_PATTERN = re.compile(COMPACT_SOURCE)
#: The grouped written form ``1 85 05 78 006 084 36`` (spaces or dots).
SPACED_PATTERN = re.compile(
    rb"\b[1-478][ .][0-9]{2}[ .][0-9]{2}[ .](?:[0-9]{2}|2[ABab])"
    rb"[ .][0-9]{3}[ .][0-9]{3}[ .][0-9]{2}\b"
)
_SEPARATORS = re.compile(r"[ .]")
_CORSICA = {b"2A": b"19", b"2B": b"18"}


def normalise(value: str) -> str:
    """The compact upper-case form (``1 85 05 2a ...`` -> ``18505 2A...``), without separators."""
    return _SEPARATORS.sub("", value.strip()).upper()


def key_of(first13: str) -> int:
    """The control key of the first 13 characters of a NIR (Corsica: 2A -> 19, 2B -> 18)."""
    department = first13[5:7].upper()
    digits = first13[:5] + {"2A": "19", "2B": "18"}.get(department, department) + first13[7:13]
    return 97 - int(digits) % 97


def is_valid(value: str) -> bool:
    """Whether ``value`` (separators allowed) is a NIR with a correct key (``stdnum.fr.nir``)."""
    return bool(stdnum_nir.is_valid(value))


def split_by_key(candidates: Iterable[bytes]) -> tuple[list[bytes], int]:
    """Split compact 15-character candidates into (those with a valid key, count of the others).

    Same arithmetic as ``stdnum.fr.nir`` (it is the hot loop of the scanner:
    one integer modulo per candidate, Corsican numbers translated first).
    """
    valid: list[bytes] = []
    invalid = 0
    append = valid.append
    for candidate in candidates:
        value = candidate
        try:
            number = int(value[:13])
        except ValueError:  # 2A / 2B; any other letter is not a NIR
            value = value.upper()
            corsica = _CORSICA.get(value[5:7])
            if corsica is None or not (value[:5] + value[7:15]).isdigit():
                invalid += 1
                continue
            number = int(value[:5] + corsica + value[7:13])
        if value[13:].isdigit() and 97 - number % 97 == int(value[13:]):
            append(value)
        else:
            invalid += 1
    return valid, invalid


# --- the key check over many candidates at once -------------------------------
#
# Candidate i sits at packed[i*stride : i*stride+15]. Lane j of every candidate
# is packed[j::stride]; translating it through _WEIGHTS[j] gives each digit's
# contribution d * 10**(12-j) mod 97 as one byte per candidate. Reading those
# bytes as one little-endian integer adds all candidates' lanes in one
# operation: each byte stays below 2 * 97 < 256, so no carry crosses into the
# next candidate, and _MOD97 brings every byte back below 97 after each sum.
# Corsica: "2A" must weigh as "19" (and "2B" as "18"): the "2" of position 5
# already counted 2 * 10**7, so the letter at position 6 weighs its digit
# times 10**6 minus 10**7.

_DIGITS = b"0123456789"


def _weight_table(position: int) -> bytes:
    weight = pow(10, 12 - position, 97)
    table = bytearray(256)
    for digit in range(10):
        table[_DIGITS[digit]] = digit * weight % 97
    if position == 6:
        for letter, digit in ((b"A", 9), (b"a", 9), (b"B", 8), (b"b", 8)):
            table[letter[0]] = (digit * pow(10, 6, 97) - pow(10, 7, 97)) % 97
    return bytes(table)


_WEIGHTS = [_weight_table(j) for j in range(13)]
_MOD97 = bytes(v % 97 for v in range(256))
_EXPECTED_KEY = bytes(97 - v if v < 97 else 0 for v in range(256))
# A non-digit key character gives a lane of 98 or more (no valid key), never a carry.
_TENS = bytes(10 * (c - 48) if 48 <= c <= 57 else 128 for c in range(256))
_UNITS = bytes(c - 48 if 48 <= c <= 57 else 100 for c in range(256))
_ZERO_IS_ONE = bytes([1] + [0] * 255)


def key_mask(packed: bytes, stride: int = 15) -> bytes:
    """One byte per candidate of ``packed``: 1 where its key is right, 0 where it is wrong.

    Each candidate takes ``stride`` bytes (>= 15), its first 15 the compact NIR
    shape of :data:`COMPACT_PATTERN` (the caller has checked it: this function
    does the arithmetic only). Same result as :func:`split_by_key`.
    """
    count = (len(packed) + stride - 15) // stride if len(packed) >= 15 else 0
    if count == 0:
        return b""
    total = 0
    for position in range(13):
        lane = packed[position::stride][:count].translate(_WEIGHTS[position])
        total += int.from_bytes(lane, "little")
        total = int.from_bytes(total.to_bytes(count, "little").translate(_MOD97), "little")
    expected = total.to_bytes(count, "little").translate(_EXPECTED_KEY)
    tens = packed[13::stride][:count].translate(_TENS)
    units = packed[14::stride][:count].translate(_UNITS)
    written = int.from_bytes(tens, "little") + int.from_bytes(units, "little")
    diff = int.from_bytes(expected, "little") ^ written
    return diff.to_bytes(count, "little").translate(_ZERO_IS_ONE)


def split_packed(candidates: list[bytes]) -> tuple[list[bytes], int]:
    """:func:`split_by_key` for candidates found by :data:`COMPACT_PATTERN` (all 15 bytes)."""
    if not candidates:
        return [], 0
    packed = b"".join(candidates)
    valid = list(compress(candidates, key_mask(packed)))
    if b"a" in packed or b"b" in packed:  # 2a / 2b: the index keeps upper case
        valid = [value.upper() for value in valid]
    return valid, len(candidates) - len(valid)
