"""A person with an account, in exactly one organisation."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class Role(enum.StrEnum):
    SENDER = "sender"
    RECIPIENT = "recipient"
    ADMIN = "admin"


class UserStatus(enum.StrEnum):
    PENDING = "pending"  # created by an admin, enrolment token not yet used
    ACTIVE = "active"
    DISABLED = "disabled"


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Space-separated, sorted role names (see Role).
    roles: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.PENDING.value)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    # The TOTP seed, sealed with the server secret (ChaCha20-Poly1305): a copy of
    # the database alone does not yield second factors.
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 of the one-time enrolment token; the token itself is shown once.
    enrolment_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    enrolment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r) for r in self.roles.split())

    def has_role(self, role: Role) -> bool:
        return role in self.role_set
