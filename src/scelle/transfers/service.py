"""Transfers service: create, seal, list, download accounting, purge.

Promises:
- only the sender and the recipients of a transfer learn that it exists; any
  other id, well-formed or not, is NotFound;
- a transfer becomes available only once its whole ciphertext is stored and
  the sender's signature over (id, payload digest, metadata digest) verifies;
- every transfer expires (default 7 days, at most the policy maximum); at
  expiry or after the last allowed download its ciphertext is purged and the
  purge is audited; afterwards the transfer answers Gone.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import repository as accounts_repository
from scelle.anomaly import service as anomaly
from scelle.crypto.errors import CryptoError
from scelle.crypto.signing import VerifyKey, transfer_signature_message
from scelle.db.base import utcnow
from scelle.db.models import (
    KeyRevocation,
    Organization,
    PolicyAction,
    Role,
    Transfer,
    TransferRecipient,
    TransferScan,
    TransferStatus,
    User,
    UserStatus,
)
from scelle.errors import (
    Conflict,
    Gone,
    InvalidInput,
    KeyRevoked,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    PolicyViolation,
)
from scelle.keys import repository as keys_repository
from scelle.server.metric_families import PURGES
from scelle.transfers import repository, schemas

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.server.container import Services

__all__ = [
    "POLICY_KINDS",
    "DownloadGrant",
    "check_policy",
    "create",
    "delete",
    "describe",
    "finish_download",
    "list_box",
    "policy",
    "purge",
    "purge_due",
    "retention",
    "seal",
    "set_policy",
    "start_download",
    "visible",
]

MAX_METADATA_BYTES = 64 * 1024
POLICY_KINDS = ("nir", "ins", "phone", "email", "birth_date", "name", "health_text")


@dataclass(frozen=True)
class DownloadGrant:
    """What a download may stream, and whether this download used up the limit."""

    transfer: Transfer
    blob_key: str
    counted: bool
    last_allowed: bool


def _b64(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{what} is not valid base64") from exc


def _recipient_links(
    session: Session, request: schemas.CreateTransferRequest, transfer_id: str
) -> list[TransferRecipient]:
    """One link per distinct recipient, each to the key the sender encrypted to.

    NotFound for a recipient who cannot receive, KeyRevoked for a revoked
    key, Conflict for a key that is no longer the recipient's current one.
    """
    links: list[TransferRecipient] = []
    seen: set[str] = set()
    for ref in request.recipients:
        if ref.user_id in seen:
            continue
        seen.add(ref.user_id)
        user = (
            accounts_repository.user_by_id(session, ref.user_id)
            if ids.is_valid(ref.user_id, "usr")
            else None
        )
        if (
            user is None
            or user.status != UserStatus.ACTIVE.value
            or not user.has_role(Role.RECIPIENT)
        ):
            raise NotFound("a recipient is unknown or cannot receive transfers")
        key = keys_repository.current_key(session, user.id)
        addressed = (
            keys_repository.key_by_id(session, ref.key_id)
            if key is None or key.id != ref.key_id
            else None
        )
        if addressed is not None and addressed.user_id == user.id and addressed.revoked_at:
            raise KeyRevoked("a recipient's key was revoked; resolve the recipients again")
        if key is None or key.id != ref.key_id:
            raise Conflict("a recipient's key changed; resolve the recipients again")
        links.append(TransferRecipient(transfer_id=transfer_id, user_id=user.id, key_id=key.id))
    return links


def create(
    session: Session,
    services: Services,
    principal: Principal,
    request: schemas.CreateTransferRequest,
) -> Transfer:
    """Create a pending transfer for recipients encrypted to their current keys.

    Idempotent: the same request sent again (a retry after a lost answer)
    returns the pending transfer it created instead of a second one.
    """
    principal.require("send")
    settings = services.settings
    sender_key = keys_repository.current_key(session, principal.user.id)
    if sender_key is None:
        raise Conflict("publish your keys first (scelle keygen)")
    if request.payload_size > settings.max_upload_bytes:
        raise PayloadTooLarge(
            f"the file is larger than the maximum of {settings.max_upload_bytes} bytes"
        )
    expires_in = (
        timedelta(seconds=request.expires_in) if request.expires_in else settings.default_expiry
    )
    if expires_in > settings.max_expiry:
        raise PolicyViolation(
            f"the expiry may not exceed {settings.max_expiry.days} days under this server's policy"
        )
    if expires_in < timedelta(minutes=1):
        raise PolicyViolation("the expiry must be at least one minute")
    metadata = _b64(request.metadata, "metadata")
    if len(metadata) > MAX_METADATA_BYTES:
        raise PayloadTooLarge("the encrypted metadata is too large")

    if request.passphrase_link == bool(request.recipients):
        raise InvalidInput(
            "name recipients, or send a passphrase link (passphrase_link) without recipients"
        )
    transfer_id = ids.new_id("tr")
    links = _recipient_links(session, request, transfer_id)
    seen = {link.user_id for link in links}

    check_policy(
        repository.policy_rules(session, principal.user.org_id),
        {str(k): v for k, v in request.scan.counts.items()} if request.scan else None,
        purpose_declared=request.purpose_declared,
    )

    metadata_sha256 = hashlib.sha256(metadata).digest()
    payload_sha256 = bytes.fromhex(request.payload_sha256)
    twin = repository.pending_twin(session, principal.user.id, payload_sha256, metadata_sha256)
    if twin is not None:
        if {link.user_id for link in repository.recipients(session, twin.id)} != seen:
            raise Conflict("this ciphertext was already announced for other recipients")
        return twin
    now = utcnow()
    transfer = Transfer(
        id=transfer_id,
        sender_id=principal.user.id,
        sender_key_id=sender_key.id,
        status=TransferStatus.PENDING.value,
        payload_size=request.payload_size,
        payload_sha256=payload_sha256,
        metadata_ciphertext=metadata,
        metadata_sha256=metadata_sha256,
        created_at=now,
        expires_at=now + expires_in,
        max_downloads=request.max_downloads,
        download_count=0,
        passphrase_link=request.passphrase_link,
    )
    session.add(transfer)
    session.flush()
    for link in links:
        link.created_at = now
    session.add_all(links)
    session.flush()
    subjects = sorted({bytes.fromhex(value) for value in request.subjects})
    if request.scan is not None or subjects:
        repository.add_scan(
            session,
            TransferScan(
                transfer_id=transfer.id,
                record_count=request.scan.records if request.scan else 0,
                subject_count=len(subjects),
                counts=json.dumps(dict(request.scan.counts) if request.scan else {}),
                pseudonym_key_id=request.pseudonym_key_id,
                purpose_declared=request.purpose_declared,
            ),
            subjects,
        )
    services.audit.record(
        session,
        "transfer:transfer:create",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=transfer.id,
        recipients=len(links),
        payload_size=transfer.payload_size,
        payload_sha256=request.payload_sha256,
        expires_at=transfer.expires_at.isoformat(),
        max_downloads=transfer.max_downloads,
        subjects=len(subjects),
        purpose_declared=request.purpose_declared,
        passphrase_link=request.passphrase_link,
    )
    return transfer


def check_policy(
    rules: dict[str, str], counts: dict[str, int] | None, *, purpose_declared: bool
) -> None:
    """Refuse a transfer whose declared scan violates the organisation's send policy.

    The counts come from the sender's client, which is trusted for the scan
    (the server cannot read the plaintext). A policy with any rule other than
    ``allow`` refuses a transfer without a scan summary. Raises PolicyViolation.
    """
    strict = {kind: action for kind, action in rules.items() if action != PolicyAction.ALLOW}
    if not strict:
        return
    if counts is None:
        raise PolicyViolation(
            "your organisation's send policy needs the scan of the file (update your client)"
        )
    for kind, action in sorted(strict.items()):
        if not counts.get(kind):
            continue
        if action == PolicyAction.BLOCK:
            raise PolicyViolation(f"your organisation's send policy blocks files holding {kind}")
        if action == PolicyAction.PURPOSE and not purpose_declared:
            raise PolicyViolation(
                f"your organisation's send policy needs a declared purpose for {kind} (--purpose)"
            )


def policy(session: Session, principal: Principal) -> schemas.SendPolicyOut:
    """The caller's organisation's send policy."""
    rules = repository.policy_rules(session, principal.user.org_id)
    return schemas.SendPolicyOut.model_validate({"org": principal.org.name, "rules": rules})


def set_policy(
    session: Session,
    services: Services,
    org_id: str,
    rules: dict[str, str],
    *,
    actor_id: str | None = None,
) -> dict[str, str]:
    """Replace an organisation's send policy (host admin). Raises InvalidInput; audited."""
    actions = {action.value for action in PolicyAction}
    for kind, action in rules.items():
        if kind not in POLICY_KINDS:
            raise InvalidInput(
                f"unknown identifier kind {kind!r}; one of {', '.join(POLICY_KINDS)}"
            )
        if action not in actions:
            raise InvalidInput(f"unknown action {action!r}; one of allow, warn, purpose, block")
    kept = {kind: action for kind, action in rules.items() if action != PolicyAction.ALLOW}
    repository.set_policy_rules(session, org_id, kept)
    services.audit.record(
        session, "admin:policy:set", actor_id=actor_id, org_id=org_id, object_id=org_id, **kept
    )
    return kept


def visible(
    session: Session, services: Services, principal: Principal, transfer_id: str
) -> tuple[Transfer, bool]:
    """The transfer and whether the caller is its sender. NotFound for anyone else."""
    principal.require_any("send", "receive")
    transfer = repository.get(session, transfer_id) if ids.is_valid(transfer_id, "tr") else None
    if transfer is not None:
        if transfer.sender_id == principal.user.id:
            return transfer, True
        if (
            transfer.status != TransferStatus.PENDING.value
            and repository.recipient_link(session, transfer.id, principal.user.id) is not None
        ):
            return transfer, False
    # Unknown and foreign ids are recorded alike: probing shows up in the log.
    anomaly.note_lookup_failure(session, principal)
    services.audit.record_failure(
        session,
        "transfer:lookup:failure",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=transfer_id if ids.is_valid(transfer_id, "tr") else None,
    )
    raise NotFound("transfer not found")


def seal(
    session: Session, services: Services, principal: Principal, transfer_id: str, signature_b64: str
) -> Transfer:
    """Make a fully uploaded transfer available once the sender's signature verifies."""
    transfer, is_sender = visible(session, services, principal, transfer_id)
    if not is_sender:
        raise NotFound("transfer not found")
    principal.require("send")  # after the lookup: a 403 only ever tells a party
    if transfer.status == TransferStatus.AVAILABLE.value and transfer.signature is not None:
        return transfer  # idempotent: a retried seal after a lost response
    if transfer.status != TransferStatus.PENDING.value:
        raise Gone("this transfer was purged")
    if transfer.blob_key is None:
        raise Conflict("the upload is not complete")
    signature = _b64(signature_b64, "signature")
    key = keys_repository.key_by_id(session, transfer.sender_key_id)
    assert key is not None  # noqa: S101  (foreign key)
    if key.revocation_reason in {KeyRevocation.REVOKED.value, KeyRevocation.LOST_DEVICE.value}:
        raise KeyRevoked("your key was revoked; this transfer cannot be sealed")
    message = transfer_signature_message(
        transfer.id, transfer.payload_sha256, transfer.metadata_sha256
    )
    try:
        VerifyKey.from_bytes(key.ed25519_public).verify(signature, message)
    except CryptoError as exc:
        services.audit.record_failure(
            session,
            "transfer:signature:failure",
            actor_id=principal.user.id,
            org_id=principal.user.org_id,
            object_id=transfer.id,
        )
        raise InvalidInput("the signature does not verify with your published key") from exc
    transfer.signature = signature
    transfer.status = TransferStatus.AVAILABLE.value
    transfer.sealed_at = utcnow()
    services.audit.record(
        session,
        "transfer:transfer:seal",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=transfer.id,
        payload_sha256=transfer.payload_sha256.hex(),
        metadata_sha256=transfer.metadata_sha256.hex(),
    )
    return transfer


def is_expired(transfer: Transfer, now: datetime | None = None) -> bool:
    return transfer.expires_at <= (now or utcnow())


def purge(
    session: Session,
    services: Services,
    transfer: Transfer,
    reason: str,
    *,
    actor_id: str | None = None,
) -> str | None:
    """Mark the transfer purged (audited) and return the blob key to delete after commit."""
    if transfer.status == TransferStatus.PURGED.value:
        return None
    blob_key = transfer.blob_key
    upload = repository.upload_for(session, transfer.id)
    transfer.status = TransferStatus.PURGED.value
    transfer.purged_at = utcnow()
    transfer.purge_reason = reason
    transfer.blob_key = None
    # The sender's organisation, so its admins see the purge in their audit view (an id only).
    sender = accounts_repository.user_by_id(session, transfer.sender_id)
    services.audit.record(
        session,
        "transfer:content:purge",
        actor_id=actor_id,
        org_id=sender.org_id if sender is not None else None,
        object_id=transfer.id,
        reason=reason,
        payload_sha256=transfer.payload_sha256.hex(),
    )
    if upload is not None and upload.completed_at is None:
        # An unfinished upload's staged bytes go with it.
        services.blobs.abort(upload.id)
    _count_purge_on_commit(session)
    return blob_key


_PURGED = "scelle.purged"


def _count_purge_on_commit(session: Session) -> None:
    """``scelle_purges_total`` counts purges that were committed, not those rolled back."""
    session.info[_PURGED] = session.info.get(_PURGED, 0) + 1
    if not event.contains(session, "after_commit", _purges_committed):
        event.listen(session, "after_commit", _purges_committed)
        event.listen(session, "after_rollback", _purges_rolled_back)


def _purges_committed(session: Session) -> None:
    PURGES.inc(session.info.pop(_PURGED, 0))


def _purges_rolled_back(session: Session) -> None:
    session.info.pop(_PURGED, None)


def purge_due(session: Session, services: Services, now: datetime | None = None) -> list[str]:
    """Purge every transfer whose time is up; returns the blob keys to delete after commit."""
    moment = now or utcnow()
    keys: list[str] = []
    stale_before = moment - services.settings.upload_expiry
    for transfer in repository.due_for_purge(session, moment, stale_before):
        reason = "expiry" if transfer.expires_at <= moment else "abandoned"
        blob_key = purge(session, services, transfer, reason)
        if blob_key:
            keys.append(blob_key)
    return keys


def start_download(
    session: Session, services: Services, principal: Principal, transfer_id: str, *, start: int
) -> tuple[DownloadGrant | None, str | None]:
    """Check and account for a download of the ciphertext.

    Returns (grant, None), or (None, blob key to delete) when the transfer turned
    out to be expired: the caller commits the purge and answers Gone. A download
    counts when it starts at byte 0; a resumed range does not.
    Raises NotFound, Gone, PermissionDenied.
    """
    principal.require("receive")
    transfer, is_sender = visible(session, services, principal, transfer_id)
    if is_sender:
        raise PermissionDenied("only the recipients download a transfer")
    if transfer.status == TransferStatus.PURGED.value or transfer.blob_key is None:
        raise Gone()
    if is_expired(transfer):
        return None, purge(session, services, transfer, "expiry")
    link = repository.recipient_link(session, transfer.id, principal.user.id)
    assert link is not None  # noqa: S101  (visible() checked it)
    counted = False
    if start == 0:
        if not repository.count_download(session, transfer):
            raise Gone("the download limit of this transfer is used up")
        link.download_count += 1
        counted = True
        services.audit.record(
            session,
            "transfer:content:download",
            actor_id=principal.user.id,
            org_id=principal.user.org_id,
            object_id=transfer.id,
            download=transfer.download_count,
        )
    elif link.download_count == 0:
        raise PermissionDenied("a ranged download must resume a download that started at byte 0")
    last = transfer.max_downloads is not None and transfer.download_count >= transfer.max_downloads
    return DownloadGrant(
        transfer=transfer, blob_key=transfer.blob_key, counted=counted, last_allowed=last
    ), None


def finish_download(services: Services, transfer_id: str) -> None:
    """After the last allowed download was sent: purge in a transaction of its own, then delete."""
    with services.database.transaction() as session:
        transfer = repository.get(session, transfer_id)
        blob_key = purge(session, services, transfer, "download_limit") if transfer else None
    if blob_key:
        services.blobs.delete(blob_key)


def delete(
    session: Session, services: Services, principal: Principal, transfer_id: str
) -> str | None:
    """The sender cancels a transfer: its ciphertext is purged now."""
    transfer, is_sender = visible(session, services, principal, transfer_id)
    if not is_sender:
        raise NotFound("transfer not found")
    principal.require("send")  # after the lookup: a 403 only ever tells a party
    return purge(session, services, transfer, "cancelled", actor_id=principal.user.id)


def list_box(session: Session, principal: Principal, box: str) -> list[Transfer]:
    principal.require("receive" if box == "inbox" else "send")
    if box == "inbox":
        return repository.inbox(session, principal.user.id, utcnow())
    if box == "sent":
        return repository.sent(session, principal.user.id)
    raise InvalidInput("box must be 'inbox' or 'sent'")


def _party(session: Session, user: User) -> dict[str, str]:
    org = accounts_repository.org_by_id(session, user.org_id)
    return {"user_id": user.id, "email": user.email, "org": org.name if org else ""}


def describe(session: Session, transfer: Transfer) -> schemas.TransferOut:
    """The transfer as the API shows it to its sender and recipients."""
    sender = accounts_repository.user_by_id(session, transfer.sender_id)
    key = keys_repository.key_by_id(session, transfer.sender_key_id)
    assert sender is not None  # noqa: S101  (foreign key)
    assert key is not None  # noqa: S101  (foreign key)
    recipients = []
    for link in repository.recipients(session, transfer.id):
        user = accounts_repository.user_by_id(session, link.user_id)
        if user is not None:
            recipients.append(schemas.Recipient(**_party(session, user), key_id=link.key_id))
    return schemas.TransferOut(
        id=transfer.id,
        status=transfer.status,
        created_at=transfer.created_at,
        sealed_at=transfer.sealed_at,
        expires_at=transfer.expires_at,
        payload_size=transfer.payload_size,
        payload_sha256=transfer.payload_sha256.hex(),
        metadata=base64.b64encode(transfer.metadata_ciphertext).decode(),
        metadata_sha256=transfer.metadata_sha256.hex(),
        signature=base64.b64encode(transfer.signature).decode() if transfer.signature else None,
        max_downloads=transfer.max_downloads,
        download_count=transfer.download_count,
        subject_count=scan.subject_count
        if (scan := repository.scan_for(session, transfer.id))
        else None,
        sender=schemas.Sender(
            **_party(session, sender),
            key=schemas.SenderKey(
                key_id=key.id,
                x25519_recipient=key.x25519_recipient,
                ed25519_public=base64.b64encode(key.ed25519_public).decode(),
                fingerprint=key.fingerprint,
            ),
        ),
        recipients=recipients,
    )


def retention(session: Session, services: Services, org: Organization) -> schemas.RetentionOut:
    """The expiry rules in force and the organisation's transfers by time left (the caller
    checks access); counts only, from indexed aggregate queries."""
    settings = services.settings
    now = utcnow()
    counts, oldest_created = repository.retention_counts(
        session,
        org.id,
        now,
        (now + timedelta(hours=24), now + timedelta(days=7), now - timedelta(days=30)),
    )
    oldest_expiry = (
        repository.expiry_of_created(session, org.id, oldest_created) if oldest_created else None
    )
    return schemas.RetentionOut(
        org_id=org.id,
        org=org.name,
        as_of=now,
        settings=schemas.RetentionSettings(
            default_expiry=int(settings.default_expiry.total_seconds()),
            max_expiry=int(settings.max_expiry.total_seconds()),
            upload_expiry=int(settings.upload_expiry.total_seconds()),
            purge_interval=settings.purge_interval_seconds,
        ),
        counts=schemas.RetentionCounts(**counts),
        live=counts["within_24h"]
        + counts["within_7d"]
        + counts["later"]
        + counts["expired_awaiting_purge"],
        oldest_live_created_at=oldest_created,
        oldest_live_expires_at=oldest_expiry,
    )
