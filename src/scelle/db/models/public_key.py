"""A user's published key bundle: an age X25519 recipient and an Ed25519 signing key."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class KeyRevocation(enum.StrEnum):
    """Why a key stopped being current."""

    ROTATED = "rotated"  # replaced by a successor it signed
    REPLACED = "replaced"  # replaced without a signature from it (keygen --force)
    REVOKED = "revoked"  # revoked by its owner, no successor yet
    LOST_DEVICE = "lost_device"  # revoked with every other key after re-authentication


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
    # The key this one replaced, and that key's signature over this bundle when
    # it vouched for it (a rotation correspondents can verify themselves).
    previous_key_id: Mapped[str | None] = mapped_column(String(32))
    rotation_signature: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    revocation_reason: Mapped[str | None] = mapped_column(String(16))
