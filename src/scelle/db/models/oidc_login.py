"""One OpenID Connect login in progress: state, nonce and PKCE verifier, short-lived."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class OIDCLogin(Base):
    __tablename__ = "oidc_logins"

    # SHA-256 of the state parameter: the state itself travels in the browser only.
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce_hash: Mapped[str] = mapped_column(String(64))
    # The PKCE code verifier, sealed under the server secret.
    verifier_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A web sign-in: keyed hash of the random value in the browser's ``scelle_oidc``
    # cookie. Such a login finishes only in that browser, and only as a web session.
    browser_hash: Mapped[str | None] = mapped_column(String(64))
