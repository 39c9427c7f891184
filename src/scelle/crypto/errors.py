"""Errors raised by ``scelle.crypto``.

::

    CryptoError
    ├── KeyFormatError            a key or recipient string is malformed
    ├── UnsupportedRecipientError a recipient type or combination we do not implement
    ├── BadSignatureError         an Ed25519 signature does not verify
    ├── InvalidProofError         a Merkle inclusion or consistency proof does not verify
    ├── NoteError                 a signed note or checkpoint is malformed
    └── AgeError                  an age file cannot be decrypted
        ├── HeaderError           malformed or unsupported header (incl. bad stanza)
        │   └── ScryptWorkFactorError  scrypt work factor above the cap
        ├── HMACError             the header MAC does not verify
        ├── PayloadError          the STREAM payload is truncated, reordered or tampered
        ├── ArmorError            the ASCII armor is malformed
        └── NoIdentityMatchError  none of the identities opens the file

These are deliberately independent of ``scelle.errors``: callers (the client,
the CLI) translate them into one opaque user-facing error.
"""

from __future__ import annotations

__all__ = [
    "AgeError",
    "ArmorError",
    "BadSignatureError",
    "CryptoError",
    "HMACError",
    "HeaderError",
    "InvalidProofError",
    "KeyFormatError",
    "NoIdentityMatchError",
    "NoteError",
    "PayloadError",
    "ScryptWorkFactorError",
    "UnsupportedRecipientError",
]


class CryptoError(Exception):
    """Base of every error raised by ``scelle.crypto``."""


class KeyFormatError(CryptoError):
    """A key, identity or recipient string is not in the expected encoding."""


class UnsupportedRecipientError(CryptoError):
    """A recipient type (or a combination, such as scrypt with others) is not supported."""


class BadSignatureError(CryptoError):
    """An Ed25519 signature does not verify for this key and message."""


class InvalidProofError(CryptoError):
    """A Merkle inclusion or consistency proof does not verify (RFC 9162 §2.1.3, §2.1.4)."""


class NoteError(CryptoError):
    """A signed note, checkpoint or verifier key is malformed (C2SP signed-note)."""


class AgeError(CryptoError):
    """An age file cannot be decrypted; the subclass says which check failed."""


class HeaderError(AgeError):
    """The age header is malformed, unsupported, or a stanza is invalid."""


class ScryptWorkFactorError(HeaderError):
    """An scrypt stanza asks for a work factor above the configured cap."""


class HMACError(AgeError):
    """The header MAC does not match: the header was altered."""


class PayloadError(AgeError):
    """The encrypted payload is truncated, reordered, padded or tampered with."""


class ArmorError(AgeError):
    """The ASCII armor around an age file is malformed."""


class NoIdentityMatchError(AgeError):
    """None of the given identities can unwrap the file key."""
