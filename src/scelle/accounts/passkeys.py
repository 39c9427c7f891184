"""Passkeys (WebAuthn): registration, login with password + passkey, removal, role policy.

Promises:

- every ceremony has a server-side challenge (32 random bytes) bound to one
  user and one purpose, named to the client by a random 256-bit id stored as a
  keyed hash, valid ``webauthn_challenge_lifetime`` (5 minutes) and spent once,
  in a transaction of its own, before the response is looked at: a failed or
  replayed ceremony cannot be tried again;
- responses are verified by the ``webauthn`` library (origin, RP id hash,
  challenge, user presence and verification, signature); "none" attestation;
  the signature counter must grow (when the authenticator keeps one), else
  the passkey is taken for a clone and refused;
- a login by passkey starts with the password (throttled and answered exactly
  like the password + TOTP login), so no one learns which e-mails exist or
  which passkeys they hold; passkey failures count as second-factor failures;
- adding or removing a passkey needs a recent login (``reauth_window``) or
  the password and a second factor given again;
- an organisation may require passkeys for roles; their members' TOTP and
  recovery-code logins are then refused with ``passkey_required`` and, while
  they have no passkey, a one-registration enrolment ceremony instead.

Every step is audited: ``account:passkey:challenge``, ``account:passkey:register``,
``account:passkey:remove``, ``account:passkey:failure`` (with a reason),
``account:login:success`` (``factor=passkey``), ``account:login:passkey_required``,
``admin:org:passkey_policy``, ``admin:user:passkeys_reset``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url, options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.parse_registration_credential_json import (
    parse_registration_credential_json,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from scelle import ids
from scelle.accounts import repository
from scelle.accounts.service import Principal, count_failure, guard, verify_login
from scelle.db.base import utcnow
from scelle.db.engine import FAILURE_EVENTS
from scelle.db.models import (
    ChallengePurpose,
    Organization,
    Role,
    User,
    UserStatus,
    WebAuthnChallenge,
    WebAuthnCredential,
)
from scelle.errors import (
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    PasskeyRequired,
    ReauthenticationRequired,
)

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = [
    "Ceremony",
    "ClaimedCeremony",
    "begin_login",
    "begin_registration",
    "claim",
    "finish_login",
    "finish_registration",
    "list_passkeys",
    "login_ceremony",
    "passkey_out",
    "password_login_gate",
    "remove_passkey",
    "require_recent_auth",
    "required_for",
    "reset_passkeys",
    "set_required_roles",
]

NAME = re.compile(r"\A[\w .@'()-]{1,64}\Z")
MAX_PASSKEYS = 10
MAX_CREDENTIAL_ID = 1023  # WebAuthn level 3: credential ids are at most 1023 bytes
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)
_FAILED = "the passkey could not be verified; log in again"


@dataclass(frozen=True)
class Ceremony:
    """A ceremony begun: the id the client sends back, and the options for the browser."""

    challenge_id: str
    options: dict[str, Any]
    expires_at: datetime


@dataclass(frozen=True)
class ClaimedCeremony:
    """A ceremony whose challenge was just spent: what finishing it needs."""

    user_id: str
    purpose: ChallengePurpose
    challenge: bytes


def required_for(session: Session, user: User) -> bool:
    """True when the user's organisation requires a passkey for one of the user's roles."""
    org = repository.org_by_id(session, user.org_id)
    required = set(org.passkey_roles.split()) if org is not None else set()
    return bool(required & {r.value for r in user.role_set})


def set_required_roles(
    session: Session,
    services: Services,
    org: Organization,
    roles: set[Role],
    *,
    actor_id: str | None = None,
) -> list[str]:
    """Require passkeys for ``roles`` of ``org`` (replacing the previous set; empty: none)."""
    names = sorted(r.value for r in roles)
    org.passkey_roles = " ".join(names)
    services.audit.record(
        session,
        "admin:org:passkey_policy",
        actor_id=actor_id,
        org_id=org.id,
        object_id=org.id,
        roles=org.passkey_roles,
    )
    return names


def _descriptor(credential: WebAuthnCredential) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in credential.transports.split()]
    return PublicKeyCredentialDescriptor(id=credential.credential_id, transports=transports or None)


def _new_ceremony(
    session: Session, services: Services, user: User, purpose: ChallengePurpose
) -> tuple[str, bytes, datetime]:
    challenge_id = secrets.token_urlsafe(32)
    challenge = secrets.token_bytes(32)
    now = utcnow()
    repository.prune_challenges(session, user.id, now)
    expires_at = now + services.settings.webauthn_challenge_lifetime
    repository.add(
        session,
        WebAuthnChallenge(
            id_hash=services.secret_box.digest(challenge_id),
            user_id=user.id,
            purpose=purpose.value,
            challenge=challenge,
            created_at=now,
            expires_at=expires_at,
        ),
    )
    services.audit.record(
        session,
        "account:passkey:challenge",
        actor_id=user.id,
        org_id=user.org_id,
        purpose=purpose.value,
    )
    return challenge_id, challenge, expires_at


def _timeout_ms(services: Services) -> int:
    return int(services.settings.webauthn_challenge_lifetime.total_seconds() * 1000)


def _registration_ceremony(
    session: Session, services: Services, user: User, purpose: ChallengePurpose
) -> Ceremony:
    existing = repository.passkeys_of(session, user.id)
    if len(existing) >= MAX_PASSKEYS:
        raise Conflict(f"an account holds at most {MAX_PASSKEYS} passkeys; remove one first")
    challenge_id, challenge, expires_at = _new_ceremony(session, services, user, purpose)
    options = generate_registration_options(
        rp_id=services.settings.passkey_rp_id,
        rp_name=services.settings.webauthn_rp_name,
        user_id=user.id.encode(),  # random, says nothing about the person
        user_name=user.email,
        user_display_name=user.email,
        challenge=challenge,
        timeout=_timeout_ms(services),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(c) for c in existing],
    )
    return Ceremony(challenge_id, options_to_json_dict(options), expires_at)


def password_login_gate(session: Session, services: Services, user: User) -> None:
    """Refuse a TOTP or recovery-code login when the user's role requires a passkey.

    Raises PasskeyRequired: with ``details.enrolment`` (a registration ceremony
    for this user, the only thing it allows) while the user has no passkey;
    without, telling them to log in with their passkey, once they have one.
    The caller must commit what this wrote (the spent code, the ceremony, the
    audit event) before answering: see the login endpoints.
    """
    if not required_for(session, user):
        return
    has_passkey = bool(repository.passkeys_of(session, user.id))
    services.audit.record(
        session,
        "account:login:passkey_required",
        actor_id=user.id,
        org_id=user.org_id,
        enrolment=not has_passkey,
    )
    if has_passkey:
        raise PasskeyRequired(
            "your role requires a passkey: log in with it from a browser (the command line "
            "logs in with TOTP only); lost it? an admin can reset your passkeys"
        )
    ceremony = _registration_ceremony(session, services, user, ChallengePurpose.ENROL)
    raise PasskeyRequired(
        "your role requires a passkey and you have none: sign in from a browser to register "
        "one (this answer's enrolment ceremony, for POST /api/v1/auth/passkey/enrol), then "
        "log in with it",
        enrolment={
            "challenge_id": ceremony.challenge_id,
            "options": ceremony.options,
            "expires_at": ceremony.expires_at.isoformat(),
        },
    )


def require_recent_auth(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    password: str | None,
    otp: str | None,
    client_ip: str,
    purpose: str = "to change your passkeys",
) -> None:
    """Allow a sensitive account change only after a fresh proof of the account.

    Either the caller's login (API token or web session) is at most
    ``reauth_window`` old, or ``password`` and ``otp`` (TOTP or a recovery code)
    verify now, throttled like a login. ``purpose`` ends the refusal's message
    ("to change your passkeys"). Raises ReauthenticationRequired,
    InvalidCredentials or TooManyRequests.
    """
    if password is not None and otp is not None:
        if required_for(session, principal.user):
            raise ReauthenticationRequired(
                "your role requires a passkey: log in again with it to do this"
            )
        verify_login(
            session, services, principal.user.email, password, otp, client_ip=client_ip, gate=False
        )
        return
    at = principal.authenticated_at
    if at is None or utcnow() - at > services.settings.reauth_window:
        minutes = int(services.settings.reauth_window.total_seconds() // 60)
        raise ReauthenticationRequired(
            f"log in again (within {minutes} minutes), or give your password and a "
            f"second factor, {purpose}"
        )


def begin_registration(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    password: str | None = None,
    otp: str | None = None,
    client_ip: str = "local",
) -> Ceremony:
    """Options for ``navigator.credentials.create()`` to add a passkey to the caller's account."""
    require_recent_auth(
        session, services, principal, password=password, otp=otp, client_ip=client_ip
    )
    return _registration_ceremony(session, services, principal.user, ChallengePurpose.REGISTER)


def claim(
    session: Session,
    services: Services,
    challenge_id: str,
    purposes: set[ChallengePurpose],
    *,
    client_ip: str = "local",
) -> ClaimedCeremony:
    """Spend a ceremony's challenge, for good, before its answer is verified.

    Raises InvalidCredentials for an unknown, used, expired or other-purpose
    ceremony (one answer), TooManyRequests after too many from ``client_ip``.
    """
    guard(session, services, "enrol", ip=client_ip)
    row = session.get(WebAuthnChallenge, services.secret_box.digest(challenge_id[:200]))
    now = utcnow()
    if row is None or row.used_at is not None or row.expires_at <= now:
        reason = "unknown" if row is None else "replayed" if row.used_at else "expired"
        services.audit.record_failure(
            session,
            "account:passkey:failure",
            actor_id=row.user_id if row else None,
            reason=f"challenge_{reason}",
        )
        count_failure(session, services, "enrol", ip=client_ip)
        raise InvalidCredentials(_FAILED)
    if not repository.spend_challenge(session, row.id_hash, now):
        raise InvalidCredentials(_FAILED)  # another request spent it first
    # Spent for good even when finishing fails and the request rolls back: the
    # rollback path writes what FAILURE_EVENTS holds in a transaction of its own.
    id_hash = row.id_hash
    session.info.setdefault(FAILURE_EVENTS, []).append(
        lambda s: repository.spend_challenge(s, id_hash, now) and None
    )
    purpose = ChallengePurpose(row.purpose)
    if purpose not in purposes:
        services.audit.record_failure(
            session, "account:passkey:failure", actor_id=row.user_id, reason="challenge_purpose"
        )
        raise InvalidCredentials(_FAILED)
    return ClaimedCeremony(user_id=row.user_id, purpose=purpose, challenge=row.challenge)


def _reason(exc: Exception) -> str:
    """A short, stable reason for the audit log, from the library's refusal."""
    text = str(exc).lower()
    for needle, reason in (
        ("origin", "origin"),
        ("rp id", "rp_id"),
        ("challenge", "challenge"),
        ("signature", "signature"),
        ("verif", "user_verification"),
        ("present", "user_presence"),
        ("type", "type"),
    ):
        if needle in text:
            return reason
    return "malformed"


def _user_of(session: Session, claimed: ClaimedCeremony) -> User:
    user = repository.user_by_id(session, claimed.user_id)
    if user is None or user.status != UserStatus.ACTIVE.value:
        raise InvalidCredentials(_FAILED)
    return user


def _refuse(
    session: Session, services: Services, user: User, why: str, *, object_id: str | None = None
) -> InvalidCredentials:
    services.audit.record_failure(
        session,
        "account:passkey:failure",
        actor_id=user.id,
        org_id=user.org_id,
        object_id=object_id,
        reason=why,
    )
    count_failure(session, services, "mfa", account=user.email)
    return InvalidCredentials(_FAILED)


def finish_registration(
    session: Session,
    services: Services,
    claimed: ClaimedCeremony,
    credential: dict[str, Any],
    *,
    name: str,
    principal: Principal | None,
) -> WebAuthnCredential:
    """Verify ``navigator.credentials.create()``'s answer and keep the new passkey.

    ``principal`` is the caller for a REGISTER ceremony (it must be the
    ceremony's user); None for an ENROL ceremony, which authorises itself.
    Raises InvalidCredentials (the response does not verify, or the ceremony
    is another user's), Conflict (the passkey is registered already),
    InvalidInput (a bad name).
    """
    if not NAME.match(name):
        raise InvalidInput("a passkey name is 1-64 letters, digits, spaces or . @ ' ( ) -")
    user = _user_of(session, claimed)
    guard(session, services, "mfa", account=user.email)
    if principal is not None and principal.user.id != user.id:
        raise _refuse(session, services, user, "other_user")
    try:
        parsed = parse_registration_credential_json(credential)
        verified = verify_registration_response(
            credential=parsed,
            expected_challenge=claimed.challenge,
            expected_rp_id=services.settings.passkey_rp_id,
            expected_origin=services.settings.passkey_origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise _refuse(session, services, user, _reason(exc)) from exc
    if len(verified.credential_id) > MAX_CREDENTIAL_ID:
        raise _refuse(session, services, user, "credential_id_too_long")
    if repository.passkey_by_credential_id(session, verified.credential_id) is not None:
        raise Conflict("this passkey is registered already")
    transports = sorted(
        {t.value for t in parsed.response.transports or () if t.value in _TRANSPORTS}
    )
    passkey = WebAuthnCredential(
        id=ids.new_id("pk"),
        user_id=user.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=" ".join(transports)[:128],
        name=name,
        created_at=utcnow(),
    )
    repository.add(session, passkey)
    services.audit.record(
        session,
        "account:passkey:register",
        actor_id=user.id,
        org_id=user.org_id,
        object_id=passkey.id,
        via=claimed.purpose.value,
    )
    return passkey


def begin_login(
    session: Session,
    services: Services,
    email: str,
    password: str,
    *,
    client_ip: str = "local",
) -> Ceremony:
    """The password (checked as the TOTP login does), then ``credentials.get()`` options.

    Raises InvalidCredentials (unknown e-mail, wrong password, disabled
    account: one answer, one argon2 verification), TooManyRequests, and
    Conflict when the account has no passkey (only the password's holder
    can learn that).
    """
    user = verify_login(session, services, email, password, None, client_ip=client_ip)[0]
    return login_ceremony(session, services, user)


def login_ceremony(session: Session, services: Services, user: User) -> Ceremony:
    """The login ceremony of a user whose password was just verified (see :func:`begin_login`).

    Raises Conflict when the account has no passkey.
    """
    passkeys = repository.passkeys_of(session, user.id)
    if not passkeys:
        raise Conflict("this account has no passkey; log in with a TOTP or recovery code")
    challenge_id, challenge, expires_at = _new_ceremony(
        session, services, user, ChallengePurpose.LOGIN
    )
    options = generate_authentication_options(
        rp_id=services.settings.passkey_rp_id,
        challenge=challenge,
        timeout=_timeout_ms(services),
        allow_credentials=[_descriptor(c) for c in passkeys],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Ceremony(challenge_id, options_to_json_dict(options), expires_at)


def finish_login(
    session: Session, services: Services, claimed: ClaimedCeremony, credential: dict[str, Any]
) -> tuple[User, Organization]:
    """Verify ``navigator.credentials.get()``'s answer for the ceremony's user.

    Raises InvalidCredentials (another user's or an unknown passkey, a bad
    signature, origin, RP id or challenge, no user verification, a counter
    that did not grow) and TooManyRequests after too many second-factor failures.
    """
    user = _user_of(session, claimed)
    guard(session, services, "mfa", account=user.email)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise _refuse(session, services, user, "malformed") from exc
    passkey = repository.passkey_by_credential_id(session, parsed.raw_id)
    if passkey is None:
        raise _refuse(session, services, user, "unknown_passkey")
    if passkey.user_id != user.id:
        raise _refuse(session, services, user, "other_user", object_id=passkey.id)
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=claimed.challenge,
            expected_rp_id=services.settings.passkey_rp_id,
            expected_origin=services.settings.passkey_origin,
            credential_public_key=passkey.public_key,
            # The counter is checked below, once the signature is known good,
            # so that a clone is told apart from a forgery in the audit log.
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise _refuse(session, services, user, _reason(exc), object_id=passkey.id) from exc
    new, old = verified.new_sign_count, passkey.sign_count
    if (new > 0 or old > 0) and new <= old:
        raise _refuse(session, services, user, "sign_count_clone", object_id=passkey.id)
    if not repository.advance_sign_count(session, passkey.id, old, new, utcnow()):
        raise _refuse(session, services, user, "sign_count_race", object_id=passkey.id)
    org = repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    return user, org


def list_passkeys(session: Session, principal: Principal) -> list[WebAuthnCredential]:
    """The caller's passkeys, oldest first."""
    return repository.passkeys_of(session, principal.user.id)


def passkey_out(passkey: WebAuthnCredential) -> dict[str, Any]:
    """What the API shows of a passkey (its credential id as base64url, never the key)."""
    return {
        "id": passkey.id,
        "name": passkey.name,
        "credential_id": bytes_to_base64url(passkey.credential_id),
        "transports": passkey.transports.split(),
        "created_at": passkey.created_at,
        "last_used_at": passkey.last_used_at,
    }


def remove_passkey(
    session: Session,
    services: Services,
    principal: Principal,
    passkey_id: str,
    *,
    password: str | None = None,
    otp: str | None = None,
    client_ip: str = "local",
) -> None:
    """Remove one of the caller's passkeys, after a fresh proof of the account.

    Raises NotFound (malformed, unknown or someone else's: one answer),
    ReauthenticationRequired, and Conflict for the last passkey of a member
    whose role requires one.
    """
    passkey = (
        session.get(WebAuthnCredential, passkey_id) if ids.is_valid(passkey_id, "pk") else None
    )
    if passkey is None or passkey.user_id != principal.user.id:
        raise NotFound("no such passkey")
    require_recent_auth(
        session, services, principal, password=password, otp=otp, client_ip=client_ip
    )
    last = len(repository.passkeys_of(session, passkey.user_id)) <= 1
    if last and required_for(session, principal.user):
        raise Conflict("your role requires a passkey: register another one before removing this")
    session.delete(passkey)
    session.flush()
    services.audit.record(
        session,
        "account:passkey:remove",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=passkey_id,
    )


def reset_passkeys(
    session: Session, services: Services, user: User, *, actor_id: str | None = None
) -> int:
    """Remove every passkey of ``user`` (an admin, for a lost authenticator): how many."""
    count = repository.delete_passkeys_of(session, user.id)
    services.audit.record(
        session,
        "admin:user:passkeys_reset",
        actor_id=actor_id,
        org_id=user.org_id,
        object_id=user.id,
        removed=count,
    )
    return count
