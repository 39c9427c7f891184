"""TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s) on pyca's code, replays refused."""

from __future__ import annotations

import base64
import hmac
import os
import time
from urllib.parse import quote

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.totp import TOTP

__all__ = ["STEP", "new_secret", "otpauth_uri", "verify_code"]

STEP = 30
DIGITS = 6
WINDOW = 1  # accept the previous and next step too, for clock skew


def new_secret() -> bytes:
    return os.urandom(20)


def otpauth_uri(secret: bytes, account: str, issuer: str = "Scelle") -> str:
    b32 = base64.b32encode(secret).decode().rstrip("=")
    return (
        f"otpauth://totp/{quote(issuer)}:{quote(account)}?secret={b32}&issuer={quote(issuer)}"
        f"&algorithm=SHA1&digits={DIGITS}&period={STEP}"
    )


def verify_code(
    secret: bytes, code: str, *, last_step: int | None, now: float | None = None
) -> int | None:
    """The time step ``code`` is valid for, or None.

    A step at or before ``last_step`` (the last one accepted for this user) is
    refused, so a code cannot be replayed, even within its 30 seconds.
    """
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    # SHA-1 is what every authenticator app implements for RFC 6238; it is used as an HMAC here.
    totp = TOTP(secret, DIGITS, SHA1(), STEP, enforce_key_length=False)  # noqa: S303
    moment = time.time() if now is None else now
    current = int(moment) // STEP
    matched: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        expected = totp.generate(step * STEP)
        if hmac.compare_digest(expected, code.encode()):
            matched = step
    if matched is None or (last_step is not None and matched <= last_step):
        return None
    return matched
