"""Ed25519 signatures for senders, and the domain-separated messages Scellé signs.

Every signed message starts with a versioned label (``scelle/v1/...``) and a
NUL, so a signature made for one purpose can never be replayed for another.
``VerifyKey.verify`` raises ``BadSignatureError``; it never returns ``False``.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from scelle.crypto.errors import BadSignatureError, KeyFormatError

__all__ = [
    "KEY_BUNDLE_LABEL",
    "KEY_ROTATION_LABEL",
    "TRANSFER_SIGNATURE_LABEL",
    "SigningKey",
    "VerifyKey",
    "key_bundle_message",
    "key_fingerprint",
    "key_rotation_message",
    "transfer_signature_message",
]

TRANSFER_SIGNATURE_LABEL = b"scelle/v1/transfer-signature"
KEY_BUNDLE_LABEL = b"scelle/v1/key-bundle"
KEY_ROTATION_LABEL = b"scelle/v1/key-rotation"


class VerifyKey:
    """An Ed25519 public key."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PublicKey) -> None:
        self._key = key

    @classmethod
    def from_bytes(cls, data: bytes) -> VerifyKey:
        """From the raw 32 bytes; raises KeyFormatError."""
        if len(data) != 32:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")
        try:
            return cls(Ed25519PublicKey.from_public_bytes(data))
        except ValueError:
            raise KeyFormatError("invalid Ed25519 public key") from None

    def to_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return self._key.public_bytes_raw()

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if ``signature`` is valid for ``message``; raise BadSignatureError otherwise."""
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            raise BadSignatureError("the signature does not verify") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.to_bytes() == self.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())


class SigningKey:
    """An Ed25519 private key, kept on the sender's device."""

    __slots__ = ("_key",)

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> SigningKey:
        """A new random signing key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, data: bytes) -> SigningKey:
        """From an unencrypted PKCS#8 PEM; raises KeyFormatError."""
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise KeyFormatError("not an unencrypted PKCS#8 PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFormatError("not an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM: encrypt it (age, passphrase) before storing it."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> VerifyKey:
        """The matching public key."""
        return VerifyKey(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        """A 64-byte Ed25519 signature of ``message``."""
        return self._key.sign(message)

    def __repr__(self) -> str:
        return "SigningKey(<secret>)"


def transfer_signature_message(
    transfer_id: str, payload_sha256: bytes, metadata_sha256: bytes
) -> bytes:
    """What a sender signs for a transfer (see docs/protocol.md)."""
    if len(payload_sha256) != 32 or len(metadata_sha256) != 32:
        raise ValueError("digests are 32-byte SHA-256 values")
    return (
        TRANSFER_SIGNATURE_LABEL
        + b"\x00"
        + transfer_id.encode("ascii")
        + b"\x00"
        + payload_sha256
        + metadata_sha256
    )


def key_bundle_message(x25519_recipient: str, ed25519_public: bytes) -> bytes:
    """What a user signs to publish a key bundle (proof of possession)."""
    if len(ed25519_public) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return KEY_BUNDLE_LABEL + b"\x00" + x25519_recipient.encode("ascii") + b"\x00" + ed25519_public


def key_fingerprint(x25519_recipient: str, ed25519_public: bytes) -> str:
    """First 20 bytes of SHA-256(bundle message), base32, in 8 groups of 4 characters."""
    digest = hashlib.sha256(key_bundle_message(x25519_recipient, ed25519_public)).digest()[:20]
    text = base64.b32encode(digest).decode("ascii")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def key_rotation_message(
    previous_fingerprint: str, x25519_recipient: str, ed25519_public: bytes
) -> bytes:
    """What the previous key signs to vouch for its successor bundle (a rotation)."""
    return (
        KEY_ROTATION_LABEL
        + b"\x00"
        + previous_fingerprint.encode("ascii")
        + b"\x00"
        + key_bundle_message(x25519_recipient, ed25519_public)
    )
