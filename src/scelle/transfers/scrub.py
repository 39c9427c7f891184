"""Scrub: re-read every stored ciphertext and check it against its signed digest.

Storage rots (a failing disk, a bit flipped in an object store, an operator's
mistake). The recipient's client already refuses a damaged ciphertext, but
by then the sender may have deleted their copy; the scrub finds the damage
first, so the sender can be asked to send again while they still can. It
streams each blob once (constant memory) and records what it finds as audit
events: ``storage:blob:corrupt`` with the transfer id and the reason
(``missing``, ``size`` or ``digest``) — never any content.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field

from scelle.db.models import TransferStatus
from scelle.errors import NotFound
from scelle.server.container import Services
from scelle.transfers import repository

__all__ = ["ScrubReport", "scrub"]

log = logging.getLogger("scelle.scrub")


@dataclass
class ScrubReport:
    checked: int = 0
    bytes_read: int = 0
    corrupt: dict[str, str] = field(default_factory=dict)  # transfer id -> reason


def _damage(services: Services, key: str, size: int, expected: bytes) -> tuple[str | None, int]:
    digest, read = hashlib.sha256(), 0
    try:
        for chunk in services.blobs.read(key):
            digest.update(chunk)
            read += len(chunk)
    except NotFound:
        return "missing", read
    if read != size:
        return "size", read
    if not hmac.compare_digest(digest.digest(), expected):
        return "digest", read
    return None, read


def scrub(services: Services) -> ScrubReport:
    """Check every available transfer's blob; audit and log each damaged one.

    A transfer purged while the scrub runs is not reported: its blob is gone
    on purpose.
    """
    report = ScrubReport()
    with services.database.transaction() as session:
        rows = repository.available_blobs(session)
    for transfer_id, key, size, expected in rows:
        reason, read = _damage(services, key, size, expected)
        report.checked += 1
        report.bytes_read += read
        if reason is None:
            continue
        with services.database.transaction() as session:
            current = repository.get(session, transfer_id)
            if current is None or current.status != TransferStatus.AVAILABLE.value:
                continue
            services.audit.record(
                session,
                "storage:blob:corrupt",
                object_id=transfer_id,
                org_id=None,
                actor_id=current.sender_id,
                reason=reason,
                size=size,
                read=read,
            )
        report.corrupt[transfer_id] = reason
        log.error("the stored ciphertext of transfer %s failed its scrub (%s)", transfer_id, reason)
    return report
