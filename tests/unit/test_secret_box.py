"""The server's secret box: sealed values open only with the same secret and context."""

from __future__ import annotations

import pytest

from scelle.secret_box import SecretBox, SecretBoxError


def test_round_trip_and_fresh_nonces() -> None:
    box = SecretBox(b"k" * 64)
    one, two = box.seal(b"seed", context="usr_a"), box.seal(b"seed", context="usr_a")
    assert one != two
    assert box.open(one, context="usr_a") == b"seed"


def test_wrong_context_or_secret_or_tamper_fails() -> None:
    box = SecretBox(b"k" * 64)
    sealed = box.seal(b"seed", context="usr_a")
    with pytest.raises(SecretBoxError):
        box.open(sealed, context="usr_b")
    with pytest.raises(SecretBoxError):
        SecretBox(b"j" * 64).open(sealed, context="usr_a")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SecretBoxError):
        box.open(flipped, context="usr_a")
    with pytest.raises(SecretBoxError):
        box.open(b"short", context="usr_a")
