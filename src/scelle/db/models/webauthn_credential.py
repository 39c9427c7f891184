"""A passkey (WebAuthn credential) of a user: its id, public key and signature counter.

Neither the credential id nor the COSE public key is a secret; nothing else
the authenticator said at registration (attestation, AAGUID, flags) is kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class WebAuthnCredential(Base):
    __tablename__ = "webauthn_credentials"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # pk_...
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # The authenticator's credential id (at most 1023 bytes, WebAuthn level 3).
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    # COSE_Key bytes, as the authenticator gave them.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # Highest signature counter seen: a response at or below it (when either is
    # non-zero) means a cloned authenticator and is refused.
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    # Space-separated transport hints (usb nfc ble internal hybrid), for allowCredentials.
    transports: Mapped[str] = mapped_column(String(128), default="")
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
