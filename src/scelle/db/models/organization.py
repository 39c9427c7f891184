"""An organisation: a lab, a hospital, the insurer, a regional agency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # A short slug such as ``cpam-75``: it names the org in `--to` and `--org`.
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Roles whose members must log in with a passkey (space-separated, sorted; see Role).
    passkey_roles: Mapped[str] = mapped_column(String(64), default="", server_default="")
