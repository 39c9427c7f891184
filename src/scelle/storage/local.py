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
import hashlib
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from scelle import ids
from scelle.errors import InsufficientStorage, NotFound, PayloadTooLarge, ServiceUnavailable

__all__ = ["LocalBlobStore"]

READ_CHUNK = 1024 * 1024
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}


class LocalBlobStore:
    """A ``BlobStore`` on the local filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._staging = self.root / "staging"
        self._blobs = self.root / "blobs"
        for folder in (self.root, self._staging, self._blobs):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    # -- paths -----------------------------------------------------------------

    def _path(self, folder: Path, name: str, prefix: str) -> Path:
        if not isinstance(name, str) or not ids.is_valid(name, prefix):
            raise NotFound("no such object")
        path = (folder / name).resolve()
        if path.parent != folder:
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
        """Create an empty staged upload (idempotent)."""
        path = self._staged(upload_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            raise self._translate(exc) from None
        os.close(fd)
        self._fsync_dir(self._staging)

    def staged_size(self, upload_id: str) -> int:
        """Bytes durably staged so far. Raises NotFound."""
        try:
            return self._staged(upload_id).stat().st_size
        except FileNotFoundError:
            raise NotFound("no such upload") from None

    def append(self, upload_id: str, offset: int, chunks: Iterable[bytes], limit: int) -> int:
        """Write ``chunks`` at ``offset`` durably; see ``BlobStore.append``."""
        path = self._staged(upload_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            raise NotFound("no such upload") from None
        position = offset
        try:
            # Anything past the acknowledged offset is a torn earlier write: drop it.
            os.ftruncate(fd, offset)
            os.lseek(fd, offset, os.SEEK_SET)
            for chunk in chunks:
                if position + len(chunk) > limit:
                    keep = limit - position
                    if keep > 0:
                        os.write(fd, chunk[:keep])
                    os.ftruncate(fd, offset)
                    os.fsync(fd)
                    raise PayloadTooLarge("the upload is longer than its announced length")
                view = memoryview(chunk)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                position += len(chunk)
            os.fsync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, offset)
                os.fsync(fd)
            raise self._translate(exc) from None
        finally:
            os.close(fd)
        return position

    def truncate_staged(self, upload_id: str, size: int) -> None:
        """Drop staged bytes past ``size`` (durably)."""
        path = self._staged(upload_id)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            raise NotFound("no such upload") from None
        try:
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
        try:
            fd = os.open(source, os.O_RDONLY)
        except FileNotFoundError:
            raise NotFound("no such upload") from None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(source, 0o600)
        os.replace(source, target)
        self._fsync_dir(self._blobs)
        self._fsync_dir(self._staging)

    def abort(self, upload_id: str) -> None:
        """Discard a staged upload (idempotent)."""
        with contextlib.suppress(FileNotFoundError):
            self._staged(upload_id).unlink()

    # -- blobs ---------------------------------------------------------------------

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream ``[start, end)`` of blob ``key`` in chunks of at most 1 MiB.

        The file is opened before the first chunk is asked for, so a missing
        blob raises NotFound here, not in the middle of a response.
        """
        try:
            handle = self._blob(key).open("rb")
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

    def ping(self) -> None:
        """Raise ServiceUnavailable unless both folders are writable."""
        for folder in (self._staging, self._blobs):
            if not os.access(folder, os.W_OK | os.X_OK):
                raise ServiceUnavailable("the blob store is not writable")

    def list_blobs(self) -> Iterator[str]:
        """Every blob key (names that are not transfer ids are ignored)."""
        return (p.name for p in self._blobs.iterdir() if ids.is_valid(p.name, "tr"))

    def list_staged(self) -> Iterator[str]:
        """Every staged upload id."""
        return (p.name for p in self._staging.iterdir() if ids.is_valid(p.name, "up"))

    def age_seconds(self, key: str) -> float:
        """Seconds since blob ``key`` was last modified (0 if it just vanished)."""
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

    @staticmethod
    def _translate(exc: OSError) -> Exception:
        if exc.errno in _NO_SPACE:
            return InsufficientStorage("the server is out of storage space")
        return exc
