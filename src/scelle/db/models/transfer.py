"""A transfer: one age ciphertext for its recipients, with its signed, encrypted metadata."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class TransferStatus(enum.StrEnum):
    PENDING = "pending"  # created, ciphertext not yet fully uploaded and sealed
    AVAILABLE = "available"  # sealed: recipients may download
    PURGED = "purged"  # ciphertext deleted (expiry, download limit, cancel)


class Transfer(Base):
    __tablename__ = "transfers"
    # The "sent" listing: one sender's transfers, newest first, without a sort.
    __table_args__ = (Index("ix_transfers_sender_id_created_at", "sender_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    sender_key_id: Mapped[str] = mapped_column(ForeignKey("public_keys.id"))
    status: Mapped[str] = mapped_column(
        String(16), default=TransferStatus.PENDING.value, index=True
    )
    payload_size: Mapped[int] = mapped_column(BigInteger)
    payload_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    # File name, size, type and note, as a small age ciphertext for the recipients.
    metadata_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    metadata_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    blob_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    max_downloads: Mapped[int | None] = mapped_column(Integer)
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purge_reason: Mapped[str | None] = mapped_column(String(32))
    # A patient link: encrypted to a passphrase (age scrypt) given out of band,
    # no account recipient; fetched without an account at /p/{id}.
    passphrase_link: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
