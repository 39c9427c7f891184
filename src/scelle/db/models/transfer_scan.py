"""What the sender's scan declared about a transfer's plaintext: counts only, never values."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base


class TransferScan(Base):
    __tablename__ = "transfer_scans"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    # Rows of the file (records) and distinct data subjects in the subject index.
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    subject_count: Mapped[int] = mapped_column(Integer, default=0)
    # JSON {"nir": 120, "phone": 118, ...}: identifiers found per kind, as the client declared.
    counts: Mapped[str] = mapped_column(Text, default="{}")
    # Which organisation key made the pseudonyms (its public id, not the key).
    pseudonym_key_id: Mapped[str | None] = mapped_column(String(32))
    # The sender declared a purpose (the text itself is in the encrypted metadata).
    purpose_declared: Mapped[bool] = mapped_column(Boolean, default=False)
