"""Keys service: publish, rotate, revoke, recover from a lost device, resolve recipients.

Promises:
- a published bundle is proven by its own Ed25519 signature, and its X25519
  recipient parses as an age recipient;
- publishing over a current key revokes it; when the current key signed the
  new bundle (``rotation_signature``) the change is a *rotation* correspondents
  can verify on their own, otherwise a *replacement* they must confirm out of
  band; both are audited (``keys:key:rotate``);
- a revoked key never becomes current again and is refused for new transfers
  (``keys:key:revoke``);
- the lost-device flow re-authenticates with password and second factor,
  revokes every key and every other API token of the user, and publishes the
  new device's bundle;
- the directory returns only active recipients with a current key, with their
  recent key history so that pinning clients can follow rotations.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import repository as accounts_repository
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.errors import CryptoError
from scelle.crypto.signing import (
    VerifyKey,
    key_bundle_message,
    key_fingerprint,
    key_rotation_message,
)
from scelle.db.base import utcnow
from scelle.db.models import KeyRevocation, PublicKey, User, UserStatus
from scelle.errors import Conflict, InvalidInput, NotFound
from scelle.keys import repository
from scelle.keys.schemas import DirectoryEntry, KeyOut, KeyRecord

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.server.container import Services

__all__ = [
    "Bundle",
    "LostDeviceResult",
    "current_key",
    "decode_b64",
    "key_out",
    "lost_device",
    "publish",
    "resolve",
    "revoke",
]

MAX_TARGETS = 50
HISTORY = 10


@dataclass(frozen=True)
class Bundle:
    """A key bundle as a client sends it (base64 fields)."""

    x25519_recipient: str
    ed25519_public_b64: str
    self_signature_b64: str
    rotation_signature_b64: str | None = None


@dataclass(frozen=True)
class LostDeviceResult:
    key: PublicKey
    token: str
    token_id: str
    token_expires_at: datetime
    revoked_keys: int
    revoked_tokens: int


def decode_b64(value: str, *, length: int, what: str) -> bytes:
    """Strict base64 of exactly ``length`` bytes, or InvalidInput naming ``what``."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{what} is not valid base64") from exc
    if len(raw) != length:
        raise InvalidInput(f"{what} must be {length} bytes")
    return raw


def _b64(value: bytes | None) -> str | None:
    return base64.b64encode(value).decode() if value is not None else None


def current_key(session: Session, user_id: str) -> PublicKey | None:
    return repository.current_key(session, user_id)


def key_out(key: PublicKey) -> KeyOut:
    return KeyOut(
        key_id=key.id,
        x25519_recipient=key.x25519_recipient,
        ed25519_public=base64.b64encode(key.ed25519_public).decode(),
        fingerprint=key.fingerprint,
        created_at=key.created_at,
        previous_key_id=key.previous_key_id,
        rotation_signature=_b64(key.rotation_signature),
    )


def _record(key: PublicKey) -> KeyRecord:
    return KeyRecord(
        **key_out(key).model_dump(),
        revoked_at=key.revoked_at,
        revocation_reason=key.revocation_reason,
    )


def _checked_bundle(bundle: Bundle) -> tuple[str, bytes, bytes]:
    """(recipient, ed25519 public, self-signature) of a proven bundle; raises InvalidInput."""
    ed_public = decode_b64(bundle.ed25519_public_b64, length=32, what="ed25519_public")
    signature = decode_b64(bundle.self_signature_b64, length=64, what="self_signature")
    try:
        recipient = str(X25519Recipient.parse(bundle.x25519_recipient.strip()))
    except CryptoError as exc:
        raise InvalidInput("x25519_recipient is not an age X25519 recipient") from exc
    try:
        VerifyKey.from_bytes(ed_public).verify(signature, key_bundle_message(recipient, ed_public))
    except CryptoError as exc:
        raise InvalidInput("the key bundle's self-signature does not verify") from exc
    return recipient, ed_public, signature


def _revoke(
    session: Session, services: Services, principal: Principal, key: PublicKey, reason: str
) -> None:
    key.revoked_at = utcnow()
    key.revocation_reason = reason
    services.audit.record(
        session,
        "keys:key:revoke",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=key.id,
        fingerprint=key.fingerprint,
        reason=reason,
    )


def publish(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    x25519_recipient: str,
    ed25519_public_b64: str,
    self_signature_b64: str,
    rotation_signature_b64: str | None = None,
) -> PublicKey:
    """Publish the caller's key bundle; a current key is revoked (rotation or replacement).

    Raises InvalidInput for a malformed or unproven bundle, or a
    ``rotation_signature`` that the current key did not make.
    """
    bundle = Bundle(
        x25519_recipient, ed25519_public_b64, self_signature_b64, rotation_signature_b64
    )
    recipient, ed_public, signature = _checked_bundle(bundle)
    fingerprint = key_fingerprint(recipient, ed_public)
    previous = repository.current_key(session, principal.user.id)
    rotation: bytes | None = None
    if rotation_signature_b64 is not None:
        if previous is None:
            raise InvalidInput("there is no current key to rotate from")
        rotation = decode_b64(rotation_signature_b64, length=64, what="rotation_signature")
        try:
            VerifyKey.from_bytes(previous.ed25519_public).verify(
                rotation, key_rotation_message(previous.fingerprint, recipient, ed_public)
            )
        except CryptoError as exc:
            raise InvalidInput(
                "the rotation signature does not verify with the current key"
            ) from exc
    if previous is not None and previous.fingerprint == fingerprint:
        raise Conflict("this bundle is already your current key")
    now = utcnow()
    if previous is not None:
        previous.revoked_at = now
        previous.revocation_reason = (
            KeyRevocation.ROTATED.value if rotation else KeyRevocation.REPLACED.value
        )
    key = PublicKey(
        id=ids.new_id("key"),
        user_id=principal.user.id,
        x25519_recipient=recipient,
        ed25519_public=ed_public,
        self_signature=signature,
        fingerprint=fingerprint,
        created_at=now,
        previous_key_id=previous.id if previous else None,
        rotation_signature=rotation,
    )
    session.add(key)
    session.flush()
    services.audit.record(
        session,
        "keys:key:rotate" if previous else "keys:key:publish",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=key.id,
        fingerprint=key.fingerprint,
        previous_key_id=previous.id if previous else None,
        attested=rotation is not None,
    )
    return key


def revoke(session: Session, services: Services, principal: Principal) -> int:
    """Revoke the caller's current key(s); returns how many. Raises Conflict without one."""
    keys = repository.live_keys(session, principal.user.id)
    if not keys:
        raise Conflict("you have no current key to revoke")
    for key in keys:
        _revoke(session, services, principal, key, KeyRevocation.REVOKED.value)
    session.flush()
    return len(keys)


def lost_device(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    password: str,
    otp: str,
    bundle: Bundle,
) -> LostDeviceResult:
    """Re-authenticate, revoke every key and every other token, publish the new bundle.

    The caller's password and second factor are checked again (a token alone,
    perhaps from the lost device, is not enough). The answer carries a fresh
    API token for this device; every other token of the user is revoked.
    Raises InvalidCredentials, InvalidInput.
    """
    from scelle.accounts import service as accounts_service

    if bundle.rotation_signature_b64 is not None:
        raise InvalidInput("a lost-device bundle cannot be signed by a lost key")
    _checked_bundle(bundle)  # refuse a bad bundle before spending the second factor
    login = accounts_service.login(
        session, services, principal.user.email, password, otp, name="lost-device"
    )
    if login.user.id != principal.user.id:
        raise NotFound("account not found")
    keys = repository.live_keys(session, principal.user.id)
    last = max(keys, key=lambda k: k.created_at) if keys else None
    for key in keys:
        _revoke(session, services, principal, key, KeyRevocation.LOST_DEVICE.value)
    tokens = repository.revoke_tokens_except(
        session, principal.user.id, login.api_token.id, utcnow()
    )
    session.flush()
    recipient, ed_public, signature = _checked_bundle(bundle)
    key = PublicKey(
        id=ids.new_id("key"),
        user_id=principal.user.id,
        x25519_recipient=recipient,
        ed25519_public=ed_public,
        self_signature=signature,
        fingerprint=key_fingerprint(recipient, ed_public),
        created_at=utcnow(),
        previous_key_id=last.id if last else None,
    )
    session.add(key)
    session.flush()
    services.audit.record(
        session,
        "keys:key:lost-device",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=key.id,
        fingerprint=key.fingerprint,
        revoked_keys=len(keys),
        revoked_tokens=tokens,
    )
    return LostDeviceResult(
        key=key,
        token=login.token,
        token_id=login.api_token.id,
        token_expires_at=login.api_token.expires_at,
        revoked_keys=len(keys),
        revoked_tokens=tokens,
    )


def _entry(session: Session, user: User, key: PublicKey) -> DirectoryEntry:
    org = accounts_repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    return DirectoryEntry(
        user_id=user.id,
        email=user.email,
        org=org.name,
        key_id=key.id,
        x25519_recipient=key.x25519_recipient,
        ed25519_public=base64.b64encode(key.ed25519_public).decode(),
        fingerprint=key.fingerprint,
        created_at=key.created_at,
        previous_key_id=key.previous_key_id,
        rotation_signature=_b64(key.rotation_signature),
        history=[_record(k) for k in repository.history(session, user.id, HISTORY)],
    )


def resolve(session: Session, targets: list[str]) -> list[DirectoryEntry]:
    """Recipients for ``targets`` (org names or e-mails), each with their current key.

    An org resolves to every active member with the recipient role and a key.
    Raises NotFound naming the target that resolves to nobody.
    """
    if not targets or len(targets) > MAX_TARGETS:
        raise InvalidInput(f"give between 1 and {MAX_TARGETS} recipients")
    found: dict[str, DirectoryEntry] = {}
    for raw in targets:
        target = raw.strip().lower()
        users: list[User]
        if "@" in target:
            user = accounts_repository.user_by_email(session, target)
            users = [user] if user is not None and user.status == UserStatus.ACTIVE.value else []
        else:
            org = accounts_repository.org_by_name(session, target)
            users = repository.recipients_of_org(session, org.id) if org else []
        entries = []
        for user in users:
            key = repository.current_key(session, user.id)
            if key is not None:
                entries.append(_entry(session, user, key))
        if not entries:
            raise NotFound(f"no recipient with a published key for '{target[:100]}'")
        for entry in entries:
            found[entry.user_id] = entry
    return list(found.values())
