"""Identities: the private side of age, which unwraps a file key from stanzas.

* ``X25519Identity``: ``AGE-SECRET-KEY-1...``.
* ``ScryptIdentity``: a passphrase, with the scrypt work factor capped
  (``max_log_n``, 20 by default, as typage) so a hostile file cannot cost
  minutes and gigabytes.

Only client code imports this module; the server never does (import-linter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from scelle.crypto import bech32
from scelle.crypto.age.header import FILE_KEY_SIZE, Stanza, b64decode_canonical
from scelle.crypto.age.recipients import ZERO_NONCE, X25519Recipient, scrypt_key, x25519_wrap_key
from scelle.crypto.errors import HeaderError, KeyFormatError, ScryptWorkFactorError

__all__ = [
    "DEFAULT_MAX_SCRYPT_LOG_N",
    "Identity",
    "ScryptIdentity",
    "X25519Identity",
    "parse_identity_file",
]

IDENTITY_HRP = "AGE-SECRET-KEY-"
DEFAULT_MAX_SCRYPT_LOG_N = 20
WRAPPED_KEY_SIZE = FILE_KEY_SIZE + 16
_DECIMAL = re.compile(r"\A[1-9][0-9]{0,2}\Z")


class Identity(Protocol):
    """Anything that may unwrap the file key from a header's stanzas."""

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Return the file key, ``None`` if no stanza is for this identity.

        Raises HeaderError when a stanza of this identity's type is malformed.
        """
        ...


def _open_body(key: bytes, body: bytes) -> bytes | None:
    if len(body) != WRAPPED_KEY_SIZE:
        raise HeaderError("a wrapped file key must be 16 bytes")
    try:
        return ChaCha20Poly1305(key).decrypt(ZERO_NONCE, body, None)
    except InvalidTag:
        return None


class X25519Identity:
    """An age X25519 private key. ``str()`` gives the secret ``AGE-SECRET-KEY-1...``."""

    __slots__ = ("_private", "_recipient")

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._private = private_key
        self._recipient = X25519Recipient(private_key.public_key().public_bytes_raw())

    @classmethod
    def generate(cls) -> X25519Identity:
        """A new random identity."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def parse(cls, text: str) -> X25519Identity:
        """Parse ``AGE-SECRET-KEY-1...``; raises KeyFormatError (never echoing the key)."""
        try:
            hrp, data = bech32.decode(text.strip())
        except KeyFormatError:
            raise KeyFormatError("not an age X25519 identity") from None
        if hrp != IDENTITY_HRP or len(data) != 32:
            raise KeyFormatError("not an age X25519 identity (AGE-SECRET-KEY-1...)")
        return cls(X25519PrivateKey.from_private_bytes(data))

    @property
    def recipient(self) -> X25519Recipient:
        """The matching public recipient (``age1...``)."""
        return self._recipient

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Try every ``X25519`` stanza; see ``Identity.unwrap``."""
        for stanza in stanzas:
            if stanza.type != "X25519":
                continue
            if len(stanza.args) != 1:
                raise HeaderError("an X25519 stanza has exactly one argument")
            share = b64decode_canonical(stanza.args[0].encode("ascii"))
            if len(share) != 32:
                raise HeaderError("an X25519 share is 32 bytes")
            if len(stanza.body) != WRAPPED_KEY_SIZE:
                raise HeaderError("a wrapped file key must be 16 bytes")
            try:
                shared = self._private.exchange(X25519PublicKey.from_public_bytes(share))
            except ValueError:  # low-order point: all-zero shared secret
                raise HeaderError("invalid X25519 share") from None
            if shared == bytes(32):
                raise HeaderError("invalid X25519 share")
            key = x25519_wrap_key(shared, share, self._recipient.public_bytes)
            file_key = _open_body(key, stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self._private.private_bytes_raw())

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self._recipient})"


class ScryptIdentity:
    """A passphrase that opens ``scrypt`` stanzas up to work factor ``2**max_log_n``."""

    __slots__ = ("_max_log_n", "_passphrase")

    def __init__(
        self, passphrase: str | bytes, *, max_log_n: int = DEFAULT_MAX_SCRYPT_LOG_N
    ) -> None:
        self._passphrase = passphrase.encode() if isinstance(passphrase, str) else passphrase
        self._max_log_n = max_log_n

    def unwrap(self, stanzas: Sequence[Stanza]) -> bytes | None:
        """Try the ``scrypt`` stanza; see ``Identity.unwrap``. Raises ScryptWorkFactorError."""
        for stanza in stanzas:
            if stanza.type != "scrypt":
                continue
            if len(stanza.args) != 2:
                raise HeaderError("an scrypt stanza has exactly two arguments")
            salt = b64decode_canonical(stanza.args[0].encode("ascii"))
            if len(salt) != 16:
                raise HeaderError("an scrypt salt is 16 bytes")
            if not _DECIMAL.match(stanza.args[1]):
                raise HeaderError("invalid scrypt work factor")
            log_n = int(stanza.args[1])
            if log_n > self._max_log_n:
                raise ScryptWorkFactorError(
                    f"scrypt work factor 2^{log_n} is above the limit 2^{self._max_log_n}"
                )
            if len(stanza.body) != WRAPPED_KEY_SIZE:
                raise HeaderError("a wrapped file key must be 16 bytes")
            file_key = _open_body(scrypt_key(self._passphrase, salt, log_n), stanza.body)
            if file_key is not None:
                return file_key
        return None

    def __repr__(self) -> str:
        return f"ScryptIdentity(max_log_n={self._max_log_n})"


def parse_identity_file(text: str) -> list[X25519Identity]:
    """Parse an age identity file: one ``AGE-SECRET-KEY-1...`` per line, ``#`` comments.

    Raises KeyFormatError naming the line number (never its content).
    """
    identities: list[X25519Identity] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(X25519Identity.parse(line))
        except KeyFormatError:
            raise KeyFormatError(f"line {number} of the identity file is not an identity") from None
    if not identities:
        raise KeyFormatError("the identity file holds no identity")
    return identities
