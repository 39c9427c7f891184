"""Who may download a transfer, and with which of their keys it was encrypted."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base


class TransferRecipient(Base):
    __tablename__ = "transfer_recipients"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("public_keys.id"))
    download_count: Mapped[int] = mapped_column(Integer, default=0)
