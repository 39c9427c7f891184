"""An organisation's send policy: per identifier kind, allow, warn, require a purpose, or block."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class PolicyAction(enum.StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    PURPOSE = "purpose"  # a declared purpose is required (recorded encrypted)
    BLOCK = "block"


class SendPolicy(Base):
    __tablename__ = "send_policies"

    org_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    # JSON {"nir": "purpose", "health_text": "warn", ...}; a kind not named is allowed.
    rules: Mapped[str] = mapped_column(Text, default="{}")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
