"""Response bodies of the audit API (hashes in standard base64, entries as their JSON text)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = [
    "AUDIT_LEAF_HEADER",
    "CheckpointOut",
    "ConsistencyProofOut",
    "InclusionProofOut",
    "LogKeyOut",
    "OrgAuditOut",
    "OrgCheckpointOut",
    "OrgEventOut",
    "TransferEventOut",
    "TransferEventsOut",
]


# On an upload's last PATCH and a counted download: the leaf index of its event.
AUDIT_LEAF_HEADER = "Scelle-Audit-Leaf"


class LogKeyOut(BaseModel):
    origin: str = Field(description="the log's name: first line of every checkpoint")
    verifier_key: str = Field(description="<name>+<hex key id>+<base64(0x01 || Ed25519 key)>")


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64")
    note: str = Field(description="the C2SP signed note (tlog-checkpoint)")


class InclusionProofOut(BaseModel):
    leaf_index: int = Field(description="0-based; the event's seq is leaf_index + 1")
    tree_size: int
    entry: str = Field(description="the event's canonical entry; leaf hash = SHA-256(0x00||entry)")
    leaf_hash: str = Field(description="base64")
    path: list[str] = Field(description="RFC 9162 inclusion proof, base64 hashes, bottom-up")
    checkpoint: str | None = Field(description="the signed checkpoint of tree_size, when stored")


class ConsistencyProofOut(BaseModel):
    old_size: int
    new_size: int
    path: list[str] = Field(description="RFC 9162 consistency proof, base64 hashes")


class TransferEventOut(BaseModel):
    leaf_index: int
    entry: str


class TransferEventsOut(BaseModel):
    transfer_id: str
    events: list[TransferEventOut]


class OrgEventOut(BaseModel):
    leaf_index: int = Field(description="0-based; check it with /api/v1/audit/proofs/inclusion")
    at: datetime
    action: str = Field(description="the event's tag, source:subject:action")
    actor_email: str | None = Field(description="who did it, when it was a member")
    outcome: str = Field(description="success, or failure for a refused or failed step")
    transfer_id: str | None = Field(description="the transfer it is about, if any")


class OrgCheckpointOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="base64")
    signed_at: datetime


class OrgAuditOut(BaseModel):
    org_id: str
    org: str
    events: list[OrgEventOut] = Field(description="newest first")
    next_cursor: str | None = Field(description="pass as cursor for the next (older) page")
    checkpoint: OrgCheckpointOut | None = Field(
        description="the latest signed checkpoint of the whole log, to note down"
    )
