"""Request and response bodies of the keys and directory API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DirectoryEntry", "DirectoryResponse", "KeyOut", "PublishKeyRequest"]


class PublishKeyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x25519_recipient: str = Field(min_length=10, max_length=100)
    ed25519_public: str = Field(min_length=1, max_length=100, description="base64, 32 bytes")
    self_signature: str = Field(min_length=1, max_length=200, description="base64, 64 bytes")


class KeyOut(BaseModel):
    key_id: str
    x25519_recipient: str
    ed25519_public: str
    fingerprint: str
    created_at: datetime


class DirectoryEntry(BaseModel):
    user_id: str
    email: str
    org: str
    key_id: str
    x25519_recipient: str
    ed25519_public: str
    fingerprint: str


class DirectoryResponse(BaseModel):
    recipients: list[DirectoryEntry]
