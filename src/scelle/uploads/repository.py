"""Queries for uploads."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scelle.db.models import Upload

__all__ = ["for_transfer", "get"]


def get(session: Session, upload_id: str, *, for_update: bool = False) -> Upload | None:
    """The upload with this id, or None."""
    query = select(Upload).where(Upload.id == upload_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def for_transfer(session: Session, transfer_id: str) -> Upload | None:
    """The one upload of a transfer, or None."""
    return session.scalar(select(Upload).where(Upload.transfer_id == transfer_id))
