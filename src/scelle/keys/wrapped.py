"""Wrapped browser identities: the server keeps age files it cannot open.

Promises:
- the main copy is an age v1 file whose only recipient stanza is ``scrypt``
  (the user's passphrase); the recovery copy, when given, an age v1 file whose
  only stanza is ``X25519`` (the recovery key the browser showed once). The
  headers are checked, nothing is decrypted (the server holds no passphrase,
  no recovery key, and imports no decryption code);
- at most ``MAX_WRAPPED`` bytes each, one pair per user, both replaced on each
  store (a recovery copy never outlives the identity it was made with);
- storing and replacing are audited (``keys:wrapped:store``), with the
  fingerprint the browser names and whether a recovery copy came, never the
  content.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle.db.base import utcnow
from scelle.db.models import WrappedIdentity
from scelle.errors import InvalidInput, NotFound
from scelle.keys import repository

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.server.container import Services

__all__ = ["MAX_WRAPPED", "check_recovery", "check_wrapped", "fetch", "store"]

MAX_WRAPPED = 8192
_AGE_PREFIX = b"age-encryption.org/v1\n"
_FINGERPRINT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 ")


def _stanzas(data: bytes, what: str) -> list[bytes]:
    """The recipient stanza lines of an age v1 file's header (counted, not parsed)."""
    if len(data) > MAX_WRAPPED:
        raise InvalidInput(f"{what} is at most {MAX_WRAPPED} bytes")
    if not data.startswith(_AGE_PREFIX):
        raise InvalidInput(f"{what} must be a binary age v1 file")
    header, sep, _ = data.partition(b"\n--- ")
    if not sep:
        raise InvalidInput(f"{what} must be a binary age v1 file")
    return [line for line in header.split(b"\n") if line.startswith(b"-> ")]


def check_wrapped(data: bytes) -> None:
    """Raise InvalidInput unless ``data`` looks like an age file to one scrypt stanza.

    The header's stanza lines are counted, not parsed cryptographically: the
    point is to refuse storing something that is not passphrase-wrapped (a
    plaintext key pasted by mistake), not to validate the ciphertext.
    """
    stanzas = _stanzas(data, "a wrapped identity")
    if len(stanzas) != 1 or not stanzas[0].startswith(b"-> scrypt "):
        raise InvalidInput("a wrapped identity must be encrypted to one passphrase (scrypt)")


def check_recovery(data: bytes) -> None:
    """Raise InvalidInput unless ``data`` looks like an age file to one X25519 stanza."""
    stanzas = _stanzas(data, "a recovery copy")
    if len(stanzas) != 1 or not stanzas[0].startswith(b"-> X25519 "):
        raise InvalidInput("a recovery copy must be encrypted to one recovery key (X25519)")


def _decode(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{field} is not valid base64") from exc


def store(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    wrapped_b64: str,
    fingerprint: str,
    recovery_b64: str | None = None,
) -> WrappedIdentity:
    """Store (or replace) the caller's wrapped identity and its recovery copy.

    Both copies are checked before anything changes; raises InvalidInput.
    Without ``recovery_b64`` the stored recovery copy is dropped: it was made
    for the identity being replaced.
    """
    raw = _decode(wrapped_b64, "wrapped")
    check_wrapped(raw)
    recovery = None if recovery_b64 is None else _decode(recovery_b64, "recovery")
    if recovery is not None:
        check_recovery(recovery)
    fingerprint = fingerprint.strip().upper()
    if not fingerprint or not set(fingerprint) <= _FINGERPRINT_CHARS:
        raise InvalidInput("fingerprint must be a key fingerprint (base32 groups)")
    row = repository.wrapped_identity(session, principal.user.id)
    now = utcnow()
    replaced = row is not None
    if row is None:
        row = WrappedIdentity(user_id=principal.user.id, created_at=now)
        session.add(row)
    row.wrapped = raw
    row.recovery_wrapped = recovery
    row.fingerprint = fingerprint
    row.updated_at = now
    services.audit.record(
        session,
        "keys:wrapped:store",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        fingerprint=fingerprint,
        replaced=replaced,
        recovery=recovery is not None,
    )
    return row


def fetch(session: Session, principal: Principal) -> WrappedIdentity:
    """The caller's wrapped identity; NotFound when there is none."""
    row = repository.wrapped_identity(session, principal.user.id)
    if row is None:
        raise NotFound("no wrapped identity is stored for this account")
    return row
