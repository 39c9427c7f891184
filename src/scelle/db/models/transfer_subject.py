"""The subject index: one keyed pseudonym per data subject of a transfer (never an identifier).

The sender computes ``HMAC-SHA256(org key, "scelle/v1/subject-index" || NIR)``
for each person the file names; the server keeps only these 32-byte values,
so after a breach it can say which transfers named the same person without
ever learning who the person is (only the sending organisation, with its key
and its own patient list, can).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base


class TransferSubject(Base):
    __tablename__ = "transfer_subjects"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfers.id"), primary_key=True)
    pseudonym: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True, index=True)
