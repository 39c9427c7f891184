"""Request and response bodies of the transfers API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CreateTransferRequest", "CreatedTransfer", "RecipientRef", "SealRequest", "TransferOut"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecipientRef(_Strict):
    user_id: str = Field(min_length=1, max_length=40)
    key_id: str = Field(min_length=1, max_length=40)


class CreateTransferRequest(_Strict):
    recipients: list[RecipientRef] = Field(min_length=1, max_length=200)
    payload_size: int = Field(gt=0)
    payload_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    metadata: str = Field(min_length=1, max_length=90_000, description="base64 age ciphertext")
    expires_in: int | None = Field(default=None, gt=0, description="seconds")
    max_downloads: int | None = Field(default=None, ge=1, le=1000)


class CreatedTransfer(BaseModel):
    id: str
    status: Literal["pending"]
    upload_url: str
    expires_at: datetime


class SealRequest(_Strict):
    signature: str = Field(min_length=1, max_length=200, description="base64 Ed25519 signature")


class SenderKey(BaseModel):
    key_id: str
    x25519_recipient: str
    ed25519_public: str
    fingerprint: str


class Party(BaseModel):
    user_id: str
    email: str
    org: str


class Sender(Party):
    key: SenderKey


class Recipient(Party):
    key_id: str


class TransferOut(BaseModel):
    id: str
    status: str
    created_at: datetime
    sealed_at: datetime | None
    expires_at: datetime
    payload_size: int
    payload_sha256: str
    metadata: str
    metadata_sha256: str
    signature: str | None
    max_downloads: int | None
    download_count: int
    sender: Sender
    recipients: list[Recipient]


class TransferList(BaseModel):
    transfers: list[TransferOut]
