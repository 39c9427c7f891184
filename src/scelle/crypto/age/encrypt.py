"""Encrypt to age v1: header for the recipients, then the STREAM payload.

Streaming in constant memory; optional ASCII armor.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import IO

from scelle.crypto.age.armor import ArmoredWriter
from scelle.crypto.age.header import FILE_KEY_SIZE, encode_header
from scelle.crypto.age.recipients import Recipient, ScryptRecipient
from scelle.crypto.age.stream import Progress, encrypt_payload
from scelle.crypto.errors import UnsupportedRecipientError

__all__ = ["encrypt", "encrypt_bytes"]


def encrypt(
    src: IO[bytes],
    dst: IO[bytes],
    recipients: Sequence[Recipient],
    *,
    armor: bool = False,
    progress: Progress | None = None,
) -> None:
    """Encrypt all of ``src`` into ``dst`` for ``recipients``.

    ``progress`` is called with the number of plaintext bytes consumed since
    its last call. Raises UnsupportedRecipientError for no recipients, or an
    scrypt recipient mixed with others (age forbids it).
    """
    if not recipients:
        raise UnsupportedRecipientError("at least one recipient is needed")
    if len(recipients) > 1 and any(isinstance(r, ScryptRecipient) for r in recipients):
        raise UnsupportedRecipientError("a passphrase must be the only recipient")
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas = [stanza for recipient in recipients for stanza in recipient.wrap(file_key)]
    out: IO[bytes] = ArmoredWriter(dst) if armor else dst  # type: ignore[assignment]
    out.write(encode_header(stanzas, file_key))
    encrypt_payload(file_key, src, out, progress)
    if armor:
        out.close()


def encrypt_bytes(data: bytes, recipients: Sequence[Recipient], *, armor: bool = False) -> bytes:
    """Encrypt a small byte string (metadata, tests) and return the age file."""
    out = io.BytesIO()
    encrypt(io.BytesIO(data), out, recipients, armor=armor)
    return out.getvalue()
