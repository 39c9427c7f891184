"""The services one server process (or worker, or admin command) works with."""

from __future__ import annotations

from dataclasses import dataclass

from scelle.audit.service import AuditLog
from scelle.clock import clock
from scelle.config import Settings
from scelle.crypto.note import NoteSigner
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
    log_signer: NoteSigner  # signs the audit log's checkpoints


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the configured stores (creating the embedded ones) and migrate the schema."""
    from scelle.audit.checkpoints import load_log_signer
    from scelle.storage.local import LocalBlobStore

    settings.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = Database(settings.sqlalchemy_url)
    if migrate:
        database.migrate()
        clock.raise_floor(database.latest_recorded_time())
    return Services(
        settings=settings,
        database=database,
        blobs=LocalBlobStore(settings.blob_dir),
        audit=AuditLog(),
        secret_box=SecretBox(settings.server_secret()),
        log_signer=load_log_signer(settings),
    )
