"""Factories for organisations, users (enrolled, with keys) and their API tokens.

They go through the real services, so a factory-made user is exactly what an
admin and an enrolment would have produced.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import struct
import time
from dataclasses import dataclass

from scelle.accounts import service as accounts
from scelle.config import Settings
from scelle.crypto.age.identity import X25519Identity
from scelle.crypto.signing import SigningKey, key_bundle_message
from scelle.db.models import Organization, Role
from scelle.keys import service as keys
from scelle.server.container import Services, build_services

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


def totp_code(secret_b32: str, at: float | None = None, step_offset: int = 0) -> str:
    """RFC 6238 code, computed independently of the server's implementation."""
    secret = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int(at if at is not None else time.time()) // 30 + step_offset
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


@dataclass
class Member:
    """An enrolled user with a published key bundle and a fresh API token."""

    user_id: str
    email: str
    org: str
    token: str
    totp_secret: str
    recovery_codes: list[str]
    identity: X25519Identity
    signing_key: SigningKey
    key_id: str


def org(services: Services, name: str | None = None) -> Organization:
    with services.database.transaction() as session:
        return accounts.create_org(session, services, name or f"org-{next(_counter)}")


def member(
    services: Services,
    org_name: str,
    *roles: Role,
    email: str | None = None,
    publish_key: bool = True,
) -> Member:
    email = email or f"user{next(_counter)}@{org_name}.test"
    with services.database.transaction() as session:
        user, enrolment = accounts.create_user(
            session,
            services,
            email,
            org_name=org_name,
            roles=set(roles or (Role.SENDER, Role.RECIPIENT)),
        )
    with services.database.transaction() as session:
        result = accounts.enrol(session, services, enrolment, PASSWORD)
    secret = accounts.totp_secret_text(result.totp_secret)
    with services.database.transaction() as session:
        # A recovery code logs in without waiting for a fresh TOTP step.
        login = accounts.login(session, services, email, PASSWORD, result.recovery_codes[0])
        principal = accounts.authenticate_token(session, services, login.token)
        identity = X25519Identity.generate()
        signing = SigningKey.generate()
        key_id = ""
        if publish_key:
            recipient = str(identity.recipient)
            public = signing.public_key.to_bytes()
            key = keys.publish(
                session,
                services,
                principal,
                x25519_recipient=recipient,
                ed25519_public_b64=base64.b64encode(public).decode(),
                self_signature_b64=base64.b64encode(
                    signing.sign(key_bundle_message(recipient, public))
                ).decode(),
            )
            key_id = key.id
    return Member(
        user_id=user.id,
        email=email,
        org=org_name,
        token=login.token,
        totp_secret=secret,
        recovery_codes=result.recovery_codes[1:],
        identity=identity,
        signing_key=signing,
        key_id=key_id,
    )


def sender_and_recipient(settings: Settings) -> tuple[Member, Member]:
    """A sender of ``lab-x`` and a recipient of ``cpam-75``, made in the stores of ``settings``.

    The stores are opened for this and closed again, so a server process can
    then be started on them.
    """
    services = build_services(settings)
    try:
        org(services, "lab-x")
        org(services, "cpam-75")
        return member(services, "lab-x", Role.SENDER), member(services, "cpam-75", Role.RECIPIENT)
    finally:
        services.database.dispose()
