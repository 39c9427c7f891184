"""Password hashing with argon2id (RFC 9106 parameters via argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "PasswordPolicyError",
    "check_policy",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4
# Verified against when the e-mail is unknown, so both paths cost one argon2 run.
_DUMMY_HASH = _hasher.hash("scelle/v1/dummy-password-for-unknown-accounts")


class PasswordPolicyError(ValueError):
    """The password is too short or too long."""


def check_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordPolicyError(
            f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordPolicyError("the password is too long")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; runs one argon2 verification even without a hash."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password[:MAX_PASSWORD_LENGTH]) and (
            stored_hash is not None
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
