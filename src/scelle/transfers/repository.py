"""Every query on transfers and their recipients."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.orm import Session

from scelle.db.base import utcnow
from scelle.db.models import (
    SendPolicy,
    Transfer,
    TransferRecipient,
    TransferScan,
    TransferStatus,
    TransferSubject,
    Upload,
    User,
)

__all__ = [
    "add_scan",
    "count_download",
    "due_for_purge",
    "get",
    "inbox",
    "policy_rules",
    "recipient_link",
    "recipients",
    "retention_counts",
    "scan_for",
    "sent",
    "set_policy_rules",
    "upload_for",
]


def get(session: Session, transfer_id: str, *, for_update: bool = False) -> Transfer | None:
    stmt = select(Transfer).where(Transfer.id == transfer_id)
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def pending_twin(
    session: Session, sender_id: str, payload_sha256: bytes, metadata_sha256: bytes
) -> Transfer | None:
    """A pending transfer of this sender with exactly these ciphertext digests, if any.

    The metadata ciphertext is encrypted under a fresh random file key, so two
    creations with the same digests can only be one request sent twice.
    """
    return session.scalars(
        select(Transfer).where(
            Transfer.sender_id == sender_id,
            Transfer.status == TransferStatus.PENDING.value,
            Transfer.payload_sha256 == payload_sha256,
            Transfer.metadata_sha256 == metadata_sha256,
        )
    ).first()


def recipients(session: Session, transfer_id: str) -> list[TransferRecipient]:
    return list(
        session.scalars(
            select(TransferRecipient)
            .where(TransferRecipient.transfer_id == transfer_id)
            .order_by(TransferRecipient.user_id)
        )
    )


def recipient_link(session: Session, transfer_id: str, user_id: str) -> TransferRecipient | None:
    return session.get(TransferRecipient, (transfer_id, user_id))


def inbox(session: Session, user_id: str, now: datetime, limit: int = 500) -> list[Transfer]:
    return list(
        session.scalars(
            select(Transfer)
            .join(TransferRecipient, TransferRecipient.transfer_id == Transfer.id)
            .where(
                TransferRecipient.user_id == user_id,
                Transfer.status == TransferStatus.AVAILABLE.value,
                Transfer.expires_at > now,
            )
            .order_by(TransferRecipient.created_at.desc())
            .limit(limit)
        )
    )


def sent(session: Session, user_id: str, limit: int = 500) -> list[Transfer]:
    return list(
        session.scalars(
            select(Transfer)
            .where(Transfer.sender_id == user_id)
            .order_by(Transfer.created_at.desc())
            .limit(limit)
        )
    )


def count_download(session: Session, transfer: Transfer) -> bool:
    """Atomically take one download; False when the limit is already used up."""
    stmt = (
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status == TransferStatus.AVAILABLE.value)
        .values(download_count=Transfer.download_count + 1)
    )
    if transfer.max_downloads is not None:
        stmt = stmt.where(Transfer.download_count < transfer.max_downloads)
    result = session.execute(stmt)
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    session.refresh(transfer)
    return True


def due_for_purge(
    session: Session, now: datetime, stale_before: datetime, limit: int = 1000
) -> list[Transfer]:
    """Transfers whose ciphertext must go: expired, or never sealed in time."""
    abandoned = select(Upload.transfer_id).where(
        Upload.expires_at <= now, Upload.completed_at.is_(None)
    )
    return list(
        session.scalars(
            select(Transfer)
            .where(
                Transfer.status != TransferStatus.PURGED.value,
                or_(
                    Transfer.expires_at <= now,
                    Transfer.id.in_(abandoned),
                    (Transfer.status == TransferStatus.PENDING.value)
                    & (Transfer.created_at <= stale_before),
                ),
            )
            .limit(limit)
        )
    )


def upload_for(session: Session, transfer_id: str) -> Upload | None:
    return session.scalar(select(Upload).where(Upload.transfer_id == transfer_id))


def available_blobs(session: Session) -> list[tuple[str, str, int, bytes]]:
    """(transfer id, blob key, size, SHA-256) of every available transfer, for the scrub."""
    rows = session.execute(
        select(Transfer.id, Transfer.blob_key, Transfer.payload_size, Transfer.payload_sha256)
        .where(Transfer.status == TransferStatus.AVAILABLE.value, Transfer.blob_key.is_not(None))
        .order_by(Transfer.id)
    ).all()
    return [(row[0], str(row[1]), row[2], row[3]) for row in rows]


def add_scan(session: Session, scan: TransferScan, pseudonyms: list[bytes]) -> None:
    """Store the scan summary and the subject index of a new transfer (bulk insert)."""
    session.add(scan)
    session.flush()
    if pseudonyms:
        session.execute(
            insert(TransferSubject),
            [{"transfer_id": scan.transfer_id, "pseudonym": value} for value in pseudonyms],
        )


def scan_for(session: Session, transfer_id: str) -> TransferScan | None:
    return session.get(TransferScan, transfer_id)


def policy_rules(session: Session, org_id: str) -> dict[str, str]:
    """The organisation's send policy ({kind: action}); empty when none is set (allow all)."""
    policy = session.get(SendPolicy, org_id)
    if policy is None:
        return {}
    rules: dict[str, str] = json.loads(policy.rules)
    return rules


def set_policy_rules(session: Session, org_id: str, rules: dict[str, str]) -> None:
    policy = session.get(SendPolicy, org_id)
    if policy is None:
        session.add(SendPolicy(org_id=org_id, rules=json.dumps(rules, sort_keys=True)))
    else:
        policy.rules = json.dumps(rules, sort_keys=True)
        policy.updated_at = utcnow()
    session.flush()


def retention_counts(
    session: Session, org_id: str, now: datetime, bounds: tuple[datetime, datetime, datetime]
) -> tuple[dict[str, int], datetime | None]:
    """Counts of one organisation's transfers (those its members sent) by what is left of them,
    and the creation time of its oldest transfer not purged (None without one).

    ``bounds`` are (now + 24 h, now + 7 days, now - 30 days). One aggregate
    over the members' transfers, found by ``sender_id`` (indexed with
    ``created_at``) from the members found by ``users.org_id`` (indexed):
    its cost follows the organisation's transfers, not the whole table.
    """
    day, week, since = bounds
    live = Transfer.status != TransferStatus.PURGED.value
    members = select(User.id).where(User.org_id == org_id)
    row = session.execute(
        select(
            func.count().filter(live & (Transfer.expires_at > now) & (Transfer.expires_at <= day)),
            func.count().filter(live & (Transfer.expires_at > day) & (Transfer.expires_at <= week)),
            func.count().filter(live & (Transfer.expires_at > week)),
            func.count().filter(live & (Transfer.expires_at <= now)),
            func.count().filter(
                (Transfer.status == TransferStatus.PURGED.value) & (Transfer.purged_at >= since)
            ),
            func.min(Transfer.created_at).filter(live),
        ).where(
            Transfer.sender_id.in_(members),
            or_(live, Transfer.purged_at >= since),
        )
    ).one()
    names = ("within_24h", "within_7d", "later", "expired_awaiting_purge", "purged_30d")
    counts = {name: int(value or 0) for name, value in zip(names, row[:5], strict=True)}
    # min() over a timestamp column comes back as stored (SQLite: naive text): through the type.
    oldest = row[5]
    if isinstance(oldest, str):
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return counts, oldest


def expiry_of_created(session: Session, org_id: str, created_at: datetime) -> datetime | None:
    """The expiry of the organisation's live transfer created at ``created_at`` (the oldest one:
    found by ``sender_id`` and ``created_at``, one indexed probe per member)."""
    members = select(User.id).where(User.org_id == org_id)
    return session.scalar(
        select(Transfer.expires_at)
        .where(
            Transfer.sender_id.in_(members),
            Transfer.created_at == created_at,
            Transfer.status != TransferStatus.PURGED.value,
        )
        .limit(1)
    )
