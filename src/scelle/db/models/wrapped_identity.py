"""A browser identity as the server keeps it: age files the server cannot open.

One copy is encrypted to the user's passphrase (scrypt), the other to a
recovery key (an age X25519 identity) shown once in the browser when the
identity is made, so that a forgotten passphrase does not lose the inbox.

The plaintext (the age X25519 identity and the Ed25519 signing key) is made
and read only in the user's browser; the server stores the opaque age file and
never sees the passphrase (docs/protocol.md, "Browser identity").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class WrappedIdentity(Base):
    __tablename__ = "wrapped_identities"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The fingerprint of the bundle the browser says it wraps (informational:
    # the browser checks the unwrapped key against the published one itself).
    fingerprint: Mapped[str] = mapped_column(String(64))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    # The same identity encrypted to the recovery key's X25519 recipient (one stanza);
    # None for identities stored before recovery keys existed.
    recovery_wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
