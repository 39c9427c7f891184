"""``LocalBlobStore``: ciphertext in a local folder, crash-safe.

Layout under the root (folders 0700, files 0600)::

    staging/up_...   bytes of an upload in progress
    blobs/tr_...     committed ciphertext, one file per transfer

Every append is fsynced before its size is reported, so an acknowledged tus
offset survives a crash; a commit is fsync, rename, fsync of the folder, so a
blob is either absent or complete, never torn. Names come only from strict id
patterns and the resolved path is checked to stay under the root.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from scelle import ids
from scelle.crash_points import crash_point
from scelle.errors import (
    Conflict,
    InsufficientStorage,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UploadOffsetMismatch,
)

__all__ = ["LocalBlobStore", "StagedWriter"]

READ_CHUNK = 1024 * 1024
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


class StagedWriter:
    """Appends to one staged upload; ``finish`` makes the bytes durable.

    Nothing written is acknowledged until ``finish`` has fsynced it; ``abort``
    truncates back to the starting offset. Either one releases the lock.
    """

    def __init__(self, fd: int, offset: int, limit: int) -> None:
        self._fd = fd
        self._start = offset
        self.position = offset
        self._limit = limit
        try:
            staged = os.fstat(fd).st_size
        except OSError as exc:
            self._release()
            raise _translate(exc) from None
        if offset < 0 or offset > staged or offset > limit:
            # Writing past the staged end would leave a hole of zeros in the ciphertext.
            self._release()
            raise UploadOffsetMismatch(f"{staged} bytes are staged; cannot write at {offset}")
        try:
            # Anything past the acknowledged offset is a torn earlier write: drop it.
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
        except OSError as exc:
            self.abort()
            raise _translate(exc) from None

    def _release(self) -> None:
        os.close(self._fd)
        self._fd = -1

    def write(self, data: bytes) -> None:
        """Write ``data``; PayloadTooLarge (and nothing kept) past the limit."""
        if self.position + len(data) > self._limit:
            self.abort()
            raise PayloadTooLarge("the upload is longer than its announced length")
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self.abort()
            raise _translate(exc) from None
        self.position += len(data)

    def finish(self) -> int:
        """fsync, release, and return the durable size."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            self.abort()
            raise _translate(exc) from None
        crash_point("staged.fsynced")
        self._release()
        return self.position

    def abort(self) -> None:
        """Drop what this writer wrote and release (idempotent)."""
        if self._fd < 0:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, self._start)
            os.fsync(self._fd)
        self._release()
        self.position = self._start


def _open_staged(path: Path, flags: int) -> int:
    """Open an existing staged upload; NotFound when it is not there."""
    try:
        return os.open(path, flags)
    except FileNotFoundError:
        raise NotFound("no such upload") from None


def _translate(exc: OSError) -> Exception:
    if exc.errno in _NO_SPACE:
        return InsufficientStorage("the server is out of storage space")
    return exc


class LocalBlobStore:
    """A ``BlobStore`` on the local filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._staging = self.root / "staging"
        self._blobs = self.root / "blobs"
        for folder in (self.root, self._staging, self._blobs):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            # mkdir's mode is filtered by the umask and ignored for an existing folder.
            folder.chmod(0o700)

    # -- paths -----------------------------------------------------------------

    def _path(self, folder: Path, name: str, prefix: str) -> Path:
        # Only an exact id becomes a path component: no "..", "/", NUL or absolute path.
        if not isinstance(name, str) or not ids.is_valid(name, prefix):
            raise NotFound("no such object")
        path = (folder / name).resolve()
        if path.parent != folder or not path.is_relative_to(self.root):
            raise NotFound("no such object")
        return path

    def _staged(self, upload_id: str) -> Path:
        return self._path(self._staging, upload_id, "up")

    def _blob(self, key: str) -> Path:
        return self._path(self._blobs, key, "tr")

    @staticmethod
    def _fsync_dir(folder: Path) -> None:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- staging -----------------------------------------------------------------

    def create_staged(self, upload_id: str) -> None:
        """Create an empty staged upload (idempotent: existing bytes are kept)."""
        path = self._staged(upload_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _translate(exc) from None
        os.close(fd)
        self._fsync_dir(self._staging)

    def staged_size(self, upload_id: str) -> int:
        """Bytes durably staged so far. Raises NotFound."""
        try:
            return self._staged(upload_id).stat().st_size
        except FileNotFoundError:
            raise NotFound("no such upload") from None

    def open_writer(self, upload_id: str, offset: int, limit: int) -> StagedWriter:
        """A writer at ``offset`` (later bytes dropped), holding the upload's lock.

        Raises NotFound, or Conflict when another request is writing this upload
        (an exclusive ``flock``, so it holds across server processes).
        """
        path = self._staged(upload_id)
        if limit < 0:
            raise InvalidInput("the upload limit must not be negative")
        fd = _open_staged(path, os.O_WRONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Conflict("another request is writing this upload") from None
        return StagedWriter(fd, offset, limit)

    def append(self, upload_id: str, offset: int, chunks: Iterable[bytes], limit: int) -> int:
        """Write ``chunks`` at ``offset`` durably; see ``BlobStore.append``."""
        writer = self.open_writer(upload_id, offset, limit)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.finish()

    def truncate_staged(self, upload_id: str, size: int) -> None:
        """Drop staged bytes past ``size`` (durably); never grows the file."""
        path = self._staged(upload_id)
        if size < 0:
            raise InvalidInput("a size must not be negative")
        fd = _open_staged(path, os.O_WRONLY)
        try:
            if os.fstat(fd).st_size > size:
                os.ftruncate(fd, size)
                os.fsync(fd)
        finally:
            os.close(fd)

    def staged_digest(self, upload_id: str) -> bytes:
        """SHA-256 of the staged bytes, streamed."""
        digest = hashlib.sha256()
        try:
            with self._staged(upload_id).open("rb") as src:
                while chunk := src.read(READ_CHUNK):
                    digest.update(chunk)
        except FileNotFoundError:
            raise NotFound("no such upload") from None
        return digest.digest()

    def commit(self, upload_id: str, key: str) -> None:
        """fsync, rename into ``blobs/``, fsync both folders: all or nothing."""
        source, target = self._staged(upload_id), self._blob(key)
        fd = _open_staged(source, os.O_RDONLY)
        try:
            # A blob's age counts from its commit: the worker's orphan grace
            # period then covers the gap between this rename and the caller's
            # database commit, however long ago the last byte was written.
            os.utime(fd)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(source, 0o600)
        # Same filesystem, so the rename is atomic: a reader sees no blob or all of it.
        os.replace(source, target)
        self._fsync_dir(self._blobs)
        self._fsync_dir(self._staging)
        crash_point("blob.renamed")

    def abort(self, upload_id: str) -> None:
        """Discard a staged upload (idempotent)."""
        with contextlib.suppress(FileNotFoundError):
            self._staged(upload_id).unlink()
            self._fsync_dir(self._staging)

    # -- blobs ---------------------------------------------------------------------

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream ``[start, end)`` of blob ``key`` in chunks of at most 1 MiB.

        The file is opened before the first chunk is asked for, so a missing
        blob raises NotFound here, not in the middle of a response.
        """
        path = self._blob(key)
        if start < 0 or (end is not None and end < 0):
            raise InvalidInput("a byte range must not be negative")
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise NotFound("no such blob") from None
        return self._stream(handle, start, end)

    @staticmethod
    def _stream(handle: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
        with handle as src:
            src.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                want = READ_CHUNK if remaining is None else min(READ_CHUNK, remaining)
                chunk = src.read(want)
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def size(self, key: str) -> int:
        """Size of blob ``key``. Raises NotFound."""
        try:
            return self._blob(key).stat().st_size
        except FileNotFoundError:
            raise NotFound("no such blob") from None

    def delete(self, key: str) -> None:
        """Delete blob ``key`` (idempotent), durably."""
        with contextlib.suppress(FileNotFoundError):
            self._blob(key).unlink()
            self._fsync_dir(self._blobs)

    def ping(self) -> bool:
        """True when both folders exist and are writable."""
        return all(
            folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)
            for folder in (self._staging, self._blobs)
        )

    def list_blobs(self) -> Iterator[str]:
        """Every blob key (names that are not transfer ids are ignored)."""
        return (p.name for p in self._blobs.iterdir() if ids.is_valid(p.name, "tr"))

    def list_staged(self) -> Iterator[str]:
        """Every staged upload id."""
        return (p.name for p in self._staging.iterdir() if ids.is_valid(p.name, "up"))

    def age_seconds(self, key: str) -> float:
        """Seconds since blob ``key`` was committed (0 if it just vanished)."""
        try:
            return time.time() - self._blob(key).stat().st_mtime
        except FileNotFoundError:
            return 0.0

    def staged_age_seconds(self, upload_id: str) -> float:
        """Seconds since the staged upload was last written (0 if it just vanished)."""
        try:
            return time.time() - self._staged(upload_id).stat().st_mtime
        except FileNotFoundError:
            return 0.0
