"""Request and response bodies of the keys and directory API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DirectoryEntry",
    "DirectoryResponse",
    "KeyOut",
    "KeyRecord",
    "LostDeviceRequest",
    "LostDeviceResponse",
    "PublishKeyRequest",
    "RevokeResponse",
    "WrappedIdentityIn",
    "WrappedIdentityOut",
]


class PublishKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x25519_recipient: str = Field(min_length=10, max_length=100)
    ed25519_public: str = Field(min_length=1, max_length=100, description="base64, 32 bytes")
    self_signature: str = Field(min_length=1, max_length=200, description="base64, 64 bytes")
    rotation_signature: str | None = Field(
        default=None,
        max_length=200,
        description="base64, 64 bytes: the current key's signature over this bundle (a rotation)",
    )


class LostDeviceRequest(PublishKeyRequest):
    """Re-authentication and the new device's bundle."""

    password: str = Field(min_length=1, max_length=1024)
    otp: str = Field(min_length=1, max_length=64, description="a TOTP code or a recovery code")


class KeyOut(BaseModel):
    key_id: str
    x25519_recipient: str
    ed25519_public: str
    fingerprint: str
    created_at: datetime
    previous_key_id: str | None = None
    rotation_signature: str | None = None


class KeyRecord(KeyOut):
    """A former key, for correspondents to follow a rotation or learn of a revocation."""

    revoked_at: datetime | None
    revocation_reason: str | None


class LostDeviceResponse(BaseModel):
    key: KeyOut
    token: str
    token_id: str
    expires_at: datetime
    revoked_keys: int
    revoked_tokens: int


class RevokeResponse(BaseModel):
    revoked_keys: int


class DirectoryEntry(BaseModel):
    user_id: str
    email: str
    org: str
    key_id: str
    x25519_recipient: str
    ed25519_public: str
    fingerprint: str
    created_at: datetime | None = None
    previous_key_id: str | None = None
    rotation_signature: str | None = None
    history: list[KeyRecord] = Field(default_factory=list)


class DirectoryResponse(BaseModel):
    recipients: list[DirectoryEntry]


class WrappedIdentityIn(BaseModel):
    """A browser identity, wrapped in the browser (an age file to a scrypt passphrase).

    ``recovery``: the same identity as an age file to the recovery key's X25519
    recipient (the browser shows the recovery key once and keeps no copy).
    """

    model_config = ConfigDict(extra="forbid")

    wrapped: str = Field(min_length=1, max_length=12000, description="base64 of the age file")
    fingerprint: str = Field(min_length=1, max_length=64)
    recovery: str | None = Field(
        default=None, min_length=1, max_length=12000, description="base64 of the recovery copy"
    )


class WrappedIdentityOut(BaseModel):
    wrapped: str
    fingerprint: str
    recovery: str | None
    created_at: datetime
    updated_at: datetime
