"""Cryptography for Scellé: pure functions and types, no I/O beyond the streams handed in.

* ``scelle.crypto.age``: the age v1 file format (https://age-encryption.org/v1) on
  pyca ``cryptography`` primitives: X25519 and scrypt recipients, header MAC,
  64 KiB STREAM payload, ASCII armor; streaming in constant memory.
* ``scelle.crypto.signing``: Ed25519 signing keys for senders, and the
  domain-separated messages Scellé signs.
* ``scelle.crypto.pseudonym``: keyed pseudonyms (HMAC-SHA256 under an
  organisation's key, one versioned label per use).

Nothing here imports the rest of ``scelle`` (import-linter enforces it).
Verification raises (``BadSignatureError``, ``AgeError`` subclasses); it never
returns ``False``.
"""
