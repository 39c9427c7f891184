"""Keys service: publish (rotate) a key bundle, resolve recipients for a send.

Promises: a published bundle is proven by its own Ed25519 signature; the
X25519 recipient parses as an age recipient; publishing a new bundle revokes
the previous one (audited); the directory returns only active recipients with
a current key.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import repository as accounts_repository
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.errors import CryptoError
from scelle.crypto.signing import VerifyKey, key_bundle_message, key_fingerprint
from scelle.db.base import utcnow
from scelle.db.models import PublicKey, User, UserStatus
from scelle.errors import InvalidInput, NotFound
from scelle.keys import repository
from scelle.keys.schemas import DirectoryEntry, KeyOut

if TYPE_CHECKING:
    from scelle.accounts.service import Principal
    from scelle.server.container import Services

__all__ = ["current_key", "decode_b64", "key_out", "publish", "resolve"]

MAX_TARGETS = 50


def decode_b64(value: str, *, length: int, what: str) -> bytes:
    """Strict base64 of exactly ``length`` bytes, or InvalidInput naming ``what``."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput(f"{what} is not valid base64") from exc
    if len(raw) != length:
        raise InvalidInput(f"{what} must be {length} bytes")
    return raw


def current_key(session: Session, user_id: str) -> PublicKey | None:
    return repository.current_key(session, user_id)


def key_out(key: PublicKey) -> KeyOut:
    return KeyOut(
        key_id=key.id,
        x25519_recipient=key.x25519_recipient,
        ed25519_public=base64.b64encode(key.ed25519_public).decode(),
        fingerprint=key.fingerprint,
        created_at=key.created_at,
    )


def publish(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    x25519_recipient: str,
    ed25519_public_b64: str,
    self_signature_b64: str,
) -> PublicKey:
    """Publish the caller's key bundle; the previous one is revoked. Raises InvalidInput."""
    ed_public = decode_b64(ed25519_public_b64, length=32, what="ed25519_public")
    signature = decode_b64(self_signature_b64, length=64, what="self_signature")
    try:
        recipient = str(X25519Recipient.parse(x25519_recipient.strip()))
    except CryptoError as exc:
        raise InvalidInput("x25519_recipient is not an age X25519 recipient") from exc
    try:
        VerifyKey.from_bytes(ed_public).verify(signature, key_bundle_message(recipient, ed_public))
    except CryptoError as exc:
        raise InvalidInput("the key bundle's self-signature does not verify") from exc
    now = utcnow()
    previous = repository.current_key(session, principal.user.id)
    if previous is not None:
        previous.revoked_at = now
    key = PublicKey(
        id=ids.new_id("key"),
        user_id=principal.user.id,
        x25519_recipient=recipient,
        ed25519_public=ed_public,
        self_signature=signature,
        fingerprint=key_fingerprint(recipient, ed_public),
        created_at=now,
    )
    session.add(key)
    session.flush()
    services.audit.record(
        session,
        "key:bundle:rotate" if previous else "key:bundle:publish",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=key.id,
        fingerprint=key.fingerprint,
        previous_key_id=previous.id if previous else None,
    )
    return key


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
