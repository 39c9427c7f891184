"""``S3BlobStore``: ciphertext in any S3-compatible object store (boto3).

Object layout in the bucket::

    blobs/tr_...                      committed ciphertext, one object per transfer
    staging/up_.../manifest.json      the state of an upload in progress
    staging/up_.../tail-<hex>         bytes past the last full part (< one part)
    staging/up_.../data               the multipart upload, completed at the last byte

A tus upload is an S3 multipart upload. Parts are at least ``PART_SIZE``
(8 MiB, more for very long uploads so that 10 000 parts always suffice); the
bytes of a PATCH that do not fill a part wait in a small *tail* object. The
manifest, rewritten by one atomic PUT when a PATCH finishes, is the single
source of truth: the multipart upload id, the chain of parts (number, ETag,
size), and the last few *checkpoints* (how many parts plus which tail) that
PATCHes made durable. Nothing lives in a server process, so any process can
resume an upload another one started.

Part numbers only ever grow, so the parts of an older checkpoint are never
overwritten: truncating back to an acknowledged offset (a crash between the
blob store and the database) reuses the checkpoint that offset came from.
Parts a failed PATCH uploaded are simply left out when the upload completes.

One writer per upload at a time: ``UploadLocks`` (in-process by default,
Redis across processes). A PATCH that lost its lock (Redis lease lapsed)
refuses to write its manifest: Conflict, and the client resumes after a HEAD.

``staged_digest`` completes the multipart upload (S3 cannot read parts
before that) and hashes the ``data`` object; writing to or truncating a
completed upload reopens it as a new multipart upload whose parts are
server-side copies of the completed object's ranges.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from scelle import ids
from scelle.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UploadOffsetMismatch,
)
from scelle.storage.locks import Lease, ProcessLocks, UploadLocks

__all__ = ["PART_SIZE", "S3BlobStore", "S3UploadWriter"]

MiB = 1024 * 1024
READ_CHUNK = MiB
PART_SIZE = 8 * MiB
MAX_PARTS = 10_000
# Part numbers a long upload may spend on retried PATCHes beyond its own parts.
PART_HEADROOM = 1_500
KEEP_CHECKPOINTS = 16
COPY_THRESHOLD = 5 * 1024 * MiB  # single CopyObject up to S3's 5 GiB limit


def _missing(exc: Exception) -> bool:
    from botocore.exceptions import ClientError

    if not isinstance(exc, ClientError):
        return False
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in {"NoSuchKey", "404", "NotFound", "NoSuchUpload"} or status == 404


def part_size_for(length: int) -> int:
    """Part size for an upload of ``length`` bytes: 8 MiB, or more to stay under 10 000 parts."""
    needed = -(-length // (MAX_PARTS - PART_HEADROOM))
    return max(PART_SIZE, -(-needed // MiB) * MiB)


def _size_of(manifest: dict[str, Any], checkpoint: dict[str, Any]) -> int:
    parts = manifest["parts"][: checkpoint["nparts"]]
    return sum(int(p[2]) for p in parts) + int(checkpoint["tail_size"])


def _size(manifest: dict[str, Any]) -> int:
    if manifest.get("complete"):
        return int(manifest["size"])
    return _size_of(manifest, manifest["checkpoints"][-1])


class S3UploadWriter:
    """Streams one PATCH into the multipart upload; ``finish`` records it in the manifest.

    Full parts go to S3 as they fill; the remainder is written as the new tail
    at ``finish``. Until then the manifest is untouched, so ``abort`` (or a
    crash) leaves the upload exactly at its starting offset.
    """

    def __init__(  # noqa: PLR0917  (internal: built by S3BlobStore.open_writer only)
        self,
        store: S3BlobStore,
        upload_id: str,
        manifest: dict[str, Any],
        lease: Lease,
        offset: int,
        limit: int,
    ) -> None:
        self._store = store
        self._upload_id = upload_id
        self._manifest = manifest
        self._lease: Lease | None = lease
        self._start = offset
        self.position = offset
        self._limit = limit
        self._complete = bool(manifest.get("complete"))
        self._part_size = part_size_for(limit)
        self._new_parts: list[list[Any]] = []
        self._next = int(manifest.get("next_part", 1))
        self._buffer = bytearray()
        if not self._complete:
            checkpoint = manifest["checkpoints"][-1]
            if checkpoint["tail"]:
                self._buffer += store._get_bytes(checkpoint["tail"])

    def write(self, data: bytes) -> None:
        """Append ``data``; PayloadTooLarge (and nothing kept) past the limit."""
        if self._lease is None:
            raise Conflict("this upload writer is closed")
        if self.position + len(data) > self._limit or (self._complete and data):
            self.abort()
            raise PayloadTooLarge("the upload is longer than its announced length")
        self._buffer += data
        self.position += len(data)
        try:
            while len(self._buffer) >= self._part_size:
                self._upload_part(bytes(self._buffer[: self._part_size]))
                del self._buffer[: self._part_size]
        except BaseException:
            self.abort()
            raise

    def _upload_part(self, body: bytes) -> None:
        if self._next > MAX_PARTS:
            raise ServiceUnavailable("the upload used up its multipart part numbers")
        number = self._next
        self._next += 1
        etag = self._store._upload_part(self._upload_id, self._manifest["mpu"], number, body)
        self._new_parts.append([number, etag, len(body)])

    def finish(self) -> int:
        """Write the tail and the new manifest (one atomic PUT); return the durable size."""
        lease = self._lease
        if lease is None:
            raise Conflict("this upload writer is closed")
        if self.position == self._start:
            self._close()
            return self.position
        try:
            if not lease.held():
                raise Conflict("another request took over this upload; resume after a HEAD")
            manifest = self._manifest
            checkpoint = manifest["checkpoints"][-1]
            tail = None
            if self._buffer:
                tail = self._store._staging_key(self._upload_id, f"tail-{secrets.token_hex(8)}")
                self._store._put(tail, bytes(self._buffer))
            manifest["parts"] = manifest["parts"][: checkpoint["nparts"]] + self._new_parts
            manifest["next_part"] = self._next
            manifest["checkpoints"].append(
                {"nparts": len(manifest["parts"]), "tail": tail, "tail_size": len(self._buffer)}
            )
            self._store._save(self._upload_id, manifest)
        except BaseException:
            self.abort()
            raise
        self._close()
        return self.position

    def abort(self) -> None:
        """Forget this PATCH's bytes (the manifest never saw them) and release (idempotent)."""
        if self._lease is None:
            return
        self._close()
        self.position = self._start

    def _close(self) -> None:
        if self._lease is not None:
            self._lease.release()
            self._lease = None
        self._buffer = bytearray()


class S3BlobStore:
    """A ``BlobStore`` on an S3-compatible object store."""

    def __init__(
        self,
        *,
        endpoint: str,
        bucket: str,
        access_key: str | None,
        secret_key: str | None,
        region: str = "us-east-1",
        locks: UploadLocks | None = None,
        client: Any = None,
    ) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.locks: UploadLocks = locks or ProcessLocks()
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            config=Config(
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=32,
                s3={"addressing_style": "path"},
            ),
        )

    # -- keys ----------------------------------------------------------------------

    @staticmethod
    def _check(name: str, prefix: str) -> str:
        # Only an exact id becomes part of an object name: no "/", "..", NUL.
        if not isinstance(name, str) or not ids.is_valid(name, prefix):
            raise NotFound("no such object")
        return name

    def _blob_key(self, key: str) -> str:
        return "blobs/" + self._check(key, "tr")

    def _staging_key(self, upload_id: str, leaf: str) -> str:
        return f"staging/{self._check(upload_id, 'up')}/{leaf}"

    # -- low-level calls -------------------------------------------------------------

    def _call(self, method: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, method)(**kwargs)
        except ClientError as exc:
            if _missing(exc):
                raise NotFound("no such object") from None
            raise ServiceUnavailable("the object store refused the request") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the object store is unreachable") from exc

    def _put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self._call("put_object", Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def _get_bytes(self, key: str) -> bytes:
        response = self._call("get_object", Bucket=self.bucket, Key=key)
        with contextlib.closing(response["Body"]) as body:
            data: bytes = body.read()
        return data

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self._call("head_object", Bucket=self.bucket, Key=key)
        except NotFound:
            return None
        return head

    def _upload_part(self, upload_id: str, mpu: str, number: int, body: bytes) -> str:
        response = self._call(
            "upload_part",
            Bucket=self.bucket,
            Key=self._staging_key(upload_id, "data"),
            UploadId=mpu,
            PartNumber=number,
            Body=body,
        )
        return str(response["ETag"])

    def _load(self, upload_id: str) -> dict[str, Any]:
        try:
            raw = self._get_bytes(self._staging_key(upload_id, "manifest.json"))
        except NotFound:
            raise NotFound("no such upload") from None
        manifest: dict[str, Any] = json.loads(raw)
        return manifest

    def _save(self, upload_id: str, manifest: dict[str, Any]) -> None:
        # Keep the last checkpoints only, and delete the tails nothing refers to any more.
        checkpoints = manifest.get("checkpoints", [])
        dropped = checkpoints[:-KEEP_CHECKPOINTS]
        manifest["checkpoints"] = checkpoints[-KEEP_CHECKPOINTS:]
        self._put(
            self._staging_key(upload_id, "manifest.json"),
            json.dumps(manifest, separators=(",", ":")).encode(),
            "application/json",
        )
        kept = {c["tail"] for c in manifest["checkpoints"]}
        stale = {c["tail"] for c in dropped if c["tail"] and c["tail"] not in kept}
        for key in stale:
            with contextlib.suppress(NotFound, ServiceUnavailable):
                self._call("delete_object", Bucket=self.bucket, Key=key)

    def _lock(self, upload_id: str) -> Lease:
        lease = self.locks.try_acquire("upload:" + upload_id)
        if lease is None:
            raise Conflict("another request is writing this upload")
        return lease

    # -- staging -----------------------------------------------------------------

    def create_staged(self, upload_id: str) -> None:
        """Start the multipart upload and its manifest (idempotent: an existing one is kept)."""
        manifest_key = self._staging_key(upload_id, "manifest.json")
        if self._head(manifest_key) is not None:
            return
        created = self._call(
            "create_multipart_upload",
            Bucket=self.bucket,
            Key=self._staging_key(upload_id, "data"),
            ContentType="application/octet-stream",
        )
        manifest = {
            "v": 1,
            "mpu": created["UploadId"],
            "next_part": 1,
            "parts": [],
            "checkpoints": [{"nparts": 0, "tail": None, "tail_size": 0}],
            "complete": False,
        }
        self._save(upload_id, manifest)

    def staged_size(self, upload_id: str) -> int:
        """Bytes durably staged so far (from the manifest). Raises NotFound."""
        return _size(self._load(upload_id))

    def open_writer(self, upload_id: str, offset: int, limit: int) -> S3UploadWriter:
        """A writer at ``offset`` (later bytes dropped), holding the upload's lock.

        Raises NotFound, Conflict while another request (in any process sharing
        the locks) writes this upload, UploadOffsetMismatch past the staged end.
        """
        self._check(upload_id, "up")
        if limit < 0:
            raise InvalidInput("the upload limit must not be negative")
        lease = self._lock(upload_id)
        try:
            manifest = self._load(upload_id)
            staged = _size(manifest)
            if offset < 0 or offset > staged or offset > limit:
                raise UploadOffsetMismatch(f"{staged} bytes are staged; cannot write at {offset}")
            if offset < staged or (manifest.get("complete") and offset < limit):
                manifest = self._truncate(upload_id, manifest, offset)
                staged = _size(manifest)
                if staged != offset:
                    raise UploadOffsetMismatch(
                        f"{staged} bytes are staged; cannot write at {offset}"
                    )
            return S3UploadWriter(self, upload_id, manifest, lease, offset, limit)
        except BaseException:
            lease.release()
            raise

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

    def _truncate(self, upload_id: str, manifest: dict[str, Any], size: int) -> dict[str, Any]:
        """Cut the staged bytes to ``size``, or to the nearest point below it that is kept."""
        if manifest.get("complete"):
            return self._reopen(upload_id, manifest, size)
        bounds = [0]
        for part in manifest["parts"]:
            bounds.append(bounds[-1] + int(part[2]))
        best: tuple[int, int, dict[str, Any] | None] = (0, -1, None)
        for index, checkpoint in enumerate(manifest["checkpoints"]):
            boundary = bounds[checkpoint["nparts"]]
            if boundary > size:
                continue
            reach = min(size, boundary + int(checkpoint["tail_size"]))
            if (reach, index) >= best[:2]:
                best = (reach, index, checkpoint)
        reach, _, chosen = best
        nparts = chosen["nparts"] if chosen else 0
        boundary = bounds[nparts]
        tail: str | None = None
        if chosen is not None and reach > boundary:
            if reach - boundary == int(chosen["tail_size"]):
                tail = chosen["tail"]
            else:
                tail = self._staging_key(upload_id, f"tail-{secrets.token_hex(8)}")
                self._put(tail, self._get_bytes(chosen["tail"])[: reach - boundary])
        kept = [
            c
            for c in manifest["checkpoints"]
            if c["nparts"] <= nparts and _size_of(manifest, c) <= reach
        ]
        old_tails = {c["tail"] for c in manifest["checkpoints"] if c["tail"]}
        manifest["parts"] = manifest["parts"][:nparts]
        manifest["checkpoints"] = [
            *kept,
            {"nparts": nparts, "tail": tail, "tail_size": reach - boundary},
        ]
        self._save(upload_id, manifest)
        referenced = {c["tail"] for c in manifest["checkpoints"]}
        for key in old_tails - referenced:
            with contextlib.suppress(NotFound, ServiceUnavailable):
                self._call("delete_object", Bucket=self.bucket, Key=key)
        return manifest

    def _reopen(self, upload_id: str, manifest: dict[str, Any], size: int) -> dict[str, Any]:
        """Turn a completed upload back into a multipart upload of its first ``size`` bytes.

        The full parts are server-side copies of ranges of the completed
        object (UploadPartCopy); the rest becomes the tail.
        """
        data_key = self._staging_key(upload_id, "data")
        part = part_size_for(size)
        full = size // part
        created = self._call(
            "create_multipart_upload",
            Bucket=self.bucket,
            Key=data_key,
            ContentType="application/octet-stream",
        )
        parts: list[list[Any]] = []
        for index in range(full):
            copied = self._call(
                "upload_part_copy",
                Bucket=self.bucket,
                Key=data_key,
                UploadId=created["UploadId"],
                PartNumber=index + 1,
                CopySource={"Bucket": self.bucket, "Key": data_key},
                CopySourceRange=f"bytes={index * part}-{(index + 1) * part - 1}",
            )
            parts.append([index + 1, copied["CopyPartResult"]["ETag"], part])
        tail: str | None = None
        tail_size = size - full * part
        if tail_size:
            response = self._call(
                "get_object",
                Bucket=self.bucket,
                Key=data_key,
                Range=f"bytes={full * part}-{size - 1}",
            )
            with contextlib.closing(response["Body"]) as body:
                tail_bytes: bytes = body.read()
            tail = self._staging_key(upload_id, f"tail-{secrets.token_hex(8)}")
            self._put(tail, tail_bytes)
        with contextlib.suppress(NotFound):
            self._call(
                "abort_multipart_upload",
                Bucket=self.bucket,
                Key=data_key,
                UploadId=manifest["mpu"],
            )
        reopened: dict[str, Any] = {
            "v": 1,
            "mpu": created["UploadId"],
            "next_part": full + 1,
            "parts": parts,
            "checkpoints": [{"nparts": full, "tail": tail, "tail_size": tail_size}],
            "complete": False,
        }
        self._save(upload_id, reopened)
        return reopened

    def truncate_staged(self, upload_id: str, size: int) -> None:
        """Drop staged bytes past ``size``; never grows the upload."""
        if size < 0:
            raise InvalidInput("a size must not be negative")
        lease = self._lock(upload_id)
        try:
            manifest = self._load(upload_id)
            if size < _size(manifest):
                self._truncate(upload_id, manifest, size)
        finally:
            lease.release()

    def _complete(self, upload_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """Merge the parts and the tail into the ``data`` object (S3 CompleteMultipartUpload)."""
        checkpoint = manifest["checkpoints"][-1]
        size = _size(manifest)
        parts = [
            {"PartNumber": int(p[0]), "ETag": p[1]}
            for p in manifest["parts"][: checkpoint["nparts"]]
        ]
        data_key = self._staging_key(upload_id, "data")
        if checkpoint["tail"]:
            number = int(manifest["next_part"])
            etag = self._upload_part(
                upload_id, manifest["mpu"], number, self._get_bytes(checkpoint["tail"])
            )
            parts.append({"PartNumber": number, "ETag": etag})
            manifest["next_part"] = number + 1
        if parts:
            self._call(
                "complete_multipart_upload",
                Bucket=self.bucket,
                Key=data_key,
                UploadId=manifest["mpu"],
                MultipartUpload={"Parts": parts},
            )
        else:
            self._put(data_key, b"")
            with contextlib.suppress(NotFound):
                self._call(
                    "abort_multipart_upload",
                    Bucket=self.bucket,
                    Key=data_key,
                    UploadId=manifest["mpu"],
                )
        tails = {c["tail"] for c in manifest["checkpoints"] if c["tail"]}
        manifest.update({"complete": True, "size": size, "parts": [], "checkpoints": []})
        self._save(upload_id, manifest)
        for key in tails:
            with contextlib.suppress(NotFound, ServiceUnavailable):
                self._call("delete_object", Bucket=self.bucket, Key=key)
        return manifest

    def staged_digest(self, upload_id: str) -> bytes:
        """SHA-256 of the staged bytes: completes the multipart upload, then streams it."""
        lease = self._lock(upload_id)
        try:
            manifest = self._load(upload_id)
            if not manifest.get("complete"):
                manifest = self._complete(upload_id, manifest)
        finally:
            lease.release()
        digest = hashlib.sha256()
        response = self._call(
            "get_object", Bucket=self.bucket, Key=self._staging_key(upload_id, "data")
        )
        with contextlib.closing(response["Body"]) as body:
            for chunk in body.iter_chunks(READ_CHUNK):
                digest.update(chunk)
        return digest.digest()

    def commit(self, upload_id: str, key: str) -> None:
        """Copy the completed upload to ``blobs/key`` (server side), then drop the staging.

        S3 makes an object visible whole or not at all, so a reader never sees a
        partial blob.
        """
        target = self._blob_key(key)
        lease = self._lock(upload_id)
        try:
            manifest = self._load(upload_id)
            if not manifest.get("complete"):
                manifest = self._complete(upload_id, manifest)
            source = {"Bucket": self.bucket, "Key": self._staging_key(upload_id, "data")}
            if int(manifest["size"]) <= COPY_THRESHOLD:
                self._call("copy_object", Bucket=self.bucket, Key=target, CopySource=source)
            else:
                self._multipart_copy(source, target)
        finally:
            lease.release()
        self.abort(upload_id)

    def _multipart_copy(self, source: dict[str, str], target: str) -> None:
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError

        config = TransferConfig(multipart_threshold=COPY_THRESHOLD, multipart_chunksize=512 * MiB)
        try:
            self._client.copy(source, self.bucket, target, Config=config)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the object store could not copy the upload") from exc

    def abort(self, upload_id: str) -> None:
        """Discard a staged upload: its multipart uploads and staging objects (idempotent)."""
        prefix = self._staging_key(upload_id, "")
        uploads = self._call("list_multipart_uploads", Bucket=self.bucket, Prefix=prefix)
        for upload in uploads.get("Uploads", []) or []:
            with contextlib.suppress(NotFound):
                self._call(
                    "abort_multipart_upload",
                    Bucket=self.bucket,
                    Key=upload["Key"],
                    UploadId=upload["UploadId"],
                )
        for key in self._keys(prefix):
            with contextlib.suppress(NotFound):
                self._call("delete_object", Bucket=self.bucket, Key=key)

    # -- blobs ---------------------------------------------------------------------

    def read(self, key: str, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """Stream ``[start, end)`` of blob ``key`` with an HTTP Range request, 1 MiB at a time.

        The object is requested before the first chunk is asked for, so a
        missing blob raises NotFound here, not in the middle of a response.
        """
        object_key = self._blob_key(key)
        if start < 0 or (end is not None and end < 0):
            raise InvalidInput("a byte range must not be negative")
        if end is not None and end <= start:
            self.size(key)
            return iter(())
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": object_key}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-" + ("" if end is None else str(end - 1))
        from botocore.exceptions import ClientError

        try:
            response = self._client.get_object(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                self.size(key)  # NotFound if it is missing, else a range past the end
                return iter(())
            if _missing(exc):
                raise NotFound("no such blob") from None
            raise ServiceUnavailable("the object store refused the request") from exc
        return self._stream(response["Body"])

    @staticmethod
    def _stream(body: Any) -> Iterator[bytes]:
        with contextlib.closing(body):
            yield from body.iter_chunks(READ_CHUNK)

    def size(self, key: str) -> int:
        """Size of blob ``key``. Raises NotFound."""
        head = self._head(self._blob_key(key))
        if head is None:
            raise NotFound("no such blob")
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        """Delete blob ``key`` (idempotent), then check it is gone (HEAD answers 404)."""
        object_key = self._blob_key(key)
        with contextlib.suppress(NotFound):
            self._call("delete_object", Bucket=self.bucket, Key=object_key)
        if self._head(object_key) is not None:
            raise ServiceUnavailable("the object store did not delete the blob")

    def ping(self) -> bool:
        """True when the bucket can be read and written."""
        try:
            self._put("health/ping", b"ok")
            self._call("delete_object", Bucket=self.bucket, Key="health/ping")
        except (NotFound, ServiceUnavailable):
            return False
        return True

    def _keys(self, prefix: str) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []) or []:
                    yield str(item["Key"])
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the object store could not list objects") from exc

    def list_blobs(self) -> Iterator[str]:
        """Every blob key (names that are not transfer ids are ignored)."""
        for key in self._keys("blobs/"):
            name = key.removeprefix("blobs/")
            if ids.is_valid(name, "tr"):
                yield name

    def list_staged(self) -> Iterator[str]:
        """Every staged upload id (with objects, or with only a multipart upload left)."""
        seen: set[str] = set()
        for key in self._keys("staging/"):
            name = key.split("/")[1] if key.count("/") >= 2 else ""
            if ids.is_valid(name, "up") and name not in seen:
                seen.add(name)
                yield name
        uploads = self._call("list_multipart_uploads", Bucket=self.bucket, Prefix="staging/")
        for upload in uploads.get("Uploads", []) or []:
            parts = str(upload["Key"]).split("/")
            name = parts[1] if len(parts) >= 3 else ""
            if ids.is_valid(name, "up") and name not in seen:
                seen.add(name)
                yield name

    @staticmethod
    def _age(moment: datetime | None) -> float:
        return 0.0 if moment is None else max(0.0, time.time() - moment.timestamp())

    def age_seconds(self, key: str) -> float:
        """Seconds since blob ``key`` was committed (0 if it just vanished)."""
        head = self._head(self._blob_key(key))
        return self._age(head["LastModified"]) if head else 0.0

    def staged_age_seconds(self, upload_id: str) -> float:
        """Seconds since the upload's manifest was last written (0 if it just vanished)."""
        head = self._head(self._staging_key(upload_id, "manifest.json"))
        if head is not None:
            return self._age(head["LastModified"])
        # No manifest: a creation that died half-way. Age of what it left behind.
        prefix = self._staging_key(upload_id, "")
        uploads = self._call("list_multipart_uploads", Bucket=self.bucket, Prefix=prefix)
        moments = [u["Initiated"] for u in uploads.get("Uploads", []) or []]
        for key in self._keys(prefix):
            found = self._head(key)
            if found is not None:
                moments.append(found["LastModified"])
        return self._age(max(moments)) if moments else 0.0
