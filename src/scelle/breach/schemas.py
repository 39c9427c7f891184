"""Response bodies of the breach register API (the operator's admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["AssessmentOut", "RegisterEntryOut", "RegisterOut", "TimelineEntryOut"]


class TimelineEntryOut(BaseModel):
    at: datetime
    event: str


class RegisterEntryOut(BaseModel):
    id: str
    created_at: datetime
    scope: str = Field(description="server, account or key")
    account: str | None
    window_from: datetime
    window_to: datetime
    aware_at: datetime
    notify_by: datetime = Field(description="72 hours after awareness (GDPR art. 33(1))")
    seconds_left: int = Field(description="until notify_by; negative once it has passed")
    plaintext_exposed: str = Field(description="ciphertext_only, none or yes")
    transfers: int
    records: int
    subjects: int


class RegisterOut(BaseModel):
    entries: list[RegisterEntryOut] = Field(description="newest first")


class AssessmentOut(RegisterEntryOut):
    art_34_3_a: bool = Field(description="letters to people spared: the data was unintelligible")
    dpo_contact: str | None
    totals: dict[str, Any]
    timeline: list[TimelineEntryOut]
    lang: str = Field(description="language of the notice: en or fr")
    notice: str = Field(description="the draft art. 33(3) notice, Markdown")
