"""The ``BlobStore`` protocol: where ciphertext lives, staged while uploading.

Keys are transfer ids (``tr_...``), staging names are upload ids (``up_...``);
implementations refuse anything else before building a path or an object name.
Only ciphertext ever reaches a blob store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

__all__ = ["BlobStore", "UploadWriter"]


class UploadWriter(Protocol):
    """Appends to one staged upload; nothing is acknowledged before ``finish``."""

    position: int

    def write(self, data: bytes) -> None:
        """Append ``data``; PayloadTooLarge (nothing kept) past the limit."""
        ...

    def finish(self) -> int:
        """Make the bytes durable and return the staged size."""
        ...

    def abort(self) -> None:
        """Drop what this writer wrote (idempotent)."""
        ...


class BlobStore(Protocol):
    """Durable storage for ciphertext blobs and resumable staged uploads."""

    def create_staged(self, upload_id: str) -> None:
        """Create an empty staged upload (idempotent)."""
        ...

    def staged_size(self, upload_id: str) -> int:
        """Bytes durably staged so far. Raises NotFound."""
        ...

    def open_writer(self, upload_id: str, offset: int, limit: int) -> UploadWriter:
        """A writer at ``offset`` (later bytes dropped) holding the upload's lock.

        The streaming form of ``append``, for a caller that receives bytes
        asynchronously. Raises Conflict when another request holds the lock,
        and what ``append`` raises.
        """
        ...

    def append(self, upload_id: str, offset: int, chunks: Iterable[bytes], limit: int) -> int:
        """Write ``chunks`` at ``offset`` (dropping anything staged past it), durably.

        Returns the new staged size, after fsync: only then may the caller
        record or acknowledge it. Refuses to stage more than ``limit`` bytes in
        all (PayloadTooLarge); a full disk raises InsufficientStorage. On any
        failure none of this call's bytes are kept: the upload is back at
        ``offset``. Raises NotFound for an unknown upload, UploadOffsetMismatch
        when ``offset`` is past what is staged (that would leave a hole).
        """
        ...

    def truncate_staged(self, upload_id: str, size: int) -> None:
        """Drop staged bytes past ``size`` (durably)."""
        ...

    def staged_digest(self, upload_id: str) -> bytes:
        """SHA-256 of the staged bytes, computed by streaming."""
        ...

    def commit(self, upload_id: str, key: str) -> None:
        """Atomically make the staged upload the blob ``key``: all of it or nothing."""
        ...

    def abort(self, upload_id: str) -> None:
        """Discard a staged upload (idempotent)."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream bytes ``[start, end)`` of blob ``key`` in chunks of at most 1 MiB.

        Memory stays constant whatever the blob size. Raises NotFound (before
        the first chunk), InvalidInput for a negative ``start``.
        """
        ...

    def size(self, key: str) -> int:
        """Size of blob ``key``. Raises NotFound."""
        ...

    def delete(self, key: str) -> None:
        """Delete blob ``key`` (idempotent: a missing blob is not an error)."""
        ...

    def ping(self) -> bool:
        """True when the store can be read and written."""
        ...

    def list_blobs(self) -> Iterator[str]:
        """Every blob key (for the worker's orphan reaping)."""
        ...

    def list_staged(self) -> Iterator[str]:
        """Every staged upload id."""
        ...

    def age_seconds(self, key: str) -> float:
        """Seconds since blob ``key`` was committed (its orphan grace period counts from then)."""
        ...

    def staged_age_seconds(self, upload_id: str) -> float:
        """Seconds since the staged upload was last written."""
        ...
