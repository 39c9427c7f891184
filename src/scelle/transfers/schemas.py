"""Request and response bodies of the transfers API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CreateTransferRequest",
    "CreatedTransfer",
    "RecipientRef",
    "RetentionCounts",
    "RetentionOut",
    "RetentionSettings",
    "ScanSummary",
    "SealRequest",
    "SendPolicyOut",
    "TransferOut",
]

#: Identifier kinds a client's scan reports (scelle.subjects.kinds.Kind).
ScanKind = Literal["nir", "ins", "phone", "email", "birth_date", "name", "health_text"]
PolicyRule = Literal["allow", "warn", "purpose", "block"]
#: A subject-index entry: HMAC-SHA256 (hex) made by the sender under its organisation's key.
SubjectPseudonym = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
MAX_SUBJECTS = 200_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecipientRef(_Strict):
    user_id: str = Field(min_length=1, max_length=40)
    key_id: str = Field(min_length=1, max_length=40)


class ScanSummary(_Strict):
    """What the sender's scan of the plaintext found: counts only (the client is trusted for it)."""

    records: int = Field(ge=0, le=10**12)
    counts: dict[ScanKind, Annotated[int, Field(ge=0, le=10**12)]] = Field(default_factory=dict)
    invalid: dict[ScanKind, Annotated[int, Field(ge=0, le=10**12)]] = Field(default_factory=dict)


class CreateTransferRequest(_Strict):
    recipients: list[RecipientRef] = Field(
        default_factory=list, max_length=200, description="empty only for a passphrase link"
    )
    payload_size: int = Field(gt=0)
    payload_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    metadata: str = Field(min_length=1, max_length=90_000, description="base64 age ciphertext")
    expires_in: int | None = Field(default=None, gt=0, description="seconds")
    max_downloads: int | None = Field(default=None, ge=1, le=1000)
    scan: ScanSummary | None = None
    subjects: list[SubjectPseudonym] = Field(
        default_factory=list,
        max_length=MAX_SUBJECTS,
        description="subject index: keyed pseudonyms of the data subjects (never identifiers)",
    )
    pseudonym_key_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{16}$")
    purpose_declared: bool = Field(
        default=False, description="the sender recorded a purpose in the encrypted metadata"
    )
    passphrase_link: bool = Field(
        default=False,
        description="encrypted to a passphrase (age scrypt) for a person without an account; "
        "no recipients; opened at /p/{id}",
    )


class SendPolicyOut(BaseModel):
    org: str
    rules: dict[ScanKind, PolicyRule]


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
    subject_count: int | None = None
    sender: Sender
    recipients: list[Recipient]


class TransferList(BaseModel):
    transfers: list[TransferOut]


class RetentionSettings(BaseModel):
    """The server's expiry rules, in seconds."""

    default_expiry: int = Field(description="expiry of a transfer that asks for none")
    max_expiry: int = Field(description="the longest expiry a sender may ask for")
    upload_expiry: int = Field(description="an upload not finished by then is purged")
    purge_interval: float = Field(description="how often the worker purges what is due")


class RetentionCounts(BaseModel):
    """The organisation's transfers (sent by its members) by what is left of them."""

    within_24h: int = Field(description="live, expiring within 24 hours")
    within_7d: int = Field(description="live, expiring in 24 hours to 7 days")
    later: int = Field(description="live, expiring in more than 7 days")
    expired_awaiting_purge: int = Field(description="expired, ciphertext not yet purged")
    purged_30d: int = Field(description="purged in the last 30 days")


class RetentionOut(BaseModel):
    org_id: str
    org: str
    as_of: datetime
    settings: RetentionSettings
    counts: RetentionCounts
    live: int = Field(description="transfers not purged, expired or not")
    oldest_live_created_at: datetime | None
    oldest_live_expires_at: datetime | None
