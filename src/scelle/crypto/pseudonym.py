"""Keyed, deterministic pseudonyms: HMAC-SHA256 under an organisation's pseudonymisation key.

``pseudonym = HMAC-SHA256(key, label || 0x00 || normalised identifier)``

* The key (32 random bytes) stays with the sending organisation; without it a
  pseudonym reveals nothing, not even to someone holding a list of every NIR
  (an unkeyed hash of a NIR could be reversed by trying the ~10^13 numbers).
* With the key *and* the original list of people, a pseudonym maps back to its
  person (``scelle breach letters`` does that); there is no other way back.
* Each use has its own versioned label, so values made for one purpose never
  match values made for another: :data:`COLUMN_LABEL` for the cells
  ``scelle pseudonymize`` writes (recipients see them), :data:`SUBJECT_INDEX_LABEL`
  for the subject index the server keeps. A recipient holding a pseudonymised
  file and a copy of the server's database cannot join the two.
* Identifiers are normalised first (Unicode NFKC, spaces collapsed, upper
  case), so ``martin`` and ``MARTIN `` give one pseudonym; callers strip
  identifier separators (a NIR's spaces and dots) before.

Pure: no I/O; the key file lives with the callers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata

from scelle.crypto.errors import KeyFormatError

__all__ = [
    "COLUMN_LABEL",
    "KEY_BYTES",
    "SUBJECT_INDEX_LABEL",
    "PseudonymKey",
    "normalise_identifier",
]

KEY_BYTES = 32
COLUMN_LABEL = b"scelle/v1/pseudonym"
SUBJECT_INDEX_LABEL = b"scelle/v1/subject-index"
_KEY_FILE_PREFIX = "scelle-pseudonym-key-v1:"


def normalise_identifier(value: str) -> str:
    """NFKC, surrounding space removed, inner runs of space made one, upper case."""
    return " ".join(unicodedata.normalize("NFKC", value).split()).upper()


class PseudonymKey:
    """An organisation's pseudonymisation key (32 bytes). ``repr`` never shows it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyFormatError("a pseudonymisation key is 32 bytes")
        self._key = key

    def __repr__(self) -> str:
        return f"PseudonymKey(id={self.key_id})"

    @classmethod
    def generate(cls) -> PseudonymKey:
        """A new random key (``os.urandom``)."""
        return cls(os.urandom(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str) -> PseudonymKey:
        """Parse the one-line key file form. Raises KeyFormatError."""
        line = text.strip()
        if not line.startswith(_KEY_FILE_PREFIX):
            raise KeyFormatError("not a Scellé pseudonymisation key file")
        try:
            raw = base64.urlsafe_b64decode(line[len(_KEY_FILE_PREFIX) :] + "=")
        except ValueError as exc:
            raise KeyFormatError("the pseudonymisation key is not valid base64") from exc
        return cls(raw)

    def to_text(self) -> str:
        """The one-line key file form (keep it secret)."""
        return _KEY_FILE_PREFIX + base64.urlsafe_b64encode(self._key).decode().rstrip("=") + "\n"

    @property
    def key_id(self) -> str:
        """A short public name of the key (a digest under its own label), to tell keys apart."""
        return self.digest("scelle-key-id", label=b"scelle/v1/pseudonym-key-id").hex()[:16]

    def digest(self, identifier: str, *, label: bytes) -> bytes:
        """The 32-byte HMAC of the normalised identifier under ``label``."""
        message = label + b"\x00" + normalise_identifier(identifier).encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def column_pseudonym(self, identifier: str) -> str:
        """The pseudonym ``scelle pseudonymize`` writes in a cell: ``ps_`` + 24 base32 characters
        (120 bits of the HMAC under :data:`COLUMN_LABEL`)."""
        digest = self.digest(identifier, label=COLUMN_LABEL)
        return "ps_" + base64.b32encode(digest[:15]).decode().lower()

    def subject_pseudonym(self, identifier: str) -> str:
        """The subject-index entry for one data subject: 64 hex characters (HMAC under
        :data:`SUBJECT_INDEX_LABEL`)."""
        return self.digest(identifier, label=SUBJECT_INDEX_LABEL).hex()
