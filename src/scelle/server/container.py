"""The services one server process (or worker, or admin command) works with."""

from __future__ import annotations

from dataclasses import dataclass

from scelle.accounts.throttle import Throttle
from scelle.audit.service import AuditLog
from scelle.clock import clock
from scelle.config import Settings
from scelle.crypto.note import NoteSigner
from scelle.db.engine import Database
from scelle.secret_box import SecretBox
from scelle.storage.blob_store import BlobStore

__all__ = ["Services", "build_blob_store", "build_services"]


@dataclass
class Services:
    settings: Settings
    database: Database
    blobs: BlobStore
    audit: AuditLog
    secret_box: SecretBox
    log_signer: NoteSigner  # signs the audit log's checkpoints
    throttle: Throttle


def build_blob_store(settings: Settings) -> BlobStore:
    """The configured blob store: S3 when ``SCELLE_S3_ENDPOINT`` is set, else local files.

    Upload locks are shared through Redis when ``SCELLE_REDIS_URL`` is set
    (needed with S3 and several server processes), in-process otherwise.
    """
    if not settings.s3_endpoint:
        from scelle.storage.local import LocalBlobStore

        return LocalBlobStore(settings.blob_dir)
    from scelle.storage.locks import ProcessLocks, RedisLocks, UploadLocks
    from scelle.storage.s3 import S3BlobStore

    if not settings.s3_bucket:
        raise ValueError("SCELLE_S3_BUCKET is required with SCELLE_S3_ENDPOINT")
    locks: UploadLocks = (
        RedisLocks(settings.redis_url, prefix=f"{settings.rate_limit_prefix}:lock:")
        if settings.redis_url
        else ProcessLocks()
    )
    secret = settings.s3_secret_key.get_secret_value() if settings.s3_secret_key else None
    return S3BlobStore(
        endpoint=settings.s3_endpoint,
        bucket=settings.s3_bucket,
        access_key=settings.s3_access_key,
        secret_key=secret,
        region=settings.s3_region,
        locks=locks,
    )


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the configured stores (creating the embedded ones) and migrate the schema."""
    from scelle.audit.checkpoints import load_log_signer

    settings.data.mkdir(parents=True, exist_ok=True, mode=0o700)
    database = Database(settings.sqlalchemy_url, pool_size=settings.database_pool_size)
    if migrate:
        database.migrate()
        clock.raise_floor(database.latest_recorded_time())
    return Services(
        settings=settings,
        database=database,
        blobs=build_blob_store(settings),
        audit=AuditLog(),
        secret_box=SecretBox(settings.server_secret()),
        log_signer=load_log_signer(settings),
        throttle=Throttle(settings),
    )
