"""A user's published key bundle: an age X25519 recipient and an Ed25519 signing key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class PublicKey(Base):
    __tablename__ = "public_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    x25519_recipient: Mapped[str] = mapped_column(String(100))
    ed25519_public: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The bundle signed by its own Ed25519 key: proof the publisher holds it.
    self_signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
