"""Accounts service: organisations, users, enrolment, login and API tokens.

Promises: passwords are argon2id hashes; TOTP seeds are sealed under the server
secret; tokens, enrolment tokens and recovery codes are stored as SHA-256
only and shown once; a failed login answers the same, in about the same time,
whether the e-mail exists or not; a TOTP step is accepted once per user.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import passwords, repository, tokens, totp
from scelle.db.base import utcnow
from scelle.db.models import (
    ApiToken,
    Organization,
    RecoveryCode,
    Role,
    User,
    UserStatus,
    WebSession,
)
from scelle.errors import (
    AuthenticationRequired,
    Conflict,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = [
    "EnrolmentResult",
    "LoginResult",
    "Principal",
    "authenticate_token",
    "count_failure",
    "create_org",
    "create_token",
    "create_user",
    "disable_user",
    "enable_user",
    "enrol",
    "guard",
    "issue_login_token",
    "list_tokens",
    "login",
    "logout",
    "normalise_email",
    "revoke_token",
    "role_scopes",
    "set_member_enabled",
    "set_user_roles",
]

ORG_NAME = re.compile(r"\A[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z")
EMAIL = re.compile(r"\A[^@\s]{1,64}@[^@\s]{1,190}\Z")
RECOVERY_CODES = 10
ALL_SCOPES = frozenset({"send", "receive", "admin"})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user and what their token allows."""

    user: User
    org: Organization
    scopes: frozenset[str]
    token_id: str | None = None
    # When the caller last proved password + second factor (None: never, for this token).
    authenticated_at: datetime | None = None

    def require(self, scope: str) -> None:
        """Raise PermissionDenied unless the token carries ``scope``."""
        if scope not in self.scopes:
            raise PermissionDenied(f"this action needs the '{scope}' permission")

    def require_any(self, *scopes: str) -> None:
        """Raise PermissionDenied unless the token carries one of ``scopes``."""
        if not self.scopes & set(scopes):
            raise PermissionDenied(f"this action needs one of: {', '.join(scopes)}")


@dataclass(frozen=True)
class EnrolmentResult:
    user: User
    org: Organization
    totp_secret: bytes
    recovery_codes: list[str]


@dataclass(frozen=True)
class LoginResult:
    token: str
    api_token: ApiToken
    user: User
    org: Organization


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if not EMAIL.match(value):
        raise InvalidInput("not a valid e-mail address")
    return value


def create_org(
    session: Session, services: Services, name: str, *, actor_id: str | None = None
) -> Organization:
    """Create an organisation named by a slug (``cpam-75``). Raises Conflict if it exists."""
    name = name.strip().lower()
    if not ORG_NAME.match(name):
        raise InvalidInput("an organisation name is 1-64 lowercase letters, digits and dashes")
    if repository.org_by_name(session, name) is not None:
        raise Conflict(f"organisation '{name}' already exists")
    org = Organization(id=ids.new_id("org"), name=name, created_at=utcnow())
    repository.add(session, org)
    services.audit.record(
        session, "admin:org:create", actor_id=actor_id, org_id=org.id, object_id=org.id
    )
    return org


def create_user(
    session: Session,
    services: Services,
    email: str,
    *,
    org_name: str,
    roles: set[Role],
    actor_id: str | None = None,
) -> tuple[User, str]:
    """Create a pending user and return it with its one-time enrolment token."""
    email = normalise_email(email)
    if not roles:
        raise InvalidInput("a user needs at least one role")
    org = repository.org_by_name(session, org_name.strip().lower())
    if org is None:
        raise NotFound(f"no organisation named '{org_name}'")
    if repository.user_by_email(session, email) is not None:
        raise Conflict("a user with this e-mail already exists")
    token = tokens.new_enrolment_token()
    now = utcnow()
    user = User(
        id=ids.new_id("usr"),
        org_id=org.id,
        email=email,
        roles=" ".join(sorted(r.value for r in roles)),
        status=UserStatus.PENDING.value,
        enrolment_token_hash=services.secret_box.digest(token),
        enrolment_expires_at=now + services.settings.enrolment_expiry,
        created_at=now,
    )
    repository.add(session, user)
    services.audit.record(
        session,
        "admin:user:create",
        actor_id=actor_id,
        org_id=org.id,
        object_id=user.id,
        roles=user.roles,
    )
    return user, token


def enrol(
    session: Session,
    services: Services,
    token: str,
    password: str,
    *,
    client_ip: str = "local",
) -> EnrolmentResult:
    """Use a one-time enrolment token: set the password, create the TOTP seed and recovery codes.

    Raises InvalidCredentials for a bad token, TooManyRequests after too many
    failed enrolments from ``client_ip``.
    """
    guard(session, services, "enrol", ip=client_ip)
    user = repository.user_by_enrolment_hash(session, services.secret_box.digest(token))
    now = utcnow()
    if (
        user is None
        or user.status != UserStatus.PENDING.value
        or user.enrolment_expires_at is None
        or user.enrolment_expires_at < now
    ):
        services.audit.record_failure(session, "account:enrol:failure")
        count_failure(session, services, "enrol", ip=client_ip)
        raise InvalidCredentials("this enrolment token is invalid, used or expired")
    try:
        passwords.check_policy(password)
    except passwords.PasswordPolicyError as exc:
        raise InvalidInput(str(exc)) from exc
    org = repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    secret = totp.new_secret()
    user.password_hash = passwords.hash_password(password)
    user.totp_secret_sealed = services.secret_box.seal(secret, context=user.id)
    user.totp_last_step = None
    user.enrolment_token_hash = None
    user.enrolment_expires_at = None
    user.status = UserStatus.ACTIVE.value
    user.enrolled_at = now
    codes = [tokens.new_recovery_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(user_id=user.id, code_hash=services.secret_box.digest(code)))
    session.flush()
    services.audit.record(session, "account:enrol:success", actor_id=user.id, org_id=org.id)
    return EnrolmentResult(user=user, org=org, totp_secret=secret, recovery_codes=codes)


def _throttled(
    session: Session, services: Services, rule: tuple[str, str, str], retry_after: int
) -> TooManyRequests:
    """The 429 to raise, with one audit event per key and minute (never one per attempt)."""
    action, scope, key = rule
    if services.throttle.first_in_minute(action, scope, key):
        services.audit.record_failure(
            session, f"account:{action}:throttled", scope=scope, retry_after=retry_after
        )
    return TooManyRequests(
        "too many attempts; try again later", retry_after=retry_after, limit=f"{action}_{scope}"
    )


def guard(session: Session, services: Services, action: str, **keys: str) -> None:
    """Raise TooManyRequests when any rule of ``action`` is exhausted for its key."""
    for scope, key in keys.items():
        wait = services.throttle.retry_after(action, scope, key)
        if wait is not None:
            raise _throttled(session, services, (action, scope, key), wait)


def count_failure(session: Session, services: Services, action: str, **keys: str) -> None:
    """Count one attempt (or failure) on each rule of ``action``, without raising."""
    for scope, key in keys.items():
        services.throttle.hit(action, scope, key)


def _second_factor_ok(session: Session, services: Services, user: User, otp: str) -> str | None:
    """Which factor matched ("totp" or "recovery_code"), consuming it; None if none did."""
    if user.totp_secret_sealed is None:
        return None
    secret = services.secret_box.open(user.totp_secret_sealed, context=user.id)
    step = totp.verify_code(secret, otp, last_step=user.totp_last_step)
    if step is not None and repository.advance_totp_step(session, user.id, step):
        return "totp"
    candidate = services.secret_box.digest(otp.strip().lower())
    for code in repository.recovery_codes(session, user.id):
        if tokens.hmac_equal(code.code_hash, candidate) and repository.mark_recovery_code_used(
            session, code.id, utcnow()
        ):
            return "recovery_code"
    return None


def verify_login(
    session: Session,
    services: Services,
    email: str,
    password: str,
    otp: str | None,
    *,
    client_ip: str = "local",
    gate: bool = True,
) -> tuple[User, Organization, str]:
    """Check password and second factor, throttled: the user, its org and the factor used.

    With ``otp`` None only the password is checked (factor ``"password"``: the
    first half of a passkey login). With ``gate``, a TOTP or recovery-code
    login of a member whose role requires a passkey raises PasskeyRequired
    (see :func:`scelle.accounts.passkeys.password_login_gate`).
    Raises InvalidCredentials or TooManyRequests (see :func:`login`).
    """
    try:
        email = normalise_email(email)
    except InvalidInput:
        email = ""
    account = email or "<invalid>"
    pair = f"{account}\x00{client_ip}"
    wait = services.throttle.hit("login", "ip", client_ip)
    if wait is not None:
        raise _throttled(session, services, ("login", "ip", client_ip), wait)
    guard(session, services, "login", account=account, account_ip=pair)
    guard(session, services, "mfa", account=account)
    user = repository.user_by_email(session, email) if email else None
    # One argon2 verification whatever happens, so unknown e-mails cost the same time.
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or user.status != UserStatus.ACTIVE.value:
        services.audit.record_failure(
            session,
            "account:login:failure",
            actor_id=user.id if user else None,
            org_id=user.org_id if user else None,
            reason="password",
        )
        count_failure(session, services, "login", account=account, account_ip=pair)
        raise InvalidCredentials("invalid e-mail, password or code")
    org = repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    if otp is None:
        return user, org, "password"
    factor = _second_factor_ok(session, services, user, otp)
    if factor is None:
        services.audit.record_failure(
            session,
            "account:login:failure",
            actor_id=user.id,
            org_id=user.org_id,
            reason="second_factor",
        )
        count_failure(session, services, "login", account=account, account_ip=pair)
        count_failure(session, services, "mfa", account=account)
        raise InvalidCredentials("invalid e-mail, password or code")
    if gate:
        from scelle.accounts import passkeys  # passkeys builds on this module: imported late

        passkeys.password_login_gate(session, services, user)
    return user, org, factor


def login(
    session: Session,
    services: Services,
    email: str,
    password: str,
    otp: str,
    *,
    name: str = "cli",
    client_ip: str = "local",
) -> LoginResult:
    """Password + second factor → a new API token (shown once).

    Raises InvalidCredentials (the same for an unknown e-mail, a wrong
    password or a wrong code) and TooManyRequests when a throttling rule is
    exhausted; the throttling is decided before any lookup, from the e-mail
    as typed and the address, so it is the same for known and unknown e-mails.
    """
    user, org, factor = verify_login(session, services, email, password, otp, client_ip=client_ip)
    return issue_login_token(session, services, user, org, factor=factor, name=name)


def issue_login_token(
    session: Session, services: Services, user: User, org: Organization, *, factor: str, name: str
) -> LoginResult:
    """The API token of a completed login (scopes from the roles), shown once; audited."""
    token = tokens.new_api_token()
    scopes = role_scopes(user)
    now = utcnow()
    api_token = ApiToken(
        id=ids.new_id("tok"),
        user_id=user.id,
        token_hash=services.secret_box.digest(token),
        scopes=" ".join(sorted(scopes)),
        name=name,
        created_at=now,
        expires_at=now + services.settings.token_lifetime,
        authenticated_at=now,
    )
    repository.add(session, api_token)
    services.audit.record(
        session,
        "account:login:success",
        actor_id=user.id,
        org_id=user.org_id,
        object_id=api_token.id,
        factor=factor,
    )
    return LoginResult(token=token, api_token=api_token, user=user, org=org)


def authenticate_token(
    session: Session, services: Services, token: str, *, client_ip: str = "local"
) -> Principal:
    """The principal behind a Bearer token.

    Raises AuthenticationRequired when it is not valid, TooManyRequests after
    too many invalid tokens from ``client_ip`` or too many calls of one account.
    """
    guard(session, services, "token", ip=client_ip)

    def invalid() -> AuthenticationRequired:
        count_failure(session, services, "token", ip=client_ip)
        return AuthenticationRequired("invalid or expired API token")

    if not token.startswith(tokens.API_TOKEN_PREFIX) or len(token) > 200:
        raise invalid()
    api_token = repository.api_token_by_hash(session, services.secret_box.digest(token))
    now = utcnow()
    if api_token is None or api_token.revoked_at is not None or api_token.expires_at <= now:
        raise invalid()
    user = repository.user_by_id(session, api_token.user_id)
    if user is None or user.status != UserStatus.ACTIVE.value:
        raise invalid()
    wait = services.throttle.hit("token", "account", user.id)
    if wait is not None:
        raise _throttled(session, services, ("token", "account", user.id), wait)
    org = repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=5):
        api_token.last_used_at = now
    return Principal(
        user=user,
        org=org,
        scopes=frozenset(api_token.scopes.split()),
        token_id=api_token.id,
        authenticated_at=api_token.authenticated_at,
    )


def role_scopes(user: User) -> frozenset[str]:
    """The scopes a user's roles allow: send (sender), receive (recipient), all (admin)."""
    return _scopes_of(user.role_set)


def _scopes_of(roles: frozenset[Role]) -> frozenset[str]:
    scopes = {"send"} if Role.SENDER in roles else set()
    if Role.RECIPIENT in roles:
        scopes.add("receive")
    if Role.ADMIN in roles:
        scopes |= ALL_SCOPES
    return frozenset(scopes)


def create_token(
    session: Session,
    services: Services,
    principal: Principal,
    *,
    name: str,
    scopes: set[str],
    lifetime: timedelta | None = None,
) -> tuple[str, ApiToken]:
    """A new API token for the caller, narrower than or equal to the calling token.

    The token is returned once; only its keyed hash is stored. Raises
    InvalidInput for an unknown scope or a lifetime outside (0, token_lifetime],
    PermissionDenied for a scope the calling token does not carry.
    """
    unknown = scopes - ALL_SCOPES
    if unknown or not scopes:
        raise InvalidInput(f"scopes are some of: {', '.join(sorted(ALL_SCOPES))}")
    if not scopes <= principal.scopes:
        raise PermissionDenied("a new token cannot have more scopes than the calling one")
    maximum = services.settings.token_lifetime
    lifetime = lifetime or maximum
    if lifetime <= timedelta(0) or lifetime > maximum:
        raise InvalidInput(f"a token lives at most {maximum.days} days")
    token = tokens.new_api_token()
    now = utcnow()
    api_token = ApiToken(
        id=ids.new_id("tok"),
        user_id=principal.user.id,
        token_hash=services.secret_box.digest(token),
        scopes=" ".join(sorted(scopes)),
        name=name,
        created_at=now,
        expires_at=now + lifetime,
    )
    repository.add(session, api_token)
    services.audit.record(
        session,
        "account:token:create",
        actor_id=principal.user.id,
        org_id=principal.user.org_id,
        object_id=api_token.id,
        scopes=api_token.scopes,
    )
    return token, api_token


def list_tokens(session: Session, principal: Principal) -> list[ApiToken]:
    """The caller's own tokens (never their secrets), newest first."""
    return repository.api_tokens_of(session, principal.user.id)


def revoke_token(session: Session, services: Services, principal: Principal, token_id: str) -> None:
    """Revoke one of the caller's tokens; an org admin may revoke a member's.

    Raises NotFound for an id that is malformed, unknown, or not the caller's
    to revoke (the same answer: no one learns which tokens exist).
    """
    api_token = session.get(ApiToken, token_id) if ids.is_valid(token_id, "tok") else None
    owner = repository.user_by_id(session, api_token.user_id) if api_token else None
    allowed = owner is not None and (
        owner.id == principal.user.id
        or ("admin" in principal.scopes and owner.org_id == principal.user.org_id)
    )
    if api_token is None or owner is None or not allowed:
        raise NotFound("no such token")
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        services.audit.record(
            session,
            "account:token:revoke",
            actor_id=principal.user.id,
            org_id=owner.org_id,
            object_id=api_token.id,
        )


def csrf_token(services: Services, cookie: str) -> str:
    """The CSRF token bound to a session cookie (derived, so nothing more is stored)."""
    return services.secret_box.digest("scelle/v1/csrf\x00" + cookie)


def start_web_session(
    session: Session, services: Services, user: User, *, previous: str | None = None
) -> tuple[str, str]:
    """A new cookie session for ``user``: (cookie value, CSRF token), shown once.

    The id is 256 random bits, stored as a keyed hash; a session the browser
    presented at login (``previous``) is ended, so the id rotates at login.
    """
    if previous:
        end_web_session(session, services, previous)
    cookie = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        user_id=user.id,
        session_hash=services.secret_box.digest(cookie),
        scopes=" ".join(sorted(role_scopes(user))),
        created_at=now,
        last_seen_at=now,
        expires_at=now + services.settings.session_absolute_timeout,
    )
    repository.add(session, row)
    services.audit.record(session, "account:session:start", actor_id=user.id, org_id=user.org_id)
    return cookie, csrf_token(services, cookie)


def authenticate_session(session: Session, services: Services, cookie: str) -> Principal:
    """The principal of a session cookie. Raises AuthenticationRequired when it is not live.

    A session is dead once ended (logout, account disabled), past its absolute
    timeout, or idle longer than ``session_idle_timeout``.
    """
    row = repository.web_session_by_hash(session, services.secret_box.digest(cookie[:200]))
    now = utcnow()
    if (
        row is None
        or row.ended_at is not None
        or row.expires_at <= now
        or now - row.last_seen_at > services.settings.session_idle_timeout
    ):
        raise AuthenticationRequired("the session has ended; log in again")
    user = repository.user_by_id(session, row.user_id)
    if user is None or user.status != UserStatus.ACTIVE.value:
        raise AuthenticationRequired("the session has ended; log in again")
    org = repository.org_by_id(session, user.org_id)
    assert org is not None  # noqa: S101  (foreign key)
    row.last_seen_at = now
    return Principal(
        user=user, org=org, scopes=frozenset(row.scopes.split()), authenticated_at=row.created_at
    )


def end_web_session(session: Session, services: Services, cookie: str) -> None:
    """End the session of ``cookie`` server-side (logout); nothing if it is unknown."""
    row = repository.web_session_by_hash(session, services.secret_box.digest(cookie[:200]))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        services.audit.record(session, "account:session:end", actor_id=row.user_id)


def disable_user(
    session: Session, services: Services, user_id: str, *, actor_id: str | None = None
) -> None:
    """Disable an account: every web session ends and every API token is revoked, now.

    Later logins are refused exactly like a wrong password (same status, body
    and argon2 cost). Raises NotFound for an unknown user.
    """
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound("no such user")
    now = utcnow()
    user.status = UserStatus.DISABLED.value
    repository.end_sessions_of(session, user.id, now)
    repository.revoke_tokens_of(session, user.id, now)
    services.audit.record(
        session, "admin:user:disable", actor_id=actor_id, org_id=user.org_id, object_id=user.id
    )


def enable_user(
    session: Session, services: Services, user_id: str, *, actor_id: str | None = None
) -> None:
    """Re-enable a disabled account (its old sessions and tokens stay dead: log in again).

    Raises NotFound for an unknown user, Conflict when it is not disabled.
    """
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound("no such user")
    if user.status != UserStatus.DISABLED.value:
        raise Conflict(f"this account is {user.status}, not disabled")
    # An account disabled before it enrolled goes back to waiting for its enrolment.
    enrolled = user.password_hash is not None
    user.status = (UserStatus.ACTIVE if enrolled else UserStatus.PENDING).value
    services.audit.record(
        session, "admin:user:enable", actor_id=actor_id, org_id=user.org_id, object_id=user.id
    )


def set_user_roles(
    session: Session,
    services: Services,
    user_id: str,
    roles: set[Role],
    *,
    actor_id: str | None = None,
) -> bool:
    """Replace a user's roles; True when they changed (audited), False when already so.

    A change that takes a permission away takes it away now: the user's web
    sessions end and their API tokens are revoked (they carry the scopes of
    the old roles), so they log in again. One that keeps every scope (an
    admin, who holds them all, losing the sender role) ends nothing; a role
    added shows at their next login. Raises InvalidInput for no role,
    NotFound for an unknown user.
    """
    if not roles:
        raise InvalidInput("a user needs at least one role")
    user = repository.user_by_id(session, user_id)
    if user is None:
        raise NotFound("no such user")
    before = user.role_set
    if before == roles:
        return False
    removed = before - roles
    user.roles = " ".join(sorted(r.value for r in roles))
    if _scopes_of(before) - _scopes_of(frozenset(roles)):
        now = utcnow()
        repository.end_sessions_of(session, user.id, now)
        repository.revoke_tokens_of(session, user.id, now)
    services.audit.record(
        session,
        "admin:user:roles",
        actor_id=actor_id,
        org_id=user.org_id,
        object_id=user.id,
        roles=user.roles,
        removed=" ".join(sorted(r.value for r in removed)),
    )
    return True


def set_member_enabled(
    session: Session, services: Services, principal: Principal, user_id: str, *, enabled: bool
) -> User:
    """An org admin disables or re-enables a member of their own organisation.

    Raises PermissionDenied without the admin scope (whatever the id),
    NotFound for a malformed or unknown id or another organisation's user (one
    answer), Conflict for the caller's own account or a state already reached.
    """
    principal.require("admin")
    user = repository.user_by_id(session, user_id) if ids.is_valid(user_id, "usr") else None
    if user is None or user.org_id != principal.user.org_id:
        raise NotFound("no such user")
    if user.id == principal.user.id:
        raise Conflict("an admin cannot disable or enable their own account")
    if enabled:
        enable_user(session, services, user.id, actor_id=principal.user.id)
    elif user.status == UserStatus.DISABLED.value:
        raise Conflict("this account is disabled already")
    else:
        disable_user(session, services, user.id, actor_id=principal.user.id)
    return user


def logout(session: Session, services: Services, principal: Principal) -> None:
    """Revoke the calling token."""
    if principal.token_id is None:
        return
    api_token = session.get(ApiToken, principal.token_id)
    if api_token is not None and api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        services.audit.record(
            session,
            "account:token:revoke",
            actor_id=principal.user.id,
            org_id=principal.user.org_id,
            object_id=api_token.id,
        )


def totp_secret_text(secret: bytes) -> str:
    """The base32 form an authenticator app takes."""
    return base64.b32encode(secret).decode().rstrip("=")
