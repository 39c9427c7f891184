"""Who may download a transfer, and with which of their keys it was encrypted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class TransferRecipient(Base):
    __tablename__ = "transfer_recipients"
    # The inbox: one recipient's transfers, newest first, read in index order
    # (an insurer's inbox can hold millions of rows; a sort of them all is not an option).
    __table_args__ = (Index("ix_transfer_recipients_user_id_created_at", "user_id", "created_at"),)

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("public_keys.id"))
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    # The transfer's own creation time, copied here for the inbox index.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
