"""The tus upload lifecycle, independent of HTTP.

A PATCH runs in three steps so that no database transaction (nor its
connection, nor SQLite's write lock) is held while bytes stream in:
``begin_patch`` (short transaction: checks), the bytes go to the blob store
through ``open_writer`` and are fsynced, then ``finish_patch`` (short
transaction: records the new offset). When the last byte has arrived the
whole staged ciphertext is hashed (``staged_digest``, outside any
transaction) and ``finish_patch`` compares it with the transfer's announced
SHA-256, commits it into the blob store (atomic rename) and attaches it to the
transfer in that same transaction, so a transfer never points at bytes that
are not all there, and the database never records a full offset without the
upload being complete.

Crash recovery: the database offset only moves after the blob store has
fsynced the bytes, and every read of the offset is ``min(database offset,
staged size)``; a later PATCH at that offset drops any staged tail. If the
process dies after the rename but before the database commit, the staged
bytes are gone: the upload restarts at 0 and the worker reaps the orphan blob.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts.service import Principal
from scelle.db.base import utcnow
from scelle.db.models import TransferStatus, Upload
from scelle.errors import (
    BadRequest,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UploadOffsetMismatch,
)
from scelle.server.container import Services
from scelle.storage.blob_store import UploadWriter
from scelle.transfers import repository as transfers_repository
from scelle.uploads import repository

__all__ = [
    "PatchOutcome",
    "PatchPlan",
    "begin_patch",
    "create",
    "describe",
    "finish_patch",
    "open_writer",
    "parse_metadata",
    "staged_digest",
    "terminate",
]


@dataclass(frozen=True)
class PatchPlan:
    """Where a PATCH may write: the acknowledged offset, the announced length."""

    upload_id: str
    transfer_id: str
    offset: int
    length: int
    expires_at: datetime


class PatchOutcome(enum.Enum):
    """What ``finish_patch`` did with the bytes a PATCH made durable."""

    RECORDED = "recorded"  # the offset moved; more bytes are expected
    COMPLETED = "completed"  # the last byte: digest verified, blob committed
    DIGEST_MISMATCH = "digest_mismatch"  # the last byte, wrong digest: reset to 0


def parse_metadata(header: str) -> dict[str, bytes]:
    """Parse ``Upload-Metadata``: comma-separated ``key base64value`` (value optional).

    Values are returned as bytes and never logged or stored: a generic tus
    client may send a ``filename`` here, which the server must not keep.
    Raises BadRequest for a malformed header.
    """
    pairs: dict[str, bytes] = {}
    for raw in header.split(","):
        item = raw.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        if not key or " " in value.strip() or key in pairs:
            raise BadRequest("Upload-Metadata is malformed")
        try:
            pairs[key] = base64.b64decode(value.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("Upload-Metadata is malformed") from None
    return pairs


def _owned_upload(session: Session, principal: Principal, upload_id: str) -> Upload:
    upload = repository.get(session, upload_id) if ids.is_valid(upload_id, "up") else None
    if upload is None or upload.owner_id != principal.user.id:
        raise NotFound("upload not found")
    principal.require("send")  # after the lookup: a 403 only ever tells the owner
    return upload


def create(
    session: Session, services: Services, principal: Principal, *, length: int, metadata: str
) -> Upload:
    """Open (or, for a retried request, return) the upload of the caller's pending transfer.

    ``metadata`` must name the transfer (``transfer <base64 id>``) and
    ``length`` equal its ``payload_size``. One upload per transfer: a retried
    creation returns the existing upload. Raises NotFound (unknown, foreign or
    not pending transfer), PayloadTooLarge, InvalidInput, Conflict (already
    uploaded), BadRequest (malformed metadata).
    """
    principal.require("send")
    try:
        transfer_id = parse_metadata(metadata).get("transfer", b"").decode("ascii")
    except UnicodeDecodeError:
        transfer_id = ""
    transfer = (
        transfers_repository.get(session, transfer_id) if ids.is_valid(transfer_id, "tr") else None
    )
    if (
        transfer is None
        or transfer.sender_id != principal.user.id
        or transfer.status != TransferStatus.PENDING.value
    ):
        raise NotFound("transfer not found (or not awaiting its upload)")
    if length > services.settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"the upload is larger than the maximum of {services.settings.max_upload_bytes} bytes"
        )
    if length != transfer.payload_size:
        raise InvalidInput("Upload-Length must equal the transfer's payload_size")
    existing = repository.for_transfer(session, transfer.id)
    if existing is not None:
        if existing.completed_at is not None:
            raise Conflict("this transfer's ciphertext is already uploaded")
        return existing  # a retried creation after a lost response
    now = utcnow()
    upload = Upload(
        id=ids.new_id("up"),
        transfer_id=transfer.id,
        owner_id=principal.user.id,
        length=length,
        offset=0,
        created_at=now,
        expires_at=min(now + services.settings.upload_expiry, transfer.expires_at),
    )
    session.add(upload)
    session.flush()
    services.blobs.create_staged(upload.id)
    services.audit.record(
        session,
        "upload:session:create",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=transfer.id,
        upload_id=upload.id,
        length=length,
    )
    return upload


def describe(session: Session, services: Services, principal: Principal, upload_id: str) -> Upload:
    """The caller's upload, its offset reconciled with what is durably staged.

    The offset is ``min(recorded, staged)``: bytes fsynced but never recorded
    (a crash between the two) are not trusted, and recorded bytes that the
    store lost are asked again. Raises NotFound (unknown, or another user's
    upload), Gone (the upload expired or its transfer was cancelled).
    """
    upload = _owned_upload(session, principal, upload_id)
    if upload.completed_at is None:
        if upload.expires_at <= utcnow():
            raise Gone("this upload has expired")
        transfer = transfers_repository.get(session, upload.transfer_id)
        if transfer is None or transfer.status != TransferStatus.PENDING.value:
            raise Gone("the transfer of this upload was cancelled or has expired")
        try:
            staged = services.blobs.staged_size(upload.id)
        except NotFound:
            services.blobs.create_staged(upload.id)
            staged = 0
        upload.offset = min(upload.offset, staged)
    return upload


def begin_patch(
    session: Session, services: Services, principal: Principal, upload_id: str, offset: int
) -> PatchPlan:
    """Check a PATCH before any byte is read: owner, state, expiry and offset.

    Raises NotFound, Gone, Conflict (already complete), UploadOffsetMismatch.
    """
    upload = describe(session, services, principal, upload_id)
    if upload.completed_at is not None:
        raise Conflict("this upload is complete")
    if offset != upload.offset:
        raise UploadOffsetMismatch(f"the upload is at offset {upload.offset}, not {offset}")
    return PatchPlan(upload.id, upload.transfer_id, upload.offset, upload.length, upload.expires_at)


def open_writer(services: Services, plan: PatchPlan) -> UploadWriter:
    """The blob-store writer a PATCH streams into (bytes past ``plan.offset`` dropped).

    Raises Conflict while another request writes the same upload.
    """
    return services.blobs.open_writer(plan.upload_id, plan.offset, plan.length)


def staged_digest(services: Services, plan: PatchPlan) -> bytes:
    """SHA-256 of everything staged for the upload (streamed; run it outside a transaction)."""
    return services.blobs.staged_digest(plan.upload_id)


def finish_patch(
    session: Session,
    services: Services,
    principal: Principal,
    plan: PatchPlan,
    *,
    new_offset: int,
    digest: bytes | None = None,
) -> PatchOutcome:
    """Record the offset the blob store made durable; at the last byte, complete or reset.

    ``digest`` (of the whole staged upload) is required when ``new_offset``
    reaches the length. When it equals the transfer's ``payload_sha256`` the
    staged bytes are committed as the blob ``transfer.id`` and attached to the
    transfer; otherwise they are discarded and the upload goes back to offset
    0 (audited), and the caller answers ChecksumMismatch after committing.
    Raises Conflict when the upload moved during the request, Gone when its
    transfer was cancelled meanwhile.
    """
    upload = _owned_upload(session, principal, plan.upload_id)
    if upload.offset != plan.offset or upload.completed_at is not None:
        raise Conflict("the upload changed during this request")
    if new_offset < upload.length:
        upload.offset = new_offset
        return PatchOutcome.RECORDED
    transfer = transfers_repository.get(session, upload.transfer_id)
    if transfer is None or transfer.status != TransferStatus.PENDING.value:
        raise Gone("the transfer of this upload was cancelled")
    if digest is None:
        raise ValueError("the digest of the staged upload is required at its last byte")
    if not hmac.compare_digest(digest, transfer.payload_sha256):
        services.blobs.abort(upload.id)
        services.blobs.create_staged(upload.id)
        upload.offset = 0
        services.audit.record(
            session,
            "upload:content:mismatch",
            actor_id=principal.user.id,
            org_id=principal.user.org_id,
            object_id=transfer.id,
            upload_id=upload.id,
            size=upload.length,
        )
        return PatchOutcome.DIGEST_MISMATCH
    # Rename first: the transfer must never point at a blob that is not all there.
    services.blobs.commit(upload.id, transfer.id)
    upload.offset = upload.length
    upload.completed_at = utcnow()
    transfer.blob_key = transfer.id
    services.audit.record(
        session,
        "upload:content:complete",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=transfer.id,
        upload_id=upload.id,
        size=upload.length,
        sha256=digest.hex(),
    )
    return PatchOutcome.COMPLETED


def terminate(session: Session, services: Services, principal: Principal, upload_id: str) -> None:
    """tus termination: drop an unfinished upload and its staged bytes.

    The transfer stays pending, so a new upload may be created for it.
    Raises NotFound, Conflict for a completed upload.
    """
    upload = _owned_upload(session, principal, upload_id)
    if upload.completed_at is not None:
        raise Conflict("a completed upload cannot be terminated; delete the transfer instead")
    services.blobs.abort(upload.id)
    session.delete(upload)
    services.audit.record(
        session,
        "upload:session:terminate",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=upload.transfer_id,
    )
