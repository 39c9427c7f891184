"""Exfiltration detection: per-account thresholds on reads in a sliding window.

Three kinds of reads are counted per account: ``download`` (a request for a
transfer's ciphertext), ``listing`` (inbox or sent box) and
``lookup_failure`` (an id that is unknown or not the caller's — the probing
of the 2021 case). Counts are rows of ``account_activity`` (ids and times
only), kept for one window and deleted after; the accounts helper's login
throttling (the ``limits`` library) is separate.

Promises:
- when one kind reaches its threshold within the window, the next read of
  the account is refused with 429 and ``Retry-After``, and so is every read
  (downloads, listings, lookups) until the cool-down ends;
- the crossing is audited once (``account:exfiltration:detected``) and the
  organisation's admins are e-mailed (no health data, no transfer id, no
  link); the throttle and the event are written even though the refused
  request rolls back;
- reads made before a throttle ended do not count again after it.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle.anomaly import repository
from scelle.db.base import utcnow
from scelle.db.engine import FAILURE_EVENTS
from scelle.db.models import AccountActivity, AccountThrottle
from scelle.errors import TooManyRequests
from scelle.notifications import deliver
from scelle.notifications.messages import exfiltration_alert

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.config import Settings
    from scelle.server.container import Services

__all__ = ["KINDS", "guard", "note_lookup_failure", "thresholds"]

log = logging.getLogger("scelle.anomaly")

KINDS = ("download", "listing", "lookup_failure")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def thresholds(settings: Settings) -> dict[str, int]:
    """The configured limit of each kind of read per window."""
    return {
        "download": settings.exfiltration_max_downloads,
        "listing": settings.exfiltration_max_listings,
        "lookup_failure": settings.exfiltration_max_lookup_failures,
    }


def _throttled(until: datetime, now: datetime) -> TooManyRequests:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return TooManyRequests(
        "this account is temporarily limited after unusual activity; try again later",
        retry_after=seconds,
        limit="exfiltration",
    )


def _keep_after_rollback(session: Session, row: object) -> None:
    # The database writes these when the transaction ends, committed or not
    # (see Database.transaction): each is a callable given the session to use.
    session.info.setdefault(FAILURE_EVENTS, []).append(lambda s: s.add(row))


def _detect(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    kind: str,
    count: int,
    now: datetime,
) -> TooManyRequests:
    settings = services.settings
    until = now + settings.exfiltration_cooldown
    _keep_after_rollback(
        session,
        AccountThrottle(
            user_id=principal.user.id, kind=kind, count=count, detected_at=now, until=until
        ),
    )
    admins = repository.admins_of_org(session, principal.user.org_id)
    services.audit.record_failure(
        session,
        "account:exfiltration:detected",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=principal.user.id,
        kind=kind,
        count=count,
        window_seconds=int(settings.exfiltration_window.total_seconds()),
        until=until.isoformat(),
        admins_alerted=len(admins),
    )
    if not admins:
        log.warning(
            "exfiltration detected for %s; its organisation has no admin", principal.user.id
        )
    for admin in admins:
        deliver(
            settings,
            exfiltration_alert(
                to=admin.email,
                account_email=principal.user.email,
                kind=kind,
                count=count,
                window_minutes=max(1, int(settings.exfiltration_window.total_seconds() // 60)),
                detected_at=now,
                until=until,
            ),
        )
    return _throttled(until, now)


def guard(session: Session, services: Services, principal: Principal, kind: str | None) -> None:
    """Check the account before a read of transfers, and count it (``kind``, if given).

    Raises TooManyRequests (429, ``Retry-After``) while the account is
    throttled, or when this read finds a threshold reached (which starts the
    throttle, audits and alerts).
    """
    settings = services.settings
    now = utcnow()
    user_id = principal.user.id
    last = repository.latest_throttle(session, user_id)
    if last is not None and last.until > now:
        raise _throttled(last.until, now)
    window_start = now - settings.exfiltration_window
    since = max(window_start, last.until if last is not None else _EPOCH)
    counts = repository.counts_since(session, user_id, since)
    for name, limit in thresholds(settings).items():
        if counts.get(name, 0) >= limit:
            raise _detect(session, services, principal, kind=name, count=counts[name], now=now)
    repository.prune(session, user_id, window_start - timedelta(seconds=1))
    if kind is not None:
        session.add(AccountActivity(user_id=user_id, kind=kind, at=now))


def note_lookup_failure(session: Session, principal: Principal) -> None:
    """Count an unknown or foreign transfer id asked for (kept though the request fails)."""
    _keep_after_rollback(
        session, AccountActivity(user_id=principal.user.id, kind="lookup_failure", at=utcnow())
    )
