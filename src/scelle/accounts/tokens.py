"""Secret tokens (API, enrolment, recovery codes): random, shown once, stored hashed."""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = [
    "enrolment_link",
    "hash_token",
    "hmac_equal",
    "new_api_token",
    "new_enrolment_token",
    "new_recovery_code",
]

API_TOKEN_PREFIX = "scl_"  # noqa: S105  (a prefix, not a secret)
ENROLMENT_PREFIX = "enr_"


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_enrolment_token() -> str:
    return ENROLMENT_PREFIX + secrets.token_urlsafe(32)


def enrolment_link(base_url: str, token: str) -> str:
    """The web enrolment page's link, ``BASE/enrol#token=TOKEN``.

    The token rides in the fragment, which browsers never send to a server
    (nor put in a Referer); the page reads it and removes it from the
    address bar.
    """
    return f"{base_url.rstrip('/')}/enrol#token={token}"


def new_recovery_code() -> str:
    raw = secrets.token_hex(8)  # 64 bits, as 4 groups for reading aloud
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def hash_token(token: str) -> str:
    """SHA-256 hex: tokens carry 256 (recovery codes 64) random bits, so a fast hash suffices."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def hmac_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two digests."""
    return hmac.compare_digest(a.encode(), b.encode())
