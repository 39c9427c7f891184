"""Sealing the few secrets the server must keep (TOTP seeds) under the server secret.

ChaCha20-Poly1305 with a key derived by HKDF-SHA256 from the server secret and
a versioned label, a random nonce per seal, and the owner's id as associated
data (a sealed value moved to another row does not open).
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SecretBox", "SecretBoxError"]

_LABEL = b"scelle/v1/server-secret-box"
_NONCE = 12


class SecretBoxError(Exception):
    """A sealed value does not open (wrong server secret, or tampered)."""


class SecretBox:
    def __init__(self, server_secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_LABEL).derive(
            server_secret
        )
        self._aead = ChaCha20Poly1305(key)
        self._digest_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"scelle/v1/secret-digest"
        ).derive(server_secret)

    def digest(self, secret: str) -> str:
        """Keyed hash (HMAC-SHA256, hex) of a token or code, to store and look it up by.

        Without the server secret, a copy of the database cannot test guesses
        against the stored digests (recovery codes carry only 64 bits).
        """
        return hmac.new(self._digest_key, secret.strip().encode(), hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise SecretBoxError("sealed value does not open") from exc
