"""The ``BlobStore`` contract, run against every implementation, then LocalBlobStore's own promises.

``TestBlobStoreContract`` only speaks the protocol and runs on ``local`` and
on ``s3`` (``S3BlobStore`` on a real SeaweedFS server, a bucket per test).
``TestLocalBlobStore`` checks what only a folder can show: modes, layout, a
killed writer, a really full disk (the S3 store's own: test_s3_blob_store.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scelle import ids
from scelle.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UploadOffsetMismatch,
)
from scelle.storage.blob_store import BlobStore
from scelle.storage.local import READ_CHUNK, LocalBlobStore

REPO = Path(__file__).resolve().parents[3]
MiB = 1024 * 1024

STORES = [pytest.param("local", id="local"), pytest.param("s3", id="s3", marks=pytest.mark.scale)]

# Names that must never become a path: traversal, separators, NUL, absolute
# paths, the wrong kind of id, and ids with something glued on.
GOOD_BODY = "a" * 26
HOSTILE_NAMES = [
    "",
    ".",
    "..",
    "../x",
    "tr_../../etc",
    "up_../../etc",
    f"tr_{GOOD_BODY}/../x",
    f"up_{GOOD_BODY}/../x",
    "/etc/passwd",
    f"/tmp/tr_{GOOD_BODY}",
    "\x00",
    f"tr_{GOOD_BODY}\x00",
    f"tr_{GOOD_BODY}\n",
    f"TR_{GOOD_BODY.upper()}",
    f"tr_{GOOD_BODY}a",
    "staging",
    "blobs",
    "..%2F..%2Fetc",
]


def staged_with(store: BlobStore, data: bytes) -> str:
    upload_id = ids.new_id("up")
    store.create_staged(upload_id)
    assert store.append(upload_id, 0, [data], len(data)) == len(data)
    return upload_id


def blob_with(store: BlobStore, data: bytes) -> str:
    key = ids.new_id("tr")
    store.commit(staged_with(store, data), key)
    return key


def read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join(store.read(key, start, end))


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "s3":
        from scelle.storage.s3 import S3BlobStore

        seaweed = request.getfixturevalue("seaweedfs")
        return S3BlobStore(
            endpoint=seaweed.endpoint,
            bucket=seaweed.new_bucket(),
            access_key=seaweed.access_key,
            secret_key=seaweed.secret_key,
        )
    return LocalBlobStore(tmp_path / "store")


class TestBlobStoreContract:
    """What every BlobStore promises, through the protocol alone."""

    def test_a_new_staged_upload_is_empty_and_creation_is_idempotent(
        self, store: BlobStore
    ) -> None:
        upload_id = ids.new_id("up")
        store.create_staged(upload_id)
        assert store.staged_size(upload_id) == 0
        store.append(upload_id, 0, [b"abc"], 10)
        store.create_staged(upload_id)  # a retried creation keeps what is staged
        assert store.staged_size(upload_id) == 3
        assert upload_id in set(store.list_staged())

    def test_append_resumes_at_the_returned_offset(self, store: BlobStore) -> None:
        upload_id = ids.new_id("up")
        store.create_staged(upload_id)
        assert store.append(upload_id, 0, [b"hello ", b"wor"], 11) == 9
        assert store.staged_size(upload_id) == 9
        assert store.append(upload_id, 9, iter([b"ld"]), 11) == 11
        assert store.staged_digest(upload_id) == hashlib.sha256(b"hello world").digest()

    def test_append_at_an_earlier_offset_drops_the_unacknowledged_tail(
        self, store: BlobStore
    ) -> None:
        upload_id = ids.new_id("up")
        store.create_staged(upload_id)
        store.append(upload_id, 0, [b"0123"], 100)
        # A torn write: bytes were staged but the offset 4 was never recorded.
        store.append(upload_id, 4, [b"GARBAGE-TAIL"], 100)
        assert store.append(upload_id, 4, [b"4567"], 100) == 8
        assert store.staged_digest(upload_id) == hashlib.sha256(b"01234567").digest()

    def test_append_past_the_staged_end_is_refused(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"abc")
        with pytest.raises(UploadOffsetMismatch):
            store.append(upload_id, 10, [b"x"], 100)
        assert store.staged_size(upload_id) == 3

    def test_append_over_the_limit_keeps_nothing_of_that_call(self, store: BlobStore) -> None:
        upload_id = ids.new_id("up")
        store.create_staged(upload_id)
        store.append(upload_id, 0, [b"12345"], 10)
        with pytest.raises(PayloadTooLarge):
            store.append(upload_id, 5, [b"678", b"9", b"0X"], 10)
        assert store.staged_size(upload_id) == 5
        assert store.staged_digest(upload_id) == hashlib.sha256(b"12345").digest()
        assert store.append(upload_id, 5, [b"67890"], 10) == 10

    def test_a_failing_source_keeps_nothing_of_that_call(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"abc")

        def body() -> Iterator[bytes]:
            yield b"def"
            raise ConnectionResetError("the client went away")

        with pytest.raises(ConnectionResetError):
            store.append(upload_id, 3, body(), 100)
        assert store.staged_size(upload_id) == 3

    def test_a_second_writer_on_the_same_upload_is_refused(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"abc")
        writer = store.open_writer(upload_id, 3, 100)
        try:
            with pytest.raises(Conflict):
                store.append(upload_id, 3, [b"x"], 100)
            writer.write(b"def")
            assert writer.finish() == 6
        finally:
            writer.abort()
        assert store.append(upload_id, 6, [b"g"], 100) == 7

    def test_a_writer_abort_goes_back_to_its_start(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"abc")
        writer = store.open_writer(upload_id, 3, 100)
        writer.write(b"defgh")
        writer.abort()
        writer.abort()  # idempotent
        assert store.staged_size(upload_id) == 3

    def test_truncate_staged_only_shrinks(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"abcdef")
        store.truncate_staged(upload_id, 4)
        assert store.staged_size(upload_id) == 4
        store.truncate_staged(upload_id, 100)
        assert store.staged_size(upload_id) == 4

    def test_staged_digest_streams_large_uploads(self, store: BlobStore) -> None:
        data = os.urandom(3 * MiB + 17)
        upload_id = ids.new_id("up")
        store.create_staged(upload_id)
        offset = 0
        for start in range(0, len(data), MiB):
            offset = store.append(upload_id, offset, [data[start : start + MiB]], len(data))
        assert offset == len(data)
        assert store.staged_digest(upload_id) == hashlib.sha256(data).digest()

    def test_commit_publishes_the_whole_blob_and_consumes_the_staged_upload(
        self, store: BlobStore
    ) -> None:
        upload_id = staged_with(store, b"ciphertext")
        key = ids.new_id("tr")
        with pytest.raises(NotFound):
            store.size(key)
        assert key not in set(store.list_blobs())
        store.commit(upload_id, key)
        assert store.size(key) == 10
        assert read_all(store, key) == b"ciphertext"
        assert key in set(store.list_blobs())
        assert upload_id not in set(store.list_staged())
        with pytest.raises(NotFound):
            store.staged_size(upload_id)

    def test_commit_of_an_unknown_upload_publishes_nothing(self, store: BlobStore) -> None:
        key = ids.new_id("tr")
        with pytest.raises(NotFound):
            store.commit(ids.new_id("up"), key)
        with pytest.raises(NotFound):
            store.size(key)

    def test_read_ranges_are_end_exclusive(self, store: BlobStore) -> None:
        data = bytes(range(256)) * 4
        key = blob_with(store, data)
        assert read_all(store, key) == data
        assert read_all(store, key, 5) == data[5:]
        assert read_all(store, key, 5, 10) == data[5:10]
        assert read_all(store, key, 0, 1) == data[:1]
        assert read_all(store, key, 7, 7) == b""
        assert read_all(store, key, 1000, 5000) == data[1000:]
        assert read_all(store, key, 5000) == b""
        with pytest.raises(InvalidInput):
            read_all(store, key, -1)

    def test_read_streams_in_bounded_chunks(self, store: BlobStore) -> None:
        data = os.urandom(2 * READ_CHUNK + 3)
        key = blob_with(store, data)
        chunks = store.read(key)
        first = next(chunks)  # lazy: one chunk at a time, never the whole blob
        assert len(first) <= READ_CHUNK
        rest = list(chunks)
        assert all(len(chunk) <= READ_CHUNK for chunk in rest)
        assert first + b"".join(rest) == data
        ranged = list(store.read(key, 10, 2 * READ_CHUNK))
        assert all(len(chunk) <= READ_CHUNK for chunk in ranged)
        assert b"".join(ranged) == data[10 : 2 * READ_CHUNK]

    def test_a_missing_blob_is_not_found_before_streaming(self, store: BlobStore) -> None:
        key = ids.new_id("tr")
        with pytest.raises(NotFound):
            store.read(key)
        with pytest.raises(NotFound):
            store.size(key)

    def test_delete_is_idempotent(self, store: BlobStore) -> None:
        key = blob_with(store, b"gone soon")
        store.delete(key)
        store.delete(key)
        with pytest.raises(NotFound):
            store.size(key)
        assert key not in set(store.list_blobs())

    def test_abort_is_idempotent(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"partial")
        store.abort(upload_id)
        store.abort(upload_id)
        assert upload_id not in set(store.list_staged())
        with pytest.raises(NotFound):
            store.staged_size(upload_id)
        with pytest.raises(NotFound):
            store.append(upload_id, 0, [b"x"], 10)

    def test_listing_and_ages(self, store: BlobStore) -> None:
        keys = {blob_with(store, b"a"), blob_with(store, b"b")}
        staged = staged_with(store, b"c")
        assert set(store.list_blobs()) == keys
        assert set(store.list_staged()) == {staged}
        assert all(store.age_seconds(key) >= 0 for key in keys)
        assert store.staged_age_seconds(staged) >= 0

    def test_ping(self, store: BlobStore) -> None:
        assert store.ping() is True

    @pytest.mark.parametrize("name", HOSTILE_NAMES)
    def test_hostile_names_never_reach_a_path(
        self, store: BlobStore, tmp_path: Path, name: str
    ) -> None:
        before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        refused = (NotFound, InvalidInput)
        calls: list[Callable[[], object]] = [
            lambda: store.create_staged(name),
            lambda: store.staged_size(name),
            lambda: store.append(name, 0, [b"x"], 10),
            lambda: store.open_writer(name, 0, 10),
            lambda: store.truncate_staged(name, 0),
            lambda: store.staged_digest(name),
            lambda: store.commit(name, ids.new_id("tr")),
            lambda: store.abort(name),
            lambda: store.staged_age_seconds(name),
            lambda: read_all(store, name),
            lambda: store.size(name),
            lambda: store.delete(name),
            lambda: store.age_seconds(name),
        ]
        for call in calls:
            with pytest.raises(refused):
                call()
        upload_id = staged_with(store, b"x")
        with pytest.raises(refused):
            store.commit(upload_id, name)
        assert store.staged_size(upload_id) == 1
        after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
        assert [p for p in after if p not in before and not p.name.startswith("up_")] == []

    def test_a_transfer_id_is_not_an_upload_id_and_back(self, store: BlobStore) -> None:
        upload_id = staged_with(store, b"x")
        key = blob_with(store, b"y")
        with pytest.raises(NotFound):
            store.staged_size(key)
        with pytest.raises(NotFound):
            store.size(upload_id)


class TestLocalBlobStore:
    """What only a folder on disk can show."""

    def test_layout_and_modes(self, tmp_path: Path) -> None:
        root = tmp_path / "store"
        root.mkdir(mode=0o755)
        store = LocalBlobStore(root)
        upload_id = staged_with(store, b"abc")
        key = blob_with(store, b"def")
        for folder in (root, root / "staging", root / "blobs"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert stat.S_IMODE((root / "staging" / upload_id).stat().st_mode) == 0o600
        assert stat.S_IMODE((root / "blobs" / key).stat().st_mode) == 0o600
        assert (root / "blobs" / key).read_bytes() == b"def"

    def test_a_symlink_planted_in_the_store_is_not_followed_out(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "store")
        outside = tmp_path / "outside"
        outside.write_bytes(b"not yours")
        key = ids.new_id("tr")
        (tmp_path / "store" / "blobs" / key).symlink_to(outside)
        with pytest.raises(NotFound):
            read_all(store, key)
        store_upload = ids.new_id("up")
        (tmp_path / "store" / "staging" / store_upload).symlink_to(outside)
        with pytest.raises(NotFound):
            store.append(store_upload, 0, [b"overwrite"], 100)
        assert outside.read_bytes() == b"not yours"

    def test_foreign_files_are_not_listed(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "store")
        (tmp_path / "store" / "blobs" / "notes.txt").write_text("x")
        (tmp_path / "store" / "staging" / "core").write_text("x")
        assert list(store.list_blobs()) == []
        assert list(store.list_staged()) == []

    def test_ages_follow_the_last_write(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "store")
        key = blob_with(store, b"old")
        upload_id = staged_with(store, b"old too")
        hour_ago = os.stat(tmp_path / "store" / "blobs" / key).st_mtime - 3600
        os.utime(tmp_path / "store" / "blobs" / key, (hour_ago, hour_ago))
        os.utime(tmp_path / "store" / "staging" / upload_id, (hour_ago, hour_ago))
        assert store.age_seconds(key) >= 3600
        assert store.staged_age_seconds(upload_id) >= 3600
        assert store.age_seconds(ids.new_id("tr")) == 0.0

    def test_a_blob_ages_from_its_commit_not_its_last_write(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "store")
        upload_id = staged_with(store, b"written long ago")
        staged = tmp_path / "store" / "staging" / upload_id
        hour_ago = staged.stat().st_mtime - 3600
        os.utime(staged, (hour_ago, hour_ago))
        before = store.staged_age_seconds(upload_id)
        key = ids.new_id("tr")
        store.commit(upload_id, key)
        assert store.age_seconds(key) < before

    def test_ping_fails_when_a_folder_is_gone(self, tmp_path: Path) -> None:
        store = LocalBlobStore(tmp_path / "store")
        shutil.rmtree(tmp_path / "store" / "blobs")
        assert store.ping() is False

    def test_a_writer_killed_mid_append_loses_only_unacknowledged_bytes(
        self, tmp_path: Path
    ) -> None:
        root = tmp_path / "store"
        store = LocalBlobStore(root)
        upload_id = staged_with(store, b"acknowledged;")
        script = textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from scelle.storage.local import LocalBlobStore

            def body():
                yield b"torn-" * 1000
                sys.stdout.write("ready\\n")
                sys.stdout.flush()
                time.sleep(600)
                yield b"never"

            LocalBlobStore(Path(sys.argv[1])).append(sys.argv[2], 13, body(), 1 << 20)
            """
        )
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(root), upload_id],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
            # The child holds the upload: a concurrent writer is refused.
            with pytest.raises(Conflict):
                store.append(upload_id, 13, [b"x"], 1 << 20)
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait()
            if child.stdout is not None:
                child.stdout.close()
        assert child.returncode == -signal.SIGKILL
        # The lock died with the process; resuming at the acknowledged offset
        # drops whatever the dead writer left behind.
        assert store.append(upload_id, 13, [b"resumed"], 1 << 20) == 20
        key = ids.new_id("tr")
        store.commit(upload_id, key)
        assert read_all(store, key) == b"acknowledged;resumed"

    def test_a_full_disk_is_insufficient_storage_and_keeps_the_acknowledged_bytes(
        self, tmp_path: Path
    ) -> None:
        # A real full filesystem: a 256 KiB tmpfs in a private mount namespace.
        mount_point = tmp_path / "small"
        mount_point.mkdir()
        script = textwrap.dedent(
            """
            import json, sys
            from pathlib import Path
            from scelle import ids
            from scelle.errors import InsufficientStorage
            from scelle.storage.local import LocalBlobStore

            store = LocalBlobStore(Path(sys.argv[1]) / "store")
            upload_id = ids.new_id("up")
            store.create_staged(upload_id)
            result = {"first": store.append(upload_id, 0, [b"a" * 100_000], 1 << 30)}
            try:
                store.append(upload_id, 100_000, [b"b" * 65536] * 8, 1 << 30)
                result["second"] = "accepted"
            except InsufficientStorage as exc:
                result["second"] = exc.status
            result["after"] = store.staged_size(upload_id)
            result["resumed"] = store.append(upload_id, 100_000, [b"c" * 1000], 1 << 30)
            result["digest_ok"] = store.staged_digest(upload_id).hex()
            print(json.dumps(result))
            """
        )
        completed = subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                'mount -t tmpfs -o size=256k,mode=0700 tmpfs "$1" && shift && exec "$@"',
                "sh",
                str(mount_point),
                sys.executable,
                "-c",
                script,
                str(mount_point),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=120,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        result = json.loads(completed.stdout)
        assert result["first"] == 100_000
        assert result["second"] == 507
        assert result["after"] == 100_000
        assert result["resumed"] == 101_000
        expected = hashlib.sha256(b"a" * 100_000 + b"c" * 1000).hexdigest()
        assert result["digest_ok"] == expected
