"""Random, prefixed identifiers (128 bits) and their strict parsing.

Ids are never guessable and never sequential: knowing one transfer's id tells
nothing about another's. Anything from outside that does not match the exact
shape is treated as unknown (404), before it reaches a query or a path.
"""

from __future__ import annotations

import base64
import re
import secrets

__all__ = ["PREFIXES", "is_valid", "new_id"]

PREFIXES = frozenset({"org", "usr", "key", "tok", "tr", "up", "ev", "br", "pk"})
_BODY_LEN = 26  # 16 random bytes in lowercase base32, without padding
_PATTERN = re.compile(r"\A([a-z]{2,3})_([a-z2-7]{26})\Z")


def new_id(prefix: str) -> str:
    """A fresh id such as ``tr_5m2q...``: the prefix names the kind, 128 random bits follow."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown id prefix {prefix!r}")
    body = base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()
    return f"{prefix}_{body}"


def is_valid(value: str, prefix: str) -> bool:
    """True when ``value`` is exactly an id of kind ``prefix``."""
    match = _PATTERN.match(value)
    return match is not None and match.group(1) == prefix and len(match.group(2)) == _BODY_LEN
