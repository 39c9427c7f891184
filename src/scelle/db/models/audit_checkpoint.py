"""A signed tree head of the audit log (C2SP tlog-checkpoint in a signed note).

The tree size is the primary key: two workers can never store two heads of
the same size. Sizes, hashes, a time and a signature: nothing personal.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, LargeBinary, Text
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The whole C2SP signed note (checkpoint body + signature lines), as served.
    note: Mapped[str] = mapped_column(Text)
