"""The services one server process (or worker, or admin command) works with."""

from __future__ import annotations

from dataclasses import dataclass

from scelle.accounts.throttle import Throttle
from scelle.audit.service import AuditLog
from scelle.config import Settings
from scelle.db.engine import Database
from scelle.secret_box import SecretBox
from scelle.storage.blob_store import BlobStore

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    database: Database
    blobs: BlobStore
    audit: AuditLog
    secret_box: SecretBox
    throttle: Throttle


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the configured stores (creating the embedded ones) and migrate the schema."""
    from scelle.storage.local import LocalBlobStore

    settings.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = Database(settings.sqlalchemy_url)
    if migrate:
        database.migrate()
    return Services(
        settings=settings,
        database=database,
        blobs=LocalBlobStore(settings.blob_dir),
        audit=AuditLog(),
        secret_box=SecretBox(settings.server_secret()),
        throttle=Throttle(settings),
    )
