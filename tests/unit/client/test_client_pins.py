"""Trust on first use: a changed key is refused until the user trusts it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from scelle.client import pins
from scelle.client.keyring import Keyring
from scelle.client.state import LocalState
from scelle.errors import KeyChanged, ServerError


def _entry(keyring: Keyring) -> dict[str, str]:
    return {
        "x25519_recipient": keyring.recipient,
        "ed25519_public": base64.b64encode(keyring.ed25519_public).decode(),
    }


def test_first_sight_pins_then_the_same_key_passes(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    fingerprint = pins.fingerprint_of(_entry(Keyring.generate()))
    assert pins.status(local, "usr_a", fingerprint) == "new"
    assert pins.check(local, "usr_a", "a@x.test", fingerprint) is True
    assert pins.check(local, "usr_a", "a@x.test", fingerprint) is False
    assert pins.status(local, "usr_a", fingerprint) == "pinned"


def test_a_changed_key_is_refused_until_trusted(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    old = pins.fingerprint_of(_entry(Keyring.generate()))
    new = pins.fingerprint_of(_entry(Keyring.generate()))
    pins.check(local, "usr_a", "a@x.test", old)
    with pytest.raises(KeyChanged, match=r"scelle keys trust a@x\.test"):
        pins.check(local, "usr_a", "a@x.test", new)
    assert pins.status(local, "usr_a", new) == "changed"
    assert pins.trust(local, "usr_a", "a@x.test", new) == old
    assert pins.check(local, "usr_a", "a@x.test", new) is False


def test_the_fingerprint_is_computed_locally_not_taken_from_the_server() -> None:
    keyring = Keyring.generate()
    entry = _entry(keyring)
    assert pins.fingerprint_of(entry) == keyring.fingerprint
    with pytest.raises(ServerError, match="does not match"):
        pins.fingerprint_of({**entry, "fingerprint": "AAAA " * 7 + "AAAA"})
    with pytest.raises(ServerError, match="malformed"):
        pins.fingerprint_of({**entry, "ed25519_public": "!!"})
