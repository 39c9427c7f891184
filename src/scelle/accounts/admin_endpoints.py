"""An organisation admin's HTTP API: members, roles, send policy, passkey-required roles.

Every route needs the ``admin`` scope (403 before anything else is looked at)
and reaches only the caller's own organisation: another organisation's member
and an unknown id are the same 404. Changes that grant access or change a
policy need a recent login or ``{password, otp}`` in the body (403
``reauthentication_required`` otherwise); see :mod:`scelle.accounts.members`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from scelle.accounts import members, schemas
from scelle.accounts.endpoints import enrolment_url
from scelle.accounts.service import Principal
from scelle.db.models import Role
from scelle.server.dependencies import ClientIP, CurrentUser, DbSession, ServicesDep

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


def admin_user(principal: CurrentUser) -> Principal:
    """The caller, when their token or session carries the ``admin`` scope; 403 otherwise."""
    principal.require("admin")
    return principal


AdminUser = Annotated[Principal, Depends(admin_user)]


def _proof(body: schemas.Reauthentication | None, ip: str) -> members.Proof:
    if body is None:
        return members.Proof(client_ip=ip)
    return members.Proof(password=body.password, otp=body.otp, client_ip=ip)


def _member_out(view: members.MemberView) -> schemas.MemberOut:
    return schemas.MemberOut.model_validate(view, from_attributes=True)


def _policy_out(policy: members.OrgPolicy) -> schemas.OrgPolicyOut:
    return schemas.OrgPolicyOut.model_validate(policy, from_attributes=True)


def _roles(names: list[schemas.RoleName]) -> set[Role]:
    return {Role(name) for name in names}


@router.get("/users", response_model=schemas.MemberList)
def list_members(principal: AdminUser, session: DbSession) -> schemas.MemberList:
    """The organisation's members: roles, status, dates, passkeys, whether a key is published."""
    return schemas.MemberList(
        org=principal.org.name,
        members=[_member_out(v) for v in members.list_members(session, principal)],
    )


@router.post("/users", response_model=schemas.CreatedMember, status_code=status.HTTP_201_CREATED)
def create_member(
    body: schemas.CreateMemberRequest,
    request: Request,
    *,
    principal: AdminUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.CreatedMember:
    """A new member and their one-time enrolment token and link, shown once (409: e-mail taken)."""
    user, token = members.create_member(
        session, services, principal, body.email, _roles(body.roles), proof=_proof(body, ip)
    )
    assert user.enrolment_expires_at is not None  # noqa: S101  (a new pending user)
    return schemas.CreatedMember(
        member=_member_out(members.member_view(session, user)),
        enrolment_token=token,
        enrolment_expires_at=user.enrolment_expires_at,
        enrolment_url=enrolment_url(services.settings, request, token),
    )


@router.put("/users/{user_id}/roles", response_model=schemas.MemberOut)
def set_roles(
    user_id: str,
    body: schemas.SetRolesRequest,
    *,
    principal: AdminUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.MemberOut:
    """Replace a member's roles; a permission taken away ends their sessions and tokens now."""
    user = members.set_member_roles(
        session, services, principal, user_id, _roles(body.roles), proof=_proof(body, ip)
    )
    return _member_out(members.member_view(session, user))


@router.post("/users/{user_id}/disable", response_model=schemas.MemberOut)
def disable_member(
    user_id: str, principal: AdminUser, session: DbSession, services: ServicesDep
) -> schemas.MemberOut:
    """Disable a member now: their sessions end and their tokens are revoked (409: yourself)."""
    user = members.set_member_enabled(session, services, principal, user_id, enabled=False)
    return _member_out(members.member_view(session, user))


@router.post("/users/{user_id}/enable", response_model=schemas.MemberOut)
def enable_member(
    user_id: str, principal: AdminUser, session: DbSession, services: ServicesDep
) -> schemas.MemberOut:
    """Re-enable a disabled member (who then logs in again)."""
    user = members.set_member_enabled(session, services, principal, user_id, enabled=True)
    return _member_out(members.member_view(session, user))


@router.post("/users/{user_id}/passkeys/reset", response_model=schemas.PasskeysReset)
def reset_passkeys(
    user_id: str,
    *,
    principal: AdminUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
    body: schemas.Reauthentication | None = None,
) -> schemas.PasskeysReset:
    """Remove every passkey of a member who lost their authenticator (not your own: 409)."""
    removed = members.reset_member_passkeys(
        session, services, principal, user_id, proof=_proof(body, ip)
    )
    return schemas.PasskeysReset(id=user_id, removed=removed)


@router.get("/policy", response_model=schemas.OrgPolicyOut)
def read_policy(principal: AdminUser, session: DbSession) -> schemas.OrgPolicyOut:
    """The send policy (every identifier kind) and the roles that must use a passkey."""
    return _policy_out(members.org_policy(session, principal))


@router.put("/policy/send", response_model=schemas.OrgPolicyOut)
def set_send_policy(
    body: schemas.SendPolicyRequest,
    principal: AdminUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.OrgPolicyOut:
    """Replace the send policy: per identifier kind allow, warn, purpose or block."""
    rules = {str(kind): str(action) for kind, action in body.rules.items()}
    policy = members.set_send_policy(session, services, principal, rules, proof=_proof(body, ip))
    return _policy_out(policy)


@router.put("/policy/passkeys", response_model=schemas.OrgPolicyOut)
def set_passkey_roles(
    body: schemas.PasskeyPolicyRequest,
    principal: AdminUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.OrgPolicyOut:
    """Require passkeys for these roles (their TOTP logins are then refused); empty: none."""
    policy = members.set_passkey_roles(
        session, services, principal, _roles(body.roles), proof=_proof(body, ip)
    )
    return _policy_out(policy)
