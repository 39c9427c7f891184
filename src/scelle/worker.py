"""The worker: purges expired and used-up transfers, reaps orphans, signs audit checkpoints.

It also forgets expired SSO logins and passkey ceremonies.

Safe to run beside the server and as several copies at once: a purge pass
holds the database-wide ``worker:purge`` lock for its transaction (an
advisory lock on PostgreSQL, the write lock on SQLite), so a second worker
waits, then finds nothing left to purge: no transfer is purged or audited
twice. Deleting a blob that is already gone is not an error. A checkpoint's
tree size is a primary key, so two workers never sign two heads of the same
size.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from scelle.accounts import repository as accounts_repository
from scelle.audit import checkpoints
from scelle.audit import repository as audit_repository
from scelle.db.base import utcnow
from scelle.db.models import Transfer, TransferStatus, Upload
from scelle.errors import AuditLogInconsistent
from scelle.server.container import Services
from scelle.transfers import service as transfers
from scelle.transfers.scrub import scrub

__all__ = ["PassReport", "run_forever", "run_once"]

log = logging.getLogger("scelle.worker")


@dataclass
class PassReport:
    purged: int = 0
    orphan_blobs: int = 0
    orphan_staging: int = 0
    ceremonies: int = 0  # expired SSO logins and passkey ceremonies forgotten
    checkpoint: int | None = None  # the tree size of the checkpoint signed in this pass
    errors: list[str] = field(default_factory=list)


def run_once(services: Services) -> PassReport:
    """One pass: purge what is due (commit first, then delete the bytes), then reap orphans."""
    report = PassReport()
    with services.database.transaction() as session:
        services.database.lock_exclusive(session, "worker:purge")
        keys = transfers.purge_due(session, services)
    for key in keys:
        services.blobs.delete(key)
        report.purged += 1  # scelle_purges_total counted them at the commit
    report.orphan_blobs, report.orphan_staging = _reap_orphans(services)
    with services.database.transaction() as session:
        report.ceremonies = accounts_repository.delete_expired_ceremonies(session, utcnow())
    try:
        report.checkpoint = sign_checkpoint_if_due(services, errors=report.errors)
    except AuditLogInconsistent as exc:
        # Purging goes on; the refusal is loud and repeated at every pass.
        log.error("audit checkpoint refused: %s", exc.message)
        report.errors.append(exc.code)
    if report.purged or report.orphan_blobs or report.orphan_staging:
        log.info(
            "worker pass: %d purged, %d orphan blobs, %d orphan staged uploads",
            report.purged,
            report.orphan_blobs,
            report.orphan_staging,
        )
    return report


def sign_checkpoint_if_due(
    services: Services, *, force: bool = False, errors: list[str] | None = None
) -> int | None:
    """Sign a checkpoint when the tree grew and the interval passed since the last one.

    The new checkpoint is also written to the witness folder and the witness
    bucket when configured; a witness that cannot be written is logged and
    named in ``errors`` (the checkpoint stays signed). Returns the signed tree
    size, or None. Raises AuditLogInconsistent (nothing signed) when the tree
    does not extend the last checkpoint.
    """
    settings = services.settings
    with services.database.transaction() as session:
        latest = audit_repository.latest_checkpoint(session)
        interval = timedelta(seconds=settings.checkpoint_interval_seconds)
        if not force and latest is not None and latest.signed_at + interval > utcnow():
            return None
        row = checkpoints.sign_checkpoint(session, services.log_signer)
    if row is None:
        return None
    if settings.witness_dir is not None:
        try:
            checkpoints.write_witness_copy(settings.witness_dir, row)
        except OSError as exc:
            log.error("audit witness folder not written: %s", type(exc).__name__)
            if errors is not None:
                errors.append("witness_dir")
    if settings.witness_s3_bucket:
        try:
            checkpoints.write_witness_s3(settings, row)
        except Exception as exc:  # noqa: BLE001  (any S3 failure: logged, retried at the next one)
            log.error("audit witness bucket not written: %s", type(exc).__name__)
            if errors is not None:
                errors.append("witness_s3")
    return row.tree_size


def _reap_orphans(services: Services) -> tuple[int, int]:
    """Delete blobs no live transfer points to, and staged uploads with no live upload."""
    with services.database.transaction() as session:
        live_blobs = set(
            session.scalars(
                select(Transfer.blob_key).where(
                    Transfer.status != TransferStatus.PURGED.value, Transfer.blob_key.is_not(None)
                )
            )
        )
        live_uploads = set(
            session.scalars(
                select(Upload.id)
                .join(Transfer, Transfer.id == Upload.transfer_id)
                .where(
                    Upload.completed_at.is_(None),
                    Upload.expires_at > utcnow(),
                    Transfer.status == TransferStatus.PENDING.value,
                )
            )
        )
    blobs = 0
    for key in services.blobs.list_blobs():
        if key not in live_blobs and services.blobs.age_seconds(key) > 60:
            services.blobs.delete(key)
            blobs += 1
    staged = 0
    for upload_id in services.blobs.list_staged():
        if upload_id not in live_uploads and services.blobs.staged_age_seconds(upload_id) > 60:
            services.blobs.abort(upload_id)
            staged += 1
    return blobs, staged


def run_forever(
    services: Services, *, interval: float, stop: threading.Event | None = None
) -> None:
    """Run passes every ``interval`` seconds until ``stop`` is set (or forever)."""
    stop = stop or threading.Event()
    next_scrub = time.monotonic() + services.settings.scrub_interval_seconds
    while not stop.is_set():
        try:
            run_once(services)
            if time.monotonic() >= next_scrub:
                next_scrub = time.monotonic() + services.settings.scrub_interval_seconds
                scrub(services)
        except Exception as exc:  # noqa: BLE001  (a failed pass is retried at the next interval)
            log.warning("worker pass failed: %s", type(exc).__name__)
        stop.wait(interval)
