"""An append-only audit event. Pseudonymous ids and digests only: no names, no file names."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # ``source:subject:action``, e.g. ``account:login:failure``.
    tag: Mapped[str] = mapped_column(String(64), index=True)
    actor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    org_id: Mapped[str | None] = mapped_column(String(32), index=True)
    object_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # Canonical JSON (sorted keys, no spaces) of extra fields: ids, digests, counts.
    data: Mapped[str] = mapped_column(Text, default="{}")
