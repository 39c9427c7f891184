"""One read of transfers by an account (a download, a listing, a failed lookup).

Counted in a sliding window by exfiltration detection; rows older than the
window are deleted as new ones arrive. Ids and times only.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class AccountActivity(Base):
    __tablename__ = "account_activity"
    __table_args__ = (Index("ix_account_activity_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32))
    # "download", "listing" or "lookup_failure".
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
