"""Recipients: the public side of age, which wraps a file key into stanzas.

* ``X25519Recipient``: ``age1...`` (bech32), the native recipient type.
* ``ScryptRecipient``: a passphrase; it must be the only recipient of a file.

This module never holds or needs a private key, so the server may import it.
"""

from __future__ import annotations

import os
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from scelle.crypto import bech32
from scelle.crypto.age.header import Stanza, b64encode_raw, hkdf_sha256
from scelle.crypto.errors import KeyFormatError

__all__ = [
    "SCRYPT_LABEL",
    "X25519_LABEL",
    "Recipient",
    "ScryptRecipient",
    "X25519Recipient",
    "scrypt_key",
    "x25519_wrap_key",
]

X25519_LABEL = b"age-encryption.org/v1/X25519"
SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
RECIPIENT_HRP = "age"
ZERO_NONCE = bytes(12)


class Recipient(Protocol):
    """Anything that can wrap a 16-byte file key into one or more stanzas."""

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """Return the stanzas that let this recipient recover ``file_key``."""
        ...


def x25519_wrap_key(shared_secret: bytes, share: bytes, recipient: bytes) -> bytes:
    """The key that wraps the file key in an X25519 stanza."""
    return hkdf_sha256(shared_secret, share + recipient, X25519_LABEL)


def scrypt_key(passphrase: bytes, salt: bytes, log_n: int) -> bytes:
    """The key that wraps the file key in an scrypt stanza (r = 8, p = 1)."""
    kdf = Scrypt(salt=SCRYPT_LABEL + salt, length=32, n=1 << log_n, r=8, p=1)
    return kdf.derive(passphrase)


class X25519Recipient:
    """An age X25519 public key (``age1...``)."""

    __slots__ = ("_public",)

    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != 32:
            raise KeyFormatError("an X25519 public key is 32 bytes")
        self._public = bytes(public_bytes)

    @classmethod
    def parse(cls, text: str) -> X25519Recipient:
        """Parse ``age1...``; raises KeyFormatError for anything else."""
        hrp, data = bech32.decode(text)
        if hrp != RECIPIENT_HRP:
            raise KeyFormatError("not an age X25519 recipient (age1...)")
        return cls(data)

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte X25519 public key."""
        return self._public

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """One ``X25519`` stanza, with a fresh ephemeral key."""
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self._public))
        key = x25519_wrap_key(shared, share, self._public)
        body = ChaCha20Poly1305(key).encrypt(ZERO_NONCE, file_key, None)
        return [Stanza("X25519", (b64encode_raw(share).decode("ascii"),), body)]

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self._public)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and other._public == self._public

    def __hash__(self) -> int:
        return hash(self._public)


class ScryptRecipient:
    """A passphrase recipient. ``log_n`` is the scrypt work factor (18: about 1 s)."""

    __slots__ = ("_log_n", "_passphrase")

    def __init__(self, passphrase: str | bytes, *, log_n: int = 18) -> None:
        if not passphrase:
            raise KeyFormatError("the passphrase is empty")
        if not 1 <= log_n <= 30:
            raise KeyFormatError("the scrypt work factor must be between 1 and 30")
        self._passphrase = passphrase.encode() if isinstance(passphrase, str) else passphrase
        self._log_n = log_n

    def wrap(self, file_key: bytes) -> list[Stanza]:
        """One ``scrypt`` stanza with a fresh 16-byte salt."""
        salt = os.urandom(16)
        key = scrypt_key(self._passphrase, salt, self._log_n)
        body = ChaCha20Poly1305(key).encrypt(ZERO_NONCE, file_key, None)
        return [Stanza("scrypt", (b64encode_raw(salt).decode("ascii"), str(self._log_n)), body)]

    def __repr__(self) -> str:
        return f"ScryptRecipient(log_n={self._log_n})"
