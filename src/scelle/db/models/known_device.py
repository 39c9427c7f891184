"""A device a user has logged in from, known by a keyed hash only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class KnownDevice(Base):
    __tablename__ = "known_devices"
    __table_args__ = (UniqueConstraint("user_id", "device_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # HMAC-SHA256 (server secret) of the device id the client sends, or of the
    # user agent and address prefix when it sends none: never the raw values.
    device_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
