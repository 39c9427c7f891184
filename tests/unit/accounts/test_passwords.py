"""Passwords: argon2id, policy, and the same work for unknown accounts."""

from __future__ import annotations

import pytest

from scelle.accounts import passwords


def test_hash_is_argon2id_and_verifies() -> None:
    stored = passwords.hash_password("a long enough password")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a long enough password")
    assert not passwords.verify_password(stored, "a long enough passwore")


def test_missing_hash_never_verifies() -> None:
    assert not passwords.verify_password(None, "scelle/v1/dummy-password-for-unknown-accounts")
    assert not passwords.verify_password("not-a-hash", "whatever")


@pytest.mark.parametrize("password", ["", "short", "x" * 11, "x" * 1025])
def test_policy(password: str) -> None:
    with pytest.raises(passwords.PasswordPolicyError):
        passwords.check_policy(password)
