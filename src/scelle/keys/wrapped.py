"""Wrapped browser identities: the server keeps an age file it cannot open.

Promises:
- what is stored is an age v1 file whose only recipient stanza is ``scrypt``
  (a passphrase recipient): the header is checked, nothing is decrypted (the
  server holds no passphrase and imports no decryption code);
- at most ``MAX_WRAPPED`` bytes, one per user, replaced on each store;
- storing and replacing are audited (``keys:wrapped:store``), with the
  fingerprint the browser names, never the content.
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

__all__ = ["MAX_WRAPPED", "check_wrapped", "fetch", "store"]

MAX_WRAPPED = 8192
_AGE_PREFIX = b"age-encryption.org/v1\n"
_FINGERPRINT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567 ")


def check_wrapped(data: bytes) -> None:
    """Raise InvalidInput unless ``data`` looks like an age file to one scrypt stanza.

    The header's stanza lines are counted, not parsed cryptographically: the
    point is to refuse storing something that is not passphrase-wrapped (a
    plaintext key pasted by mistake), not to validate the ciphertext.
    """
    if len(data) > MAX_WRAPPED:
        raise InvalidInput(f"a wrapped identity is at most {MAX_WRAPPED} bytes")
    if not data.startswith(_AGE_PREFIX):
        raise InvalidInput("a wrapped identity must be a binary age v1 file")
    header, sep, _ = data.partition(b"\n--- ")
    if not sep:
        raise InvalidInput("a wrapped identity must be a binary age v1 file")
    stanzas = [line for line in header.split(b"\n") if line.startswith(b"-> ")]
    if len(stanzas) != 1 or not stanzas[0].startswith(b"-> scrypt "):
        raise InvalidInput("a wrapped identity must be encrypted to one passphrase (scrypt)")


def store(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    wrapped_b64: str,
    fingerprint: str,
) -> WrappedIdentity:
    """Store (or replace) the caller's wrapped identity; raises InvalidInput."""
    try:
        raw = base64.b64decode(wrapped_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("wrapped is not valid base64") from exc
    check_wrapped(raw)
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
    row.fingerprint = fingerprint
    row.updated_at = now
    services.audit.record(
        session,
        "keys:wrapped:store",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        fingerprint=fingerprint,
        replaced=replaced,
    )
    return row


def fetch(session: Session, principal: Principal) -> WrappedIdentity:
    """The caller's wrapped identity; NotFound when there is none."""
    row = repository.wrapped_identity(session, principal.user.id)
    if row is None:
        raise NotFound("no wrapped identity is stored for this account")
    return row
