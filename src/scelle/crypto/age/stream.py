"""The age payload: a 16-byte nonce, then STREAM (ChaCha20-Poly1305, 64 KiB chunks).

The payload key is HKDF-SHA-256(file key, salt = nonce, info = "payload").
Chunk ``i`` is sealed with the nonce ``i`` (11 bytes, big-endian) followed by
``0x01`` for the last chunk and ``0x00`` otherwise. Only an empty payload may
have an empty last chunk. Both directions work on blocks of 16 chunks, read
into a fixed buffer, so memory stays constant whatever the file size.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from scelle.crypto.age.header import hkdf_sha256
from scelle.crypto.errors import HeaderError, PayloadError

__all__ = ["CHUNK_SIZE", "NONCE_SIZE", "Progress", "decrypt_payload", "encrypt_payload"]

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
SEALED_CHUNK = CHUNK_SIZE + TAG_SIZE
CHUNKS_PER_BLOCK = 16
# Largest value the 11-byte counter can take; unreachable in practice (2^88 chunks).
_MAX_COUNTER = (1 << 88) - 1

Progress = Callable[[int], None]


def _nonce(counter: int, last: bool) -> bytes:
    if counter > _MAX_COUNTER:
        raise PayloadError("STREAM counter overflow")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _fill(src: IO[bytes], buffer: bytearray, start: int) -> int:
    """Read into ``buffer[start:]`` until it is full or the stream ends; return the fill."""
    view = memoryview(buffer)
    filled = start
    readinto = getattr(src, "readinto", None)
    while filled < len(buffer):
        if readinto is not None:
            got: int | None = readinto(view[filled:])
        else:
            data = src.read(len(buffer) - filled)
            view[filled : filled + len(data)] = data
            got = len(data)
        if not got:
            break
        filled += got
    return filled


def _payload_aead(file_key: bytes, nonce: bytes) -> ChaCha20Poly1305:
    return ChaCha20Poly1305(hkdf_sha256(file_key, nonce, b"payload"))


def encrypt_payload(
    file_key: bytes, src: IO[bytes], dst: IO[bytes], progress: Progress | None = None
) -> None:
    """Write the nonce and the STREAM-encrypted contents of ``src`` to ``dst``."""
    nonce = os.urandom(NONCE_SIZE)
    aead = _payload_aead(file_key, nonce)
    dst.write(nonce)
    block = CHUNK_SIZE * CHUNKS_PER_BLOCK
    # One chunk of look-ahead: the last chunk must be known before it is sealed.
    plain = bytearray(block + CHUNK_SIZE)
    sealed = bytearray(SEALED_CHUNK * (CHUNKS_PER_BLOCK + 1))
    plain_view, sealed_view = memoryview(plain), memoryview(sealed)
    filled = _fill(src, plain, 0)
    counter = 0
    while filled == len(plain):
        for i in range(CHUNKS_PER_BLOCK):
            aead.encrypt_into(
                _nonce(counter, False),
                plain_view[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE],
                None,
                sealed_view[i * SEALED_CHUNK : (i + 1) * SEALED_CHUNK],
            )
            counter += 1
        dst.write(sealed_view[: CHUNKS_PER_BLOCK * SEALED_CHUNK])
        if progress is not None:
            progress(block)
        plain[:CHUNK_SIZE] = plain[block:]
        filled = _fill(src, plain, CHUNK_SIZE)
    chunks = max(1, -(-filled // CHUNK_SIZE))
    out = 0
    for i in range(chunks):
        piece = plain_view[i * CHUNK_SIZE : min(filled, (i + 1) * CHUNK_SIZE)]
        target = sealed_view[out : out + len(piece) + TAG_SIZE]
        aead.encrypt_into(_nonce(counter, i == chunks - 1), piece, None, target)
        out += len(piece) + TAG_SIZE
        counter += 1
    dst.write(sealed_view[:out])
    if progress is not None:
        progress(filled)


def decrypt_payload(
    file_key: bytes, src: IO[bytes], dst: IO[bytes], progress: Progress | None = None
) -> None:
    """Read the nonce and STREAM payload from ``src``; write the plaintext to ``dst``.

    Each chunk is authenticated before it is written, but a truncated or padded
    stream is only detected at its end: callers that must not release partial
    plaintext write to a temporary file and discard it on error.
    Raises HeaderError (no nonce) or PayloadError.
    """
    nonce = bytearray(NONCE_SIZE)
    if _fill(src, nonce, 0) != NONCE_SIZE:
        raise HeaderError("missing payload nonce")
    aead = _payload_aead(file_key, bytes(nonce))
    block = SEALED_CHUNK * CHUNKS_PER_BLOCK
    sealed = bytearray(block + SEALED_CHUNK)
    plain = bytearray(CHUNK_SIZE * (CHUNKS_PER_BLOCK + 1))
    sealed_view, plain_view = memoryview(sealed), memoryview(plain)
    filled = _fill(src, sealed, 0)
    counter = 0
    try:
        while filled == len(sealed):
            for i in range(CHUNKS_PER_BLOCK):
                aead.decrypt_into(
                    _nonce(counter, False),
                    sealed_view[i * SEALED_CHUNK : (i + 1) * SEALED_CHUNK],
                    None,
                    plain_view[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE],
                )
                counter += 1
            dst.write(plain_view[: CHUNKS_PER_BLOCK * CHUNK_SIZE])
            if progress is not None:
                progress(CHUNKS_PER_BLOCK * CHUNK_SIZE)
            sealed[:SEALED_CHUNK] = sealed[block:]
            filled = _fill(src, sealed, SEALED_CHUNK)
        if filled == 0:
            raise PayloadError("the payload has no chunks")
        chunks = -(-filled // SEALED_CHUNK)
        out = 0
        for i in range(chunks):
            piece = sealed_view[i * SEALED_CHUNK : min(filled, (i + 1) * SEALED_CHUNK)]
            if len(piece) < TAG_SIZE:
                raise PayloadError("truncated chunk")
            last = i == chunks - 1
            if last and len(piece) == TAG_SIZE and counter > 0:
                raise PayloadError("the last chunk is empty")
            target = plain_view[out : out + len(piece) - TAG_SIZE]
            aead.decrypt_into(_nonce(counter, last), piece, None, target)
            out += len(piece) - TAG_SIZE
            counter += 1
    except InvalidTag:
        raise PayloadError("a payload chunk failed authentication") from None
    dst.write(plain_view[:out])
    if progress is not None:
        progress(out)
