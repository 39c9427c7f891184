"""The age payload: a 16-byte nonce, then STREAM (ChaCha20-Poly1305, 64 KiB chunks).

The payload key is HKDF-SHA-256(file key, salt = nonce, info = "payload").
Chunk ``i`` is sealed with the nonce ``i`` (11 bytes, big-endian) followed by
``0x01`` for the last chunk and ``0x00`` otherwise. Only an empty payload may
have an empty last chunk. Both directions work on blocks of 32 chunks in
fixed buffers (memory stays constant whatever the file size), sealed or
opened by worker threads while the calling thread reads and writes:
ChaCha20-Poly1305 in pyca ``cryptography`` releases the GIL.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from scelle.crypto.age.header import hkdf_sha256
from scelle.crypto.errors import HeaderError, PayloadError

__all__ = ["CHUNK_SIZE", "NONCE_SIZE", "Progress", "decrypt_payload", "encrypt_payload"]

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
NONCE_SIZE = 16
SEALED_CHUNK = CHUNK_SIZE + TAG_SIZE
# A block is the unit handed to the worker threads: 32 chunks, 2 MiB.
BLOCK_CHUNKS = 32
WORKERS = max(1, min(4, os.cpu_count() or 1))
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


class _Operation(Protocol):
    def __call__(
        self, nonce: bytes, data: memoryview, associated_data: None, buf: memoryview, /
    ) -> int: ...


def _seal_run(
    operation: _Operation,
    source: memoryview,
    target: memoryview,
    *,
    first_counter: int,
    count: int,
    in_size: int,
    out_size: int,
) -> None:
    """Process ``count`` full, non-last chunks (runs in a worker thread: the AEAD drops the GIL)."""
    for i in range(count):
        operation(
            _nonce(first_counter + i, False),
            source[i * in_size : (i + 1) * in_size],
            None,
            target[i * out_size : (i + 1) * out_size],
        )


@dataclass
class _Tail:
    """What the pipeline leaves for the direction-specific last step."""

    data: memoryview  # the remaining input (at most one block and one chunk)
    out: memoryview  # room for its output
    counter: int  # the counter of its first chunk


def _pipeline(
    operation: _Operation,
    src: IO[bytes],
    dst: IO[bytes],
    *,
    in_size: int,
    out_size: int,
    progress: Progress | None,
) -> _Tail:
    """Process every full block that is certainly not the end of the stream.

    Two buffer pairs alternate: while worker threads seal or open block N,
    the calling thread writes block N-1 and reads block N+1. One chunk of
    look-ahead is carried from each block to the next, so the final chunk is
    always left for the caller, who knows it is the last.
    """
    block_in = in_size * BLOCK_CHUNKS
    inputs = [bytearray(block_in + in_size) for _ in range(2)]
    outputs = [bytearray(out_size * (BLOCK_CHUNKS + 1)) for _ in range(2)]
    current, counter = 0, 0
    filled = _fill(src, inputs[current], 0)
    pool: ThreadPoolExecutor | None = None
    pending: tuple[list[Future[None]], int] | None = None

    def finish(job: tuple[list[Future[None]], int]) -> None:
        futures, index = job
        for future in futures:
            future.result()
        dst.write(memoryview(outputs[index])[: out_size * BLOCK_CHUNKS])
        if progress is not None:
            progress(CHUNK_SIZE * BLOCK_CHUNKS)

    try:
        while filled == len(inputs[current]):
            pool = pool or ThreadPoolExecutor(WORKERS, thread_name_prefix="scelle-stream")
            source, target = memoryview(inputs[current]), memoryview(outputs[current])
            share = -(-BLOCK_CHUNKS // WORKERS)
            futures = [
                pool.submit(
                    _seal_run,
                    operation,
                    source[first * in_size :],
                    target[first * out_size :],
                    first_counter=counter + first,
                    count=min(share, BLOCK_CHUNKS - first),
                    in_size=in_size,
                    out_size=out_size,
                )
                for first in range(0, BLOCK_CHUNKS, share)
            ]
            counter += BLOCK_CHUNKS
            if pending is not None:
                finish(pending)
            following = 1 - current
            inputs[following][:in_size] = inputs[current][block_in:]
            pending = (futures, current)
            filled = _fill(src, inputs[following], in_size)
            current = following
        if pending is not None:
            finish(pending)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return _Tail(memoryview(inputs[current])[:filled], memoryview(outputs[current]), counter)


def encrypt_payload(
    file_key: bytes, src: IO[bytes], dst: IO[bytes], progress: Progress | None = None
) -> None:
    """Write the nonce and the STREAM-encrypted contents of ``src`` to ``dst``."""
    nonce = os.urandom(NONCE_SIZE)
    aead = _payload_aead(file_key, nonce)
    dst.write(nonce)
    tail = _pipeline(
        aead.encrypt_into, src, dst, in_size=CHUNK_SIZE, out_size=SEALED_CHUNK, progress=progress
    )
    chunks = max(1, -(-len(tail.data) // CHUNK_SIZE))
    written = 0
    for i in range(chunks):
        piece = tail.data[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]
        target = tail.out[written : written + len(piece) + TAG_SIZE]
        aead.encrypt_into(_nonce(tail.counter + i, i == chunks - 1), piece, None, target)
        written += len(piece) + TAG_SIZE
    dst.write(tail.out[:written])
    if progress is not None:
        progress(len(tail.data))


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
    try:
        tail = _pipeline(
            aead.decrypt_into,
            src,
            dst,
            in_size=SEALED_CHUNK,
            out_size=CHUNK_SIZE,
            progress=progress,
        )
        if not tail.data:
            raise PayloadError("the payload has no final chunk")
        chunks = -(-len(tail.data) // SEALED_CHUNK)
        written = 0
        for i in range(chunks):
            piece = tail.data[i * SEALED_CHUNK : (i + 1) * SEALED_CHUNK]
            if len(piece) < TAG_SIZE:
                raise PayloadError("truncated chunk")
            last = i == chunks - 1
            if last and len(piece) == TAG_SIZE and tail.counter + i > 0:
                raise PayloadError("the last chunk is empty")
            target = tail.out[written : written + len(piece) - TAG_SIZE]
            aead.decrypt_into(_nonce(tail.counter + i, last), piece, None, target)
            written += len(piece) - TAG_SIZE
    except InvalidTag:
        raise PayloadError("a payload chunk failed authentication") from None
    dst.write(tail.out[:written])
    if progress is not None:
        progress(written)
