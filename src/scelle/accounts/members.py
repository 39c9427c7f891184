"""An organisation admin's work on their own organisation: members, roles, policies.

Promises:

- every call needs the ``admin`` scope (PermissionDenied otherwise, whatever
  the arguments) and reaches only the caller's own organisation: another
  organisation's user id, an unknown id and a malformed one are one NotFound
  ("no such member"), recorded as ``admin:user:lookup:failure``;
- no lock-out: an admin cannot disable or re-enable themself, take away their
  own admin role, or reset their own passkeys here (Conflict);
- creating a member, changing roles, resetting passkeys and changing a policy
  need a fresh proof of the admin (a login at most ``reauth_window`` old, or
  the password and a second factor given again; see
  :func:`scelle.accounts.passkeys.require_recent_auth`); disabling does not
  (it must be quick when an account is compromised), nor does re-enabling
  (the member still needs their own password and second factor);
- the work itself is done by the services the host commands use
  (``create_user``, ``set_user_roles``, ``set_member_enabled``,
  ``reset_passkeys``, ``set_policy``, ``set_required_roles``), so the web UI,
  the API and ``scelle admin`` behave and audit alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from scelle import ids
from scelle.accounts import passkeys, repository, service
from scelle.accounts.service import Principal
from scelle.db.models import PolicyAction, Role, User, UserStatus
from scelle.errors import Conflict, NotFound
from scelle.keys import repository as keys_repository
from scelle.transfers import service as transfers

if TYPE_CHECKING:
    from scelle.server.container import Services

__all__ = [
    "MemberView",
    "OrgPolicy",
    "Proof",
    "create_member",
    "find_member",
    "list_members",
    "member_view",
    "org_policy",
    "reset_member_passkeys",
    "set_member_enabled",
    "set_member_roles",
    "set_passkey_roles",
    "set_send_policy",
]


@dataclass(frozen=True)
class Proof:
    """The admin's fresh proof, when their login is older than ``reauth_window``."""

    password: str | None = None
    otp: str | None = None
    client_ip: str = "local"


@dataclass(frozen=True)
class MemberView:
    """What an admin sees of a member: never a secret, a key or a hash."""

    id: str
    email: str
    roles: list[str]
    status: str
    created_at: datetime
    enrolled_at: datetime | None
    enrolment_expires_at: datetime | None
    passkeys: int
    key_published: bool


@dataclass(frozen=True)
class OrgPolicy:
    """The organisation's send policy (every identifier kind) and passkey-required roles."""

    org: str
    rules: dict[str, str]
    passkey_roles: list[str]


def _view(user: User, passkey_count: int, key_published: bool) -> MemberView:
    return MemberView(
        id=user.id,
        email=user.email,
        roles=sorted(user.roles.split()),
        status=user.status,
        created_at=user.created_at,
        enrolled_at=user.enrolled_at,
        enrolment_expires_at=user.enrolment_expires_at
        if user.status == UserStatus.PENDING.value
        else None,
        passkeys=passkey_count,
        key_published=key_published,
    )


def _fresh(session: Session, services: Services, principal: Principal, proof: Proof) -> None:
    passkeys.require_recent_auth(
        session,
        services,
        principal,
        password=proof.password,
        otp=proof.otp,
        client_ip=proof.client_ip,
        purpose="to change members or policies",
    )


def list_members(session: Session, principal: Principal) -> list[MemberView]:
    """The caller's organisation's members, by e-mail. Raises PermissionDenied."""
    principal.require("admin")
    org_id = principal.user.org_id
    counts = repository.passkey_counts_of_org(session, org_id)
    with_keys = keys_repository.holders_of_live_keys(session, org_id)
    return [
        _view(user, counts.get(user.id, 0), user.id in with_keys)
        for user in repository.users_of_org(session, org_id)
    ]


def member_view(session: Session, user: User) -> MemberView:
    """One member as :func:`list_members` shows them."""
    count = len(repository.passkeys_of(session, user.id))
    return _view(user, count, keys_repository.current_key(session, user.id) is not None)


def find_member(session: Session, services: Services, principal: Principal, user_id: str) -> User:
    """A member of the caller's organisation.

    Raises PermissionDenied without the admin scope, NotFound (recorded as
    ``admin:user:lookup:failure``) for a malformed or unknown id and for
    another organisation's user alike.
    """
    principal.require("admin")
    valid = ids.is_valid(user_id, "usr")
    user = repository.user_by_id(session, user_id) if valid else None
    if user is None or user.org_id != principal.user.org_id:
        services.audit.record_failure(
            session,
            "admin:user:lookup:failure",
            actor_id=principal.user.id,
            org_id=principal.user.org_id,
            object_id=user_id if valid else None,
        )
        raise NotFound("no such member")
    return user


def create_member(
    session: Session,
    services: Services,
    principal: Principal,
    email: str,
    roles: set[Role],
    *,
    proof: Proof,
) -> tuple[User, str]:
    """A new pending member of the caller's organisation and their one-time enrolment token.

    Only the token's keyed hash is stored; it expires after
    ``enrolment_expiry``. Raises PermissionDenied, ReauthenticationRequired,
    InvalidInput (e-mail, no role) and Conflict (the e-mail has an account).
    """
    principal.require("admin")
    _fresh(session, services, principal, proof)
    return service.create_user(
        session,
        services,
        email,
        org_name=principal.org.name,
        roles=roles,
        actor_id=principal.user.id,
    )


def set_member_roles(
    session: Session,
    services: Services,
    principal: Principal,
    user_id: str,
    roles: set[Role],
    *,
    proof: Proof,
) -> User:
    """Replace a member's roles (see :func:`scelle.accounts.service.set_user_roles`).

    Raises NotFound, Conflict when the admin would take away their own admin
    role, ReauthenticationRequired, InvalidInput (no role).
    """
    user = find_member(session, services, principal, user_id)
    if user.id == principal.user.id and Role.ADMIN not in roles:
        raise Conflict("an admin cannot take away their own admin role (ask another admin)")
    _fresh(session, services, principal, proof)
    service.set_user_roles(session, services, user.id, roles, actor_id=principal.user.id)
    return user


def set_member_enabled(
    session: Session, services: Services, principal: Principal, user_id: str, *, enabled: bool
) -> User:
    """Disable or re-enable a member (see :func:`scelle.accounts.service.set_member_enabled`)."""
    find_member(session, services, principal, user_id)
    return service.set_member_enabled(session, services, principal, user_id, enabled=enabled)


def reset_member_passkeys(
    session: Session, services: Services, principal: Principal, user_id: str, *, proof: Proof
) -> int:
    """Remove every passkey of a member who lost their authenticator: how many.

    Raises NotFound, Conflict for the admin's own account (their own passkeys
    are changed on their passkeys page, with its checks), ReauthenticationRequired.
    """
    user = find_member(session, services, principal, user_id)
    if user.id == principal.user.id:
        raise Conflict("manage your own passkeys on your passkeys page, not as an admin")
    _fresh(session, services, principal, proof)
    return passkeys.reset_passkeys(session, services, user, actor_id=principal.user.id)


def org_policy(session: Session, principal: Principal) -> OrgPolicy:
    """The send policy of the caller's organisation, every kind named, and its passkey roles."""
    principal.require("admin")
    kept = {str(k): str(v) for k, v in transfers.policy(session, principal).rules.items()}
    rules = {kind: kept.get(kind, PolicyAction.ALLOW.value) for kind in transfers.POLICY_KINDS}
    return OrgPolicy(
        org=principal.org.name,
        rules=rules,
        passkey_roles=sorted(principal.org.passkey_roles.split()),
    )


def set_send_policy(
    session: Session,
    services: Services,
    principal: Principal,
    rules: dict[str, str],
    *,
    proof: Proof,
) -> OrgPolicy:
    """Replace the send policy (see :func:`scelle.transfers.service.set_policy`).

    Raises PermissionDenied, ReauthenticationRequired, InvalidInput.
    """
    principal.require("admin")
    _fresh(session, services, principal, proof)
    transfers.set_policy(
        session, services, principal.user.org_id, rules, actor_id=principal.user.id
    )
    return org_policy(session, principal)


def set_passkey_roles(
    session: Session,
    services: Services,
    principal: Principal,
    roles: set[Role],
    *,
    proof: Proof,
) -> OrgPolicy:
    """Require passkeys for ``roles`` (see :func:`scelle.accounts.passkeys.set_required_roles`).

    Raises PermissionDenied, ReauthenticationRequired.
    """
    principal.require("admin")
    _fresh(session, services, principal, proof)
    passkeys.set_required_roles(session, services, principal.org, roles, actor_id=principal.user.id)
    return org_policy(session, principal)
