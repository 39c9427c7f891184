"""Signed checkpoints of the audit log (C2SP tlog-checkpoint in an Ed25519 signed note).

``sign_checkpoint`` is what the worker runs. It signs the current tree only
after checking that it extends the last checkpoint: the last note's signature
verifies with the log key, the leaves added since then hash to the stored
leaf hashes from their events, and an RFC 9162 consistency proof from the
last size to the new one verifies against both roots. Otherwise it refuses
(``AuditLogInconsistent``) and signs nothing. The tree size is the primary
key of ``audit_checkpoints``, so two workers never store two heads of one size.

Checkpoint text::

    <origin>                 the log key's name
    <tree size>              decimal
    <base64 root hash>
    time <RFC 3339 UTC>      extension line: when it was signed
"""

from __future__ import annotations

import hmac
import logging
import os
from itertools import islice
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scelle.audit import repository
from scelle.audit.entry import format_time
from scelle.audit.service import consistency_proof as _consistency_proof
from scelle.audit.service import entry_of, root
from scelle.config import Settings
from scelle.crypto.errors import CryptoError
from scelle.crypto.merkle import leaf_hash, verify_consistency
from scelle.crypto.note import Checkpoint, NoteSigner, NoteVerifier
from scelle.db.base import utcnow
from scelle.db.models import AuditCheckpoint
from scelle.errors import AuditLogInconsistent

__all__ = [
    "load_log_signer",
    "open_checkpoint",
    "sign_checkpoint",
    "write_witness_copy",
    "write_witness_s3",
]

log = logging.getLogger("scelle.audit")


def load_log_signer(settings: Settings) -> NoteSigner:
    """The log's signing key (from settings, or created once in the data folder)."""
    return NoteSigner.parse(
        settings.audit_log_key_text(lambda name: NoteSigner.generate(name).private_text())
    )


def open_checkpoint(row: AuditCheckpoint, verifier: NoteVerifier) -> Checkpoint:
    """Verify a stored checkpoint's note and check it says what its row says."""
    try:
        checkpoint = Checkpoint.open(row.note, verifier)
    except CryptoError as exc:
        raise AuditLogInconsistent(
            f"the checkpoint of size {row.tree_size} does not verify with the log key"
        ) from exc
    if checkpoint.size != row.tree_size or not hmac.compare_digest(
        checkpoint.root_hash, row.root_hash
    ):
        raise AuditLogInconsistent(f"the checkpoint of size {row.tree_size} was altered")
    return checkpoint


def _check_new_leaves(session: Session, start: int, end: int) -> None:
    """The events of leaves [start, end) hash to the stored leaf hashes."""
    stored = repository.leaf_hashes(session, start, end)
    events = list(islice(repository.events(session, start=start + 1, batch=5000), end - start))
    if len(stored) != end - start or len(events) != end - start:
        raise AuditLogInconsistent(f"audit leaves {start}..{end - 1} are missing")
    for offset, (event, value) in enumerate(zip(events, stored, strict=True)):
        if event.seq != start + offset + 1 or leaf_hash(entry_of(event)) != value:
            raise AuditLogInconsistent(
                f"audit event {start + offset + 1} does not match its leaf hash"
            )


def sign_checkpoint(session: Session, signer: NoteSigner) -> AuditCheckpoint | None:
    """Sign the current tree if it grew since the last checkpoint; None if nothing to sign.

    Raises AuditLogInconsistent (and signs nothing) when the tree does not
    extend the last checkpoint or is smaller than it (a rollback). A
    checkpoint of the same size stored meanwhile by another worker is not an
    error: None is returned.
    """
    size = repository.tree_size(session)
    latest = repository.latest_checkpoint(session)
    if latest is not None:
        if latest.tree_size > size:
            raise AuditLogInconsistent(
                f"the audit tree has {size} leaves but a checkpoint covers {latest.tree_size}"
            )
        if latest.tree_size == size:
            return None
    elif size == 0:
        return None
    new_root = root(session, size)
    old_size = latest.tree_size if latest is not None else 0
    if latest is not None:
        previous = open_checkpoint(latest, signer.verifier)
        try:
            verify_consistency(
                old_size,
                size,
                previous.root_hash,
                new_root,
                _consistency_proof(session, old_size, size),
            )
        except CryptoError as exc:
            raise AuditLogInconsistent(
                f"the audit tree of size {size} does not extend the checkpoint of size {old_size}"
            ) from exc
    _check_new_leaves(session, old_size, size)
    now = utcnow()
    note = Checkpoint(
        signer.name, size, new_root, (f"time {format_time(now).split('.')[0]}Z",)
    ).sign(signer)
    row = AuditCheckpoint(tree_size=size, root_hash=new_root, signed_at=now, note=note)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # another worker signed this size first
    log.info("audit checkpoint signed: size %d", size)
    return row


def write_witness_copy(folder: Path, row: AuditCheckpoint) -> Path:
    """Write a checkpoint to the witness folder (``<size>.checkpoint``, ``latest``), atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{row.tree_size:012d}.checkpoint"
    for path in (target, folder / "latest.checkpoint"):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(row.note)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(path)
    return target


def write_witness_s3(settings: Settings, row: AuditCheckpoint) -> str:
    """Put a checkpoint into the witness bucket (``<size>.checkpoint``, ``latest``); its key.

    Raises whatever the S3 client raises (the caller logs it and carries on).
    """
    import boto3

    secret = settings.witness_s3_secret_key
    client = boto3.client(
        "s3",
        endpoint_url=settings.witness_s3_endpoint,
        aws_access_key_id=settings.witness_s3_access_key,
        aws_secret_access_key=secret.get_secret_value() if secret is not None else None,
        region_name=settings.witness_s3_region,
    )
    body = row.note.encode()
    key = f"{settings.witness_s3_prefix}{row.tree_size:012d}.checkpoint"
    for name in (key, f"{settings.witness_s3_prefix}latest.checkpoint"):
        client.put_object(
            Bucket=settings.witness_s3_bucket,
            Key=name,
            Body=body,
            ContentType="text/plain; charset=utf-8",
        )
    return key
