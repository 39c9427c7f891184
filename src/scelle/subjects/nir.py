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
and checks their keys with :func:`split_by_key`, the same arithmetic inlined
for speed; a property test holds the two equal on every NIR-shaped string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from stdnum.fr import nir as stdnum_nir

__all__ = [
    "COMPACT_PATTERN",
    "SPACED_PATTERN",
    "is_valid",
    "key_of",
    "normalise",
    "split_by_key",
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
