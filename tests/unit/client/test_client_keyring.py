"""Device keys: stored encrypted under the passphrase, unlocked only with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scelle.client.keyring import Keyring
from scelle.client.state import LocalState
from scelle.crypto.age.identity import parse_identity_file
from scelle.crypto.signing import key_bundle_message
from scelle.errors import LocalStateError

LOG_N = 10  # a low scrypt work factor keeps the unit tests fast


def test_keys_round_trip_and_stay_encrypted(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    keyring = Keyring.generate()
    keyring.save(local, "pass phrase", log_n=LOG_N)
    for path in (local.identity_path, local.signing_path):
        content = path.read_bytes()
        assert content.startswith(b"age-encryption.org/v1\n-> scrypt ")
        assert b"AGE-SECRET-KEY" not in content
        assert b"PRIVATE KEY" not in content
    loaded = Keyring.load(local, "pass phrase")
    assert loaded.recipient == keyring.recipient
    assert loaded.fingerprint == keyring.fingerprint
    message = key_bundle_message(loaded.recipient, loaded.ed25519_public)
    keyring.signing_key.public_key.verify(loaded.signing_key.sign(message), message)


def test_wrong_passphrase_and_missing_keys_are_clear(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    with pytest.raises(LocalStateError, match="keygen"):
        Keyring.load(local, "x")
    Keyring.generate().save(local, "right", log_n=LOG_N)
    with pytest.raises(LocalStateError, match="wrong passphrase"):
        Keyring.load(local, "wrong")


def test_damaged_key_files_are_reported(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    Keyring.generate().save(local, "p", log_n=LOG_N)
    local.identity_path.write_bytes(b"not an age file")
    with pytest.raises(LocalStateError, match="damaged"):
        Keyring.load(local, "p")


def test_pending_keys_replace_the_live_ones_only_when_committed(tmp_path: Path) -> None:
    local = LocalState(tmp_path)
    first, second = Keyring.generate(), Keyring.generate()
    first.save(local, "p", log_n=LOG_N)
    second.save(local, "p", log_n=LOG_N, pending=True)
    assert Keyring.load(local, "p").recipient == first.recipient
    Keyring.discard_pending(local)
    assert Keyring.load(local, "p").recipient == first.recipient
    second.save(local, "p", log_n=LOG_N, pending=True)
    Keyring.commit_pending(local)
    assert Keyring.load(local, "p").recipient == second.recipient
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".pending") == []


def test_identity_file_is_a_plain_age_identity_file() -> None:
    keyring = Keyring.generate()
    text = keyring.identity_file()
    assert f"# public key: {keyring.recipient}" in text
    [identity] = parse_identity_file(text)
    assert str(identity.recipient) == keyring.recipient


def test_repr_shows_no_secret() -> None:
    keyring = Keyring.generate()
    assert "AGE-SECRET-KEY" not in repr(keyring)
    assert "PRIVATE" not in repr(keyring)
