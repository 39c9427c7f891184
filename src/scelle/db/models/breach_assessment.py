"""The breach register: every assessment made with ``scelle breach assess``, with its time line."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scelle.db.base import Base, UTCDateTime, utcnow


class BreachAssessment(Base):
    __tablename__ = "breach_assessments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    scope: Mapped[str] = mapped_column(String(16))
    account_email: Mapped[str | None] = mapped_column(String(254))
    window_from: Mapped[datetime] = mapped_column(UTCDateTime)
    window_to: Mapped[datetime] = mapped_column(UTCDateTime)
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime)
    notify_by: Mapped[datetime] = mapped_column(UTCDateTime)
    plaintext_exposed: Mapped[str] = mapped_column(String(16))
    transfer_count: Mapped[int] = mapped_column(Integer, default=0)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    subject_count: Mapped[int] = mapped_column(Integer, default=0)
    # The whole assessment (JSON) as it was drafted: transfers, pseudonyms, notice.
    report: Mapped[str] = mapped_column(Text)
    # JSON list of {"at": ..., "event": ...}: breach window, awareness, assessment, deadline.
    timeline: Mapped[str] = mapped_column(Text, default="[]")
