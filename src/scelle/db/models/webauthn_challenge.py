"""One WebAuthn ceremony in progress: its challenge, whose it is, what for; single use.

The client names the ceremony by a random 256-bit id (only its keyed hash is
stored here); the challenge lives server-side so that every server process can
finish a ceremony another one began.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class ChallengePurpose(enum.StrEnum):
    REGISTER = "register"  # a logged-in user adds a passkey
    ENROL = "enrol"  # the passkey policy refused a TOTP login: this one registration only
    LOGIN = "login"  # the password was right: the passkey assertion finishes the login


class WebAuthnChallenge(Base):
    __tablename__ = "webauthn_challenges"

    # HMAC-SHA256 of the ceremony id given to the client (SecretBox.digest).
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    challenge: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
