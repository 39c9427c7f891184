"""Interoperability with the reference ``age`` tool (Debian package) and pyrage, both ways."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pyrage
import pytest

from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.identity import ScryptIdentity, X25519Identity
from scelle.crypto.age.recipients import ScryptRecipient, X25519Recipient
from scelle.crypto.age.stream import CHUNK_SIZE

pytestmark = pytest.mark.interop

AGE = shutil.which("age") or "/usr/bin/age"
SIZES = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * 1024 * 1024 + 7]


def _age(*args: str, data: bytes) -> bytes:
    result = subprocess.run([AGE, *args], input=data, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


@pytest.fixture
def identity_file(tmp_path: Path) -> tuple[X25519Identity, Path]:
    identity = X25519Identity.generate()
    path = tmp_path / "key.txt"
    path.write_text(f"# public key: {identity.recipient}\n{identity}\n")
    return identity, path


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("armor", [False, True])
def test_age_tool_decrypts_what_we_encrypt(
    identity_file: tuple[X25519Identity, Path], size: int, armor: bool
) -> None:
    identity, path = identity_file
    data = os.urandom(size)
    sealed = encrypt_bytes(
        data, [identity.recipient, X25519Identity.generate().recipient], armor=armor
    )
    assert _age("-d", "-i", str(path), data=sealed) == data


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("armor", [False, True])
def test_we_decrypt_what_the_age_tool_encrypts(
    identity_file: tuple[X25519Identity, Path], size: int, armor: bool
) -> None:
    identity, _ = identity_file
    data = os.urandom(size)
    sealed = _age(*(["-a"] if armor else []), "-r", str(identity.recipient), data=data)
    assert decrypt_bytes(sealed, [identity]) == data


def test_age_tool_keygen_identity_works_with_us(tmp_path: Path) -> None:
    key = tmp_path / "age-keygen.txt"
    subprocess.run(["age-keygen", "-o", str(key)], check=True, capture_output=True)
    text = key.read_text()
    secret = next(line for line in text.splitlines() if line.startswith("AGE-SECRET-KEY-1"))
    public = next(line for line in text.splitlines() if "public key:" in line).split(": ")[1]
    identity = X25519Identity.parse(secret)
    assert str(identity.recipient) == public
    assert (
        _age("-d", "-i", str(key), data=encrypt_bytes(b"hello", [X25519Recipient.parse(public)]))
        == b"hello"
    )


@pytest.mark.parametrize("size", [0, CHUNK_SIZE + 1, 1024 * 1024])
def test_pyrage_both_ways_x25519(size: int) -> None:
    data = os.urandom(size)
    theirs = pyrage.x25519.Identity.generate()
    ours = X25519Identity.parse(str(theirs))
    assert str(ours.recipient) == str(theirs.to_public())
    assert pyrage.decrypt(encrypt_bytes(data, [ours.recipient]), [theirs]) == data
    assert decrypt_bytes(pyrage.encrypt(data, [theirs.to_public()]), [ours]) == data


def test_pyrage_both_ways_passphrase() -> None:
    data = os.urandom(100_000)
    assert (
        pyrage.passphrase.decrypt(encrypt_bytes(data, [ScryptRecipient("pw", log_n=14)]), "pw")
        == data
    )
    assert decrypt_bytes(pyrage.passphrase.encrypt(data, "pw"), [ScryptIdentity("pw")]) == data
