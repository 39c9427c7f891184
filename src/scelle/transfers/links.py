"""Patient links: transfers encrypted to a passphrase, opened without an account.

Promises:
- only a transfer created with ``passphrase_link`` is reachable this way, and
  only once sealed; any other id (unknown, an account transfer, pending)
  gets the same NotFound, recorded as a lookup failure;
- expiry and the download limit apply as for account transfers: an expired
  link is purged on sight and answers Gone, a used-up one answers Gone;
- a download counts when it starts (``transfer:content:download`` with
  ``link=True`` and no actor: the person has no account);
- every call counts against the caller's address (``throttle_link_ip``)
  before any lookup, unknown ids and known ones alike: past the limit the
  answer is the same TooManyRequests whatever the id, audited
  ``transfer:link:throttled`` at most once a minute per address.

The passphrase never reaches the server: the page decrypts in the browser.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle import ids
from scelle.db.models import Transfer, TransferStatus
from scelle.errors import Gone, NotFound, TooManyRequests
from scelle.transfers import repository
from scelle.transfers.service import DownloadGrant, is_expired, purge

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = ["open_link", "start_link_download"]


def _count_request(session: Session, services: Services, client_ip: str) -> None:
    """Count one request of ``client_ip``; TooManyRequests once its windows are used up."""
    wait = services.throttle.hit("link", "ip", client_ip)
    if wait is None:
        return
    if services.throttle.first_in_minute("link", "ip", client_ip):
        services.audit.record_failure(
            session, "transfer:link:throttled", scope="ip", retry_after=wait
        )
    raise TooManyRequests("too many requests; try again later", retry_after=wait, limit="link_ip")


def _find(session: Session, services: Services, transfer_id: str) -> Transfer:
    transfer = repository.get(session, transfer_id) if ids.is_valid(transfer_id, "tr") else None
    if (
        transfer is None
        or not transfer.passphrase_link
        or transfer.status == TransferStatus.PENDING.value
    ):
        services.audit.record_failure(
            session,
            "transfer:lookup:failure",
            object_id=transfer_id if ids.is_valid(transfer_id, "tr") else None,
            link=True,
        )
        raise NotFound("transfer not found")
    return transfer


def open_link(
    session: Session, services: Services, transfer_id: str, *, client_ip: str = "local"
) -> tuple[Transfer | None, str | None]:
    """The link's transfer, or (None, blob key to delete) when it just expired.

    Raises TooManyRequests (decided before the lookup), NotFound, Gone
    (purged or used up).
    """
    _count_request(session, services, client_ip)
    transfer = _find(session, services, transfer_id)
    if transfer.status == TransferStatus.PURGED.value or transfer.blob_key is None:
        raise Gone()
    if is_expired(transfer):
        return None, purge(session, services, transfer, "expiry")
    return transfer, None


def start_link_download(
    session: Session, services: Services, transfer_id: str, *, client_ip: str = "local"
) -> tuple[DownloadGrant | None, str | None]:
    """Take one download of a link (from byte 0); as ``open_link`` for expiry and throttling.

    Raises TooManyRequests, NotFound, Gone (purged, or the download limit is used up).
    """
    transfer, expired_blob = open_link(session, services, transfer_id, client_ip=client_ip)
    if transfer is None:
        return None, expired_blob
    if not repository.count_download(session, transfer):
        raise Gone("the download limit of this transfer is used up")
    services.audit.record(
        session,
        "transfer:content:download",
        object_id=transfer.id,
        download=transfer.download_count,
        link=True,
    )
    assert transfer.blob_key is not None  # noqa: S101  (open_link checked it)
    last = transfer.max_downloads is not None and transfer.download_count >= transfer.max_downloads
    return DownloadGrant(
        transfer=transfer, blob_key=transfer.blob_key, counted=True, last_allowed=last
    ), None
