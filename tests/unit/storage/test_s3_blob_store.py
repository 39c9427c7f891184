"""What only ``S3BlobStore`` on a real S3 server (SeaweedFS) can show.

The protocol contract runs in test_local_blob_store.py on both stores; here:
credentials are checked, uploads are real multipart uploads with parts of at
least 5 MiB, their state lives in the bucket (a second store object, as in
another process, resumes it), deletes are verified, and the Redis locks keep
two processes from writing one upload.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from tests.backends import REDIS_URL, SeaweedFS

from scelle import ids
from scelle.errors import Conflict, NotFound, ServiceUnavailable
from scelle.storage.locks import ProcessLocks, RedisLocks, UploadLocks
from scelle.storage.s3 import PART_SIZE, S3BlobStore, part_size_for

pytestmark = pytest.mark.scale

REPO = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024
S3_MIN_PART = 5 * MiB


@pytest.fixture
def bucket(seaweedfs: SeaweedFS) -> str:
    return seaweedfs.new_bucket()


def make_store(
    seaweedfs: SeaweedFS, bucket: str, locks: UploadLocks | None = None, secret: str | None = None
) -> S3BlobStore:
    return S3BlobStore(
        endpoint=seaweedfs.endpoint,
        bucket=bucket,
        access_key=seaweedfs.access_key,
        secret_key=secret or seaweedfs.secret_key,
        locks=locks or ProcessLocks(),
    )


def raw(seaweedfs: SeaweedFS) -> Any:
    return seaweedfs.client()


def test_a_wrong_secret_is_refused(seaweedfs: SeaweedFS, bucket: str) -> None:
    store = make_store(seaweedfs, bucket, secret=secrets.token_hex(20))
    assert store.ping() is False
    with pytest.raises(ServiceUnavailable):
        store.create_staged(ids.new_id("up"))
    assert make_store(seaweedfs, bucket).ping() is True


def test_an_upload_is_a_multipart_upload_with_parts_of_at_least_5_mib(
    seaweedfs: SeaweedFS, bucket: str
) -> None:
    data = os.urandom(2 * PART_SIZE + 3 * MiB + 11)
    store = make_store(seaweedfs, bucket)
    upload_id = ids.new_id("up")
    store.create_staged(upload_id)
    offset = 0
    # Uneven PATCHes, none of them a whole part.
    for size in (3 * MiB, 700_000, 6 * MiB, 5 * MiB + 1, len(data)):
        end = min(len(data), offset + size)
        offset = store.append(upload_id, offset, [data[offset:end]], len(data))
    assert offset == len(data)
    client = raw(seaweedfs)
    uploads = client.list_multipart_uploads(Bucket=bucket)["Uploads"]
    assert len(uploads) == 1
    parts = client.list_parts(
        Bucket=bucket, Key=uploads[0]["Key"], UploadId=uploads[0]["UploadId"]
    )["Parts"]
    assert len(parts) == 2
    assert all(part["Size"] >= S3_MIN_PART for part in parts)
    assert store.staged_digest(upload_id) == hashlib.sha256(data).digest()
    key = ids.new_id("tr")
    store.commit(upload_id, key)
    assert store.size(key) == len(data)
    # Range reads across the part boundaries.
    start, end = PART_SIZE - 5, 2 * PART_SIZE + 7
    assert b"".join(store.read(key, start, end)) == data[start:end]
    assert b"".join(store.read(key)) == data
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]] == [f"blobs/{key}"]


def test_state_lives_in_the_bucket_another_store_resumes_and_rewinds(
    seaweedfs: SeaweedFS, bucket: str
) -> None:
    data = os.urandom(PART_SIZE + 4 * MiB)
    first = make_store(seaweedfs, bucket)
    upload_id = ids.new_id("up")
    first.create_staged(upload_id)
    assert first.append(upload_id, 0, [data[: 3 * MiB]], len(data)) == 3 * MiB
    # A torn PATCH that crossed a part boundary and was never recorded.
    torn = first.append(upload_id, 3 * MiB, [os.urandom(7 * MiB)], len(data))
    assert torn == 10 * MiB
    second = make_store(seaweedfs, bucket)  # another process: nothing shared but the bucket
    assert second.staged_size(upload_id) == 10 * MiB
    assert second.append(upload_id, 3 * MiB, [data[3 * MiB :]], len(data)) == len(data)
    assert first.staged_digest(upload_id) == hashlib.sha256(data).digest()


def test_a_completed_upload_can_still_be_rewound(seaweedfs: SeaweedFS, bucket: str) -> None:
    data = os.urandom(PART_SIZE + MiB)
    store = make_store(seaweedfs, bucket)
    upload_id = ids.new_id("up")
    store.create_staged(upload_id)
    store.append(upload_id, 0, [data[: PART_SIZE + 100]], len(data))
    assert store.staged_digest(upload_id) == hashlib.sha256(data[: PART_SIZE + 100]).digest()
    store.truncate_staged(upload_id, PART_SIZE + 10)
    assert store.staged_size(upload_id) == PART_SIZE + 10
    assert store.append(upload_id, PART_SIZE + 10, [data[PART_SIZE + 10 :]], len(data)) == len(data)
    assert store.staged_digest(upload_id) == hashlib.sha256(data).digest()


def test_delete_is_verified_by_a_head(seaweedfs: SeaweedFS, bucket: str) -> None:
    store = make_store(seaweedfs, bucket)
    upload_id = ids.new_id("up")
    store.create_staged(upload_id)
    store.append(upload_id, 0, [b"ciphertext"], 10)
    key = ids.new_id("tr")
    store.commit(upload_id, key)
    store.delete(key)
    client = raw(seaweedfs)
    with pytest.raises(client.exceptions.ClientError) as caught:
        client.head_object(Bucket=bucket, Key=f"blobs/{key}")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(NotFound):
        store.size(key)


def test_part_sizes_keep_a_64_gib_upload_under_10000_parts() -> None:
    assert part_size_for(1000) == PART_SIZE
    size = part_size_for(64 * 1024**3)
    assert size % MiB == 0
    assert 64 * 1024**3 / size <= 8_500


def test_redis_locks_hold_across_processes_and_lapse_when_the_holder_dies(
    seaweedfs: SeaweedFS, bucket: str
) -> None:
    prefix = f"scelle-test:{secrets.token_hex(4)}:"
    store = make_store(seaweedfs, bucket, RedisLocks(REDIS_URL, ttl=2, prefix=prefix))
    upload_id = ids.new_id("up")
    store.create_staged(upload_id)
    store.append(upload_id, 0, [b"acknowledged;"], 1 << 20)
    script = textwrap.dedent(
        """
        import sys, time
        from scelle.storage.locks import RedisLocks
        from scelle.storage.s3 import S3BlobStore

        endpoint, bucket, access, secret, redis_url, prefix, upload_id = sys.argv[1:]
        store = S3BlobStore(endpoint=endpoint, bucket=bucket, access_key=access,
                            secret_key=secret, locks=RedisLocks(redis_url, ttl=2, prefix=prefix))

        def body():
            yield b"torn-" * 1000
            sys.stdout.write("ready\\n")
            sys.stdout.flush()
            time.sleep(600)
            yield b"never"

        store.append(upload_id, 13, body(), 1 << 20)
        """
    )
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            script,
            seaweedfs.endpoint,
            bucket,
            seaweedfs.access_key,
            seaweedfs.secret_key,
            REDIS_URL,
            prefix,
            upload_id,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        # The other process holds the upload (its lease is renewed while it lives).
        with pytest.raises(Conflict):
            store.append(upload_id, 13, [b"x"], 1 << 20)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    # The lease lapses within its TTL; nothing the dead writer sent was kept.
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            assert store.append(upload_id, 13, [b"resumed"], 1 << 20) == 20
            break
        except Conflict:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert store.staged_digest(upload_id) == hashlib.sha256(b"acknowledged;resumed").digest()
