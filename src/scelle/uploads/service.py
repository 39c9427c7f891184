"""The tus upload lifecycle, independent of HTTP.

A PATCH runs in three steps so that no database transaction stays open while
bytes stream in: ``begin_patch`` (short transaction: checks), the bytes go to
the blob store and are fsynced, then ``finish_patch`` (short transaction:
records the new offset). When the last byte arrives the whole staged
ciphertext is hashed, compared with the transfer's announced SHA-256,
committed into the blob store (atomic rename) and only then attached to the
transfer, so a transfer never points at bytes that are not all there.
"""

from __future__ import annotations

import base64
import binascii
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
from scelle.transfers import repository as transfers_repository
from scelle.uploads import repository

__all__ = [
    "PatchPlan",
    "begin_patch",
    "complete",
    "create",
    "describe",
    "finish_patch",
    "parse_metadata",
    "reset_after_bad_digest",
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


def parse_metadata(header: str) -> dict[str, str]:
    """Parse ``Upload-Metadata`` (``key base64value`` pairs, comma separated)."""
    pairs: dict[str, str] = {}
    for raw in header.split(","):
        item = raw.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        try:
            pairs[key] = base64.b64decode(value.strip(), validate=True).decode("ascii")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise BadRequest("Upload-Metadata is malformed") from None
    return pairs


def _owned_upload(session: Session, principal: Principal, upload_id: str) -> Upload:
    upload = repository.get(session, upload_id) if ids.is_valid(upload_id, "up") else None
    if upload is None or upload.owner_id != principal.user.id:
        raise NotFound("upload not found")
    return upload


def create(
    session: Session, services: Services, principal: Principal, *, length: int, metadata: str
) -> Upload:
    """Open (or, for a retried request, return) the upload of a pending transfer."""
    principal.require("send")
    transfer_id = parse_metadata(metadata).get("transfer", "")
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
    """The upload, with its offset reconciled against what is durably staged."""
    upload = _owned_upload(session, principal, upload_id)
    if upload.completed_at is None:
        if upload.expires_at <= utcnow():
            raise Gone("this upload has expired")
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
    """Check a PATCH before any byte is read: owner, state, expiry and offset."""
    upload = describe(session, services, principal, upload_id)
    if upload.completed_at is not None:
        raise Conflict("this upload is complete")
    if offset != upload.offset:
        raise UploadOffsetMismatch(f"the upload is at offset {upload.offset}, not {offset}")
    return PatchPlan(upload.id, upload.transfer_id, upload.offset, upload.length, upload.expires_at)


def finish_patch(session: Session, principal: Principal, plan: PatchPlan, new_offset: int) -> int:
    """Record the offset the blob store has made durable."""
    upload = _owned_upload(session, principal, plan.upload_id)
    if upload.offset != plan.offset or upload.completed_at is not None:
        raise Conflict("the upload changed during this request")
    upload.offset = new_offset
    return new_offset


def complete(
    session: Session, services: Services, principal: Principal, plan: PatchPlan, digest: bytes
) -> bool:
    """Attach the fully staged ciphertext to its transfer if its SHA-256 matches.

    Returns False (and changes nothing) when the digest differs from the one
    announced at creation; the caller then resets the upload.
    """
    upload = _owned_upload(session, principal, plan.upload_id)
    transfer = transfers_repository.get(session, upload.transfer_id)
    if transfer is None or transfer.status != TransferStatus.PENDING.value:
        raise Gone("the transfer was cancelled")
    if not hmac.compare_digest(digest, transfer.payload_sha256):
        return False
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
        size=upload.length,
        sha256=digest.hex(),
    )
    return True


def reset_after_bad_digest(
    session: Session, services: Services, principal: Principal, plan: PatchPlan
) -> None:
    """Discard a complete upload whose bytes do not hash to the announced SHA-256."""
    upload = _owned_upload(session, principal, plan.upload_id)
    services.blobs.abort(upload.id)
    services.blobs.create_staged(upload.id)
    upload.offset = 0
    services.audit.record(
        session,
        "upload:content:mismatch",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=upload.transfer_id,
    )


def terminate(session: Session, services: Services, principal: Principal, upload_id: str) -> None:
    """tus termination: drop an unfinished upload and its staged bytes."""
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
