"""Backup and restore of the embedded default (SQLite + local blobs), while it runs.

A backup is a folder::

    manifest.json       what is in it: format, time, counts, each blob's size and SHA-256
    scelle.db           a consistent snapshot, made with SQLite's online backup API
    blobs/tr_...        the ciphertext of every available transfer of the snapshot
    witness/*.checkpoint  the witness folder's signed checkpoints, when one is configured

It holds only what the server holds: ciphertext, hashes and routing metadata,
never a plaintext. The two host keys (``server-secret.key``, which keys the
token hashes and seals the TOTP seeds, and ``audit-log.key``, which signs the
checkpoints) are not in it: ``keys_out`` writes them to a separate folder, for
the secrets vault. The manifest keeps a keyed check value of the server secret
and the log's public verifier key, so a restore can tell that it was given the
right keys.

Consistency: the database is copied in one step of the backup API, which
reads one snapshot while the server keeps writing (WAL: readers never block
writers); then the blob of every transfer that is available in that
snapshot is copied and its SHA-256 checked against the signed digest the
snapshot holds. A blob purged between the snapshot and its copy is listed as
``gone`` in the manifest and not brought back: a restore never resurrects
what the live service deleted (the restore purges its transfer, audited).
Uploads in progress are not backed up (their senders send again).

``restore`` refuses a target that is not empty, rebuilds the data folder
beside it and renames it into place only once every check passed: the
database's integrity, the keys against the manifest, each blob's SHA-256
against the database, and the audit log against the log key and the
witness copies. It changes nothing when it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from scelle import ids
from scelle.audit.export import verify_export, write_export
from scelle.config import AUDIT_LOG_KEY_FILE, SERVER_SECRET_FILE, Settings
from scelle.crypto.errors import CryptoError
from scelle.crypto.note import NoteSigner, NoteVerifier
from scelle.db.models import Transfer, TransferStatus
from scelle.errors import BackupInvalid, NotFound
from scelle.server.container import Services, build_services
from scelle.storage.local import LocalBlobStore
from scelle.transfers import service as transfers

__all__ = ["BackupReport", "RestoreReport", "back_up", "restore"]

FORMAT = "scelle-backup/1"
MANIFEST = "manifest.json"
DATABASE = "scelle.db"
BLOBS = "blobs"
WITNESS = "witness"
KEY_FILES = (SERVER_SECRET_FILE, AUDIT_LOG_KEY_FILE)
_SECRET_CHECK_LABEL = b"scelle/v1/backup/secret-check"
_CHUNK = 1024 * 1024
GONE_REASON = "purged-during-backup"

Progress = Callable[[int], None]


@dataclass
class BackupReport:
    """What ``back_up`` wrote."""

    path: Path
    blobs: int = 0
    bytes: int = 0
    gone: list[str] = field(default_factory=list)
    witness_files: int = 0
    keys_written: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    """What ``restore`` brought back and checked."""

    path: Path
    blobs: int = 0
    bytes: int = 0
    gone: list[str] = field(default_factory=list)
    audit_entries: int = 0
    checkpoints: int = 0
    tree_heads: int = 0


def _noop(_: int) -> None:
    return None


def secret_check(secret: bytes) -> str:
    """A value that identifies the server secret without revealing it (HMAC-SHA256, labelled)."""
    return hmac.new(secret, _SECRET_CHECK_LABEL, hashlib.sha256).hexdigest()


def _require_empty(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupInvalid(f"{what} {path} is not empty: refusing to overwrite it")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _copy_stream(chunks: Iterator[bytes], target: Path, advance: Progress) -> tuple[int, bytes]:
    """Write ``chunks`` to a new 0600 file, fsynced; return its size and SHA-256."""
    digest = hashlib.sha256()
    size = 0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
            advance(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return size, digest.digest()


def _read_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            yield chunk


@contextlib.contextmanager
def _sqlite_session(path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def _available(session: Session) -> list[Transfer]:
    return list(
        session.scalars(
            select(Transfer)
            .where(
                Transfer.status == TransferStatus.AVAILABLE.value, Transfer.blob_key.is_not(None)
            )
            .order_by(Transfer.id)
        )
    )


def _snapshot_database(live: Path, target: Path) -> None:
    """Copy the live SQLite database in one step of the online backup API (one snapshot)."""
    source = sqlite3.connect(f"file:{live}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(target)
        try:
            source.backup(destination, pages=-1)
            ok = destination.execute("PRAGMA integrity_check").fetchone()
            if ok is None or ok[0] != "ok":
                raise BackupInvalid("the database snapshot fails its integrity check")
            # A self-contained file: no write-ahead log beside it.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    finally:
        source.close()
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _host_key_files(settings: Settings) -> dict[str, Path]:
    """The key files of the data folder that are in use (not given by the environment)."""
    found = {}
    if settings.secret_key is None and (settings.data / SERVER_SECRET_FILE).is_file():
        found[SERVER_SECRET_FILE] = settings.data / SERVER_SECRET_FILE
    if settings.audit_log_key is None and (settings.data / AUDIT_LOG_KEY_FILE).is_file():
        found[AUDIT_LOG_KEY_FILE] = settings.data / AUDIT_LOG_KEY_FILE
    return found


def back_up(
    services: Services,
    target: Path,
    *,
    keys_out: Path | None = None,
    on_total: Callable[[int], None] = _noop,
    advance: Progress = _noop,
) -> BackupReport:
    """Write a consistent backup of the running embedded default to ``target``.

    ``target`` must not exist or be empty (BackupInvalid otherwise); the
    backup is written beside it and renamed into place when complete.
    ``on_total`` is told how many ciphertext bytes will be copied, ``advance``
    each chunk copied. Raises BackupInvalid when the store is not the embedded
    default (PostgreSQL: ``pg_dump``; see docs/operations.md) or when a blob
    does not match its signed digest (run ``scelle worker --scrub``).
    """
    settings = services.settings
    if services.database.engine.dialect.name != "sqlite":
        raise BackupInvalid(
            "scelle admin backup copies the embedded SQLite database; "
            "back up PostgreSQL with pg_dump (docs/operations.md)"
        )
    live = services.database.engine.url.database
    if not live:
        raise BackupInvalid("the SQLite database has no file")
    target = target.expanduser().resolve()
    _require_empty(target, "the backup folder")
    if keys_out is not None:
        keys_out = keys_out.expanduser().resolve()
        _require_empty(keys_out, "the keys folder")
        if keys_out == target or keys_out.is_relative_to(target):
            raise BackupInvalid("keep the keys out of the backup folder: give another --keys-out")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        with services.database.transaction() as session:
            services.audit.record(session, "admin:data:backup")
        report = _write_backup(services, Path(live), partial, on_total, advance)
        if target.exists():
            target.rmdir()
        partial.replace(target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    report.path = target
    if keys_out is not None:
        keys_out.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name, path in _host_key_files(settings).items():
            _write_file(keys_out / name, path.read_bytes())
            report.keys_written.append(name)
        _fsync_dir(keys_out)
    return report


def _write_backup(
    services: Services,
    live: Path,
    partial: Path,
    on_total: Callable[[int], None],
    advance: Progress,
) -> BackupReport:
    settings = services.settings
    report = BackupReport(path=partial)
    _snapshot_database(live, partial / DATABASE)
    with _sqlite_session(partial / DATABASE) as session:
        available = [
            (t.id, t.blob_key or "", t.payload_size, t.payload_sha256) for t in _available(session)
        ]
    on_total(sum(size for _, _, size, _ in available))
    blob_dir = partial / BLOBS
    blob_dir.mkdir(mode=0o700)
    blobs: dict[str, dict[str, Any]] = {}
    damaged = []
    for transfer_id, key, _size, expected in available:
        try:
            chunks = services.blobs.read(key)
        except NotFound:
            report.gone.append(transfer_id)  # purged since the snapshot: stays gone
            continue
        size, digest = _copy_stream(chunks, blob_dir / key, advance)
        if not hmac.compare_digest(digest, expected):
            damaged.append(transfer_id)
            continue
        blobs[key] = {"transfer": transfer_id, "size": size, "sha256": digest.hex()}
        report.blobs += 1
        report.bytes += size
    if damaged:
        raise BackupInvalid(
            f"{len(damaged)} stored ciphertext(s) do not match their signed digest: "
            f"{', '.join(damaged)} (see scelle worker --scrub)"
        )
    _fsync_dir(blob_dir)
    witness_files = []
    if settings.witness_dir is not None and settings.witness_dir.is_dir():
        (partial / WITNESS).mkdir(mode=0o700)
        for path in sorted(settings.witness_dir.glob("*.checkpoint")):
            _write_file(partial / WITNESS / path.name, path.read_bytes())
            witness_files.append(path.name)
        _fsync_dir(partial / WITNESS)
    report.witness_files = len(witness_files)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": DATABASE,
        "blobs": blobs,
        "gone": report.gone,
        "witness": witness_files,
        "secret_check": secret_check(settings.server_secret()),
        "log_key": str(services.log_signer.verifier),
    }
    _write_file(partial / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
    _fsync_dir(partial)
    return report


def _read_manifest(source: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupInvalid(f"{source} is not a backup: it has no {MANIFEST}") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BackupInvalid(f"the {MANIFEST} of {source} is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupInvalid(f"{source} is not a backup in the {FORMAT} format")
    return manifest


def _install_keys(keys: Path | None, staging: Path, settings: Settings) -> None:
    """Copy the key files given into the new data folder; check every key is available."""
    if keys is not None:
        for name in KEY_FILES:
            path = keys.expanduser() / name
            if path.is_file():
                _write_file(staging / name, path.read_bytes())
    if settings.secret_key is None and not (staging / SERVER_SECRET_FILE).is_file():
        raise BackupInvalid(
            f"no server secret: give --keys DIR (written by backup --keys-out) holding "
            f"{SERVER_SECRET_FILE}, or set SCELLE_SECRET_KEY"
        )
    if settings.audit_log_key is None and not (staging / AUDIT_LOG_KEY_FILE).is_file():
        raise BackupInvalid(
            f"no audit log key: give --keys DIR holding {AUDIT_LOG_KEY_FILE}, "
            "or set SCELLE_AUDIT_LOG_KEY"
        )


def _check_keys(manifest: dict[str, Any], settings: Settings) -> NoteVerifier:
    if not hmac.compare_digest(
        secret_check(settings.server_secret()), str(manifest.get("secret_check", ""))
    ):
        raise BackupInvalid("the server secret given is not the one this backup was made with")
    try:
        signer = NoteSigner.parse(settings.audit_log_key_text(lambda _: ""))
    except CryptoError:
        raise BackupInvalid("the audit log key given is malformed") from None
    if str(signer.verifier) != manifest.get("log_key"):
        raise BackupInvalid("the audit log key given is not the one this backup was made with")
    return signer.verifier


def restore(
    source: Path,
    data: Path,
    *,
    keys: Path | None = None,
    log_key: str | None = None,
    settings: Settings | None = None,
    on_total: Callable[[int], None] = _noop,
    advance: Progress = _noop,
) -> RestoreReport:
    """Rebuild the data folder ``data`` from the backup ``source``; all checks pass or nothing.

    ``data`` must not exist or be empty. ``keys`` is the folder ``back_up``
    wrote the host keys to (or they come from ``SCELLE_SECRET_KEY`` and
    ``SCELLE_AUDIT_LOG_KEY``). ``log_key`` is the log's verifier key as you
    pinned it: the restored log must verify against it, not only against the
    key the backup names. ``settings`` supplies those environment keys
    and the witness copies' verification. Raises BackupInvalid naming what
    failed: a missing or damaged blob, wrong keys, a database that fails its
    integrity check, or an audit log that does not verify.
    """
    source = source.expanduser().resolve()
    data = data.expanduser().resolve()
    manifest = _read_manifest(source)
    _require_empty(data, "the data folder")
    data.parent.mkdir(parents=True, exist_ok=True)
    staging = data.with_name(f".{data.name}.restoring-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        base = settings or Settings()
        restored = base.model_copy(update={"data": staging})
        report = _restore_into(
            manifest,
            source,
            staging,
            restored,
            keys=keys,
            log_key=log_key,
            on_total=on_total,
            advance=advance,
        )
        if data.exists():
            data.rmdir()
        staging.replace(data)
        _fsync_dir(data.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    report.path = data
    return report


def _restore_into(
    manifest: dict[str, Any],
    source: Path,
    staging: Path,
    settings: Settings,
    *,
    keys: Path | None,
    log_key: str | None,
    on_total: Callable[[int], None],
    advance: Progress,
) -> RestoreReport:
    report = RestoreReport(path=staging)
    _install_keys(keys, staging, settings)
    verifier = _check_keys(manifest, settings)
    if log_key is not None:
        try:
            pinned = NoteVerifier.parse(log_key)
        except CryptoError:
            raise BackupInvalid("the pinned log key is malformed") from None
        if pinned != verifier:
            raise BackupInvalid("the backup's audit log key is not the log key you pinned")
    database = staging / DATABASE
    _restore_database(source / DATABASE, database)
    with _sqlite_session(database) as session:
        _restore_blobs(
            session, manifest, source, LocalBlobStore(settings.blob_dir), report, on_total, advance
        )
    if report.gone:
        _purge_gone(settings, report.gone)
    export = io.StringIO()
    with _sqlite_session(database) as session:
        write_export(session, verifier, export)
    heads = []
    for name in manifest.get("witness", []):
        path = source / WITNESS / Path(str(name)).name
        if path.is_file():
            heads.append((f"witness copy {path.name}", path.read_text(encoding="utf-8")))
    export.seek(0)
    verified = verify_export(export, verifier, heads)
    if not verified.ok:
        raise BackupInvalid(f"the restored audit log does not verify: {verified.problems[0]}")
    report.audit_entries = verified.entries
    report.checkpoints = verified.checkpoints
    report.tree_heads = verified.tree_heads
    _fsync_dir(staging)
    return report


def _purge_gone(settings: Settings, gone: list[str]) -> None:
    """Purge (audited) the transfers whose ciphertext the live service deleted during the backup.

    No visible transfer is left without its bytes, and none comes back.
    """
    services = build_services(settings)
    try:
        with services.database.transaction() as session:
            for transfer_id in gone:
                transfer = session.get(Transfer, transfer_id)
                if transfer is not None:
                    transfers.purge(session, services, transfer, GONE_REASON)
    finally:
        services.database.dispose()


def _restore_database(backed_up: Path, database: Path) -> None:
    try:
        shutil.copyfile(backed_up, database)
    except FileNotFoundError:
        raise BackupInvalid(f"the backup has no {DATABASE}") from None
    os.chmod(database, 0o600)
    connection = sqlite3.connect(database)
    try:
        ok = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError:
        ok = None
    finally:
        connection.close()
    if ok is None or ok[0] != "ok":
        raise BackupInvalid("the backed-up database fails its integrity check")


def _restore_blobs(  # noqa: PLR0917  (one internal step of restore)
    session: Session,
    manifest: dict[str, Any],
    source: Path,
    store: LocalBlobStore,
    report: RestoreReport,
    on_total: Callable[[int], None],
    advance: Progress,
) -> None:
    """Put back the blob of every available transfer, each checked against the database."""
    gone = set(manifest.get("gone", []))
    available = _available(session)
    on_total(sum(t.payload_size for t in available if t.id not in gone))
    problems = []
    for transfer in available:
        key = transfer.blob_key or ""
        path = source / BLOBS / key
        if not ids.is_valid(key, "tr") or not path.is_file():
            if transfer.id in gone:
                report.gone.append(transfer.id)
            else:
                problems.append(f"{transfer.id} (missing)")
            continue
        upload_id = ids.new_id("up")
        store.create_staged(upload_id)
        chunks = _chunks_with_progress(path, advance)
        size = store.append(upload_id, 0, chunks, limit=path.stat().st_size)
        if not hmac.compare_digest(store.staged_digest(upload_id), transfer.payload_sha256):
            store.abort(upload_id)
            problems.append(f"{transfer.id} (digest)")
            continue
        store.commit(upload_id, key)
        report.blobs += 1
        report.bytes += size
    if problems:
        raise BackupInvalid(
            f"{len(problems)} blob(s) of the backup do not match the database: "
            + ", ".join(problems)
        )


def _chunks_with_progress(path: Path, advance: Progress) -> Iterator[bytes]:
    for chunk in _read_file(path):
        advance(len(chunk))
        yield chunk
