"""New-device login notifications.

A device is known by a keyed hash (HMAC-SHA256 under a key derived from the
server secret) of the ``X-Scelle-Device`` id the client sends (a random id
kept in ``SCELLE_HOME``), or, when it sends none (a browser), of its user
agent and network prefix (/24 for IPv4, /48 for IPv6). The raw values are
never stored. The first device of an account is recorded silently (it is
the enrolment); a login from any other device not seen before e-mails the
user, without health data or link.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scelle.db.base import utcnow
from scelle.db.models import KnownDevice, User
from scelle.notifications import deliver
from scelle.notifications.messages import new_device_login

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = ["DEVICE_HEADER", "network_of", "notice_login", "notice_request_login"]

DEVICE_HEADER = "X-Scelle-Device"
_DEVICE_ID = re.compile(r"\A[A-Za-z0-9_-]{16,128}\Z")
_LABEL = b"scelle/v1/device"


def network_of(address: str | None) -> str:
    """The network prefix an address belongs to (``192.0.2.0/24``), or ``unknown``."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _device_hash(
    services: Services, user_id: str, device_id: str | None, user_agent: str, network: str
) -> str:
    key = hmac.new(services.settings.server_secret(), _LABEL, hashlib.sha256).digest()
    if device_id and _DEVICE_ID.match(device_id):
        material = f"id\x00{user_id}\x00{device_id}"
    else:
        material = f"ua\x00{user_id}\x00{user_agent[:200]}\x00{network}"
    return hmac.new(key, material.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def notice_request_login(
    session: Session,
    services: Services,
    user: User,
    headers: Mapping[str, str],
    *,
    client_ip: str | None,
    method: str,
) -> bool:
    """:func:`notice_login` with the device id and user agent of a request's ``headers``."""
    return notice_login(
        session,
        services,
        user,
        device_id=headers.get(DEVICE_HEADER),
        user_agent=headers.get("user-agent"),
        client_ip=client_ip,
        method=method,
    )


def notice_login(
    session: Session,
    services: Services,
    user: User,
    *,
    device_id: str | None,
    user_agent: str | None,
    client_ip: str | None,
    method: str,
) -> bool:
    """Record the device of a successful login; e-mail the user if it is new.

    Returns True when a notification was due. Never raises for a mail
    failure (it is logged).
    """
    network = network_of(client_ip)
    agent = user_agent or ""
    digest = _device_hash(services, user.id, device_id, agent, network)
    now = utcnow()
    known = session.scalar(
        select(KnownDevice).where(KnownDevice.user_id == user.id, KnownDevice.device_hash == digest)
    )
    if known is not None:
        known.last_seen_at = now
        return False
    first = not session.scalar(
        select(func.count()).select_from(KnownDevice).where(KnownDevice.user_id == user.id)
    )
    session.add(
        KnownDevice(user_id=user.id, device_hash=digest, first_seen_at=now, last_seen_at=now)
    )
    session.flush()
    services.audit.record(
        session,
        "account:device:new",
        actor_id=user.id,
        org_id=user.org_id,
        method=method,
        first=first,
    )
    if first or not services.settings.notify_new_device:
        return False
    deliver(
        services.settings,
        new_device_login(
            to=user.email, at=now, device=agent or "unknown", network=network, method=method
        ),
    )
    return True
