"""Decrypt age v1: parse the header, find a matching identity, check the MAC, then
stream the payload. Armor is detected (leading whitespace, then the begin line).

Plaintext chunks are written as they authenticate; truncation is only known
at the end, so callers that must not leave partial plaintext decrypt into a
temporary file and remove it on error (the CLI and client do).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import IO

from scelle.crypto.age.armor import BEGIN, ArmoredReader
from scelle.crypto.age.header import read_header
from scelle.crypto.age.identity import Identity
from scelle.crypto.age.stream import Progress, decrypt_payload
from scelle.crypto.errors import HeaderError, NoIdentityMatchError

__all__ = ["decrypt", "decrypt_bytes"]

_PEEK = 1024 + len(BEGIN) + 2
_BUFFER = 1 << 20


class _Prefixed(io.RawIOBase):
    """``prefix`` followed by the rest of ``src``: a peek that works on pipes too."""

    def __init__(self, prefix: bytes, src: IO[bytes]) -> None:
        super().__init__()
        self._prefix = memoryview(prefix)
        self._src = src

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        readinto = getattr(self._src, "readinto", None)
        if readinto is not None:
            got: int | None = readinto(buffer)
            return got or 0
        data = self._src.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _read_prefix(src: IO[bytes]) -> bytes:
    chunks = bytearray()
    while len(chunks) < _PEEK:
        data = src.read(_PEEK - len(chunks))
        if not data:
            break
        chunks += data
    return bytes(chunks)


def _is_armored(prefix: bytes) -> bool:
    return prefix.lstrip(b" \t\r\n").startswith(BEGIN[:10])


def decrypt(
    src: IO[bytes],
    dst: IO[bytes],
    identities: Sequence[Identity],
    *,
    armor: bool | None = None,
    progress: Progress | None = None,
) -> None:
    """Decrypt ``src`` into ``dst`` with the first identity that matches.

    ``armor=None`` detects ASCII armor. Raises HeaderError, HMACError,
    PayloadError, ArmorError or NoIdentityMatchError (all AgeError).
    """
    prefix = _read_prefix(src)
    armored = _is_armored(prefix) if armor is None else armor
    raw: io.RawIOBase = _Prefixed(prefix, src)
    if armored:
        raw = ArmoredReader(io.BufferedReader(raw, buffer_size=_BUFFER))
    stream = io.BufferedReader(raw, buffer_size=_BUFFER)
    header = read_header(stream)
    if any(s.type == "scrypt" for s in header.stanzas) and len(header.stanzas) != 1:
        raise HeaderError("an scrypt stanza must be the only one")
    file_key = None
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            break
    if file_key is None:
        raise NoIdentityMatchError("no identity matches this file")
    header.verify_mac(file_key)
    decrypt_payload(file_key, stream, dst, progress)


def decrypt_bytes(data: bytes, identities: Sequence[Identity]) -> bytes:
    """Decrypt a small age file held in memory (metadata, tests)."""
    out = io.BytesIO()
    decrypt(io.BytesIO(data), out, identities)
    return out.getvalue()
