"""An account throttled after crossing an exfiltration threshold, until ``until``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class AccountThrottle(Base):
    __tablename__ = "account_throttles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(String(32), index=True)
    # Which threshold was crossed: "download", "listing" or "lookup_failure".
    kind: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
