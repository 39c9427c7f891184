"""The web UI's administration pages for an organisation's admins: members and policies.

Server-rendered like every page (strict CSP, no inline script, ``no-store``);
the bundle's ``admin.js`` makes the changes through ``/api/v1/admin/...``
(with the session's CSRF token). Without a session a page answers 303 to
``/login?next=...``; a signed-in member without the ``admin`` scope gets a
403 page that says so, and no data.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from scelle.accounts import members, oversight
from scelle.accounts.service import Principal
from scelle.db.models import PolicyAction, Role, UserStatus
from scelle.errors import PermissionDenied
from scelle.server.container import Services
from scelle.server.dependencies import DbSession, ServicesDep
from scelle.server.web import _principal, _render, _to_login
from scelle.transfers.service import POLICY_KINDS

__all__ = ["ADMIN_PAGES", "admin_page", "forbidden", "router", "signed_in_admin"]

#: The pages of this module (all need an admin's session).
ADMIN_PAGES = ("/admin", "/admin/users", "/admin/policy")
ROLES = tuple(r.value for r in (Role.SENDER, Role.RECIPIENT, Role.ADMIN))
ACTIONS = tuple(a.value for a in PolicyAction)

router = APIRouter(include_in_schema=False)


def forbidden(request: Request, services: Services, principal: Principal, key: str) -> HTMLResponse:
    """The 403 page of an admin page (``key`` says who may see it), with no data."""
    return _render(
        request,
        services,
        "error.html",
        page="error",
        principal=principal,
        status_code=403,
        message_key=key,
    )


def signed_in_admin(
    request: Request, session: DbSession, services: Services, *, operator: bool = False
) -> Principal | Response:
    """The signed-in admin (of the operator's organisation with ``operator``), or the answer
    instead: 303 to the sign-in page, or the 403 page. The rule is ``accounts.oversight``'s,
    the same as the admin API's."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    try:
        if operator:
            oversight.require_operator(principal, services.settings)
        else:
            oversight.require_admin(principal)
    except PermissionDenied:
        return forbidden(
            request, services, principal, "admin.operator_only" if operator else "admin.forbidden"
        )
    return principal


def admin_page(
    request: Request,
    services: Services,
    principal: Principal,
    template: str,
    *,
    page: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """An admin page: its sub-navigation shows the operator's sections to the operator only."""
    return _render(
        request,
        services,
        template,
        page=page,
        principal=principal,
        status_code=status_code,
        operator=oversight.is_operator(principal, services.settings),
        **context,
    )


@router.get("/admin", response_class=HTMLResponse)
def admin_landing_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The administration landing page: the organisation, its member counts, the sections."""
    principal = signed_in_admin(request, session, services)
    if not isinstance(principal, Principal):
        return principal
    listed = members.list_members(session, principal)
    counts = {s.value: sum(1 for m in listed if m.status == s.value) for s in UserStatus}
    return admin_page(
        request,
        services,
        principal,
        "admin.html",
        page="admin",
        total=len(listed),
        counts=counts,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The members: a table with their actions, and the form that adds one."""
    principal = signed_in_admin(request, session, services)
    if not isinstance(principal, Principal):
        return principal
    return admin_page(
        request,
        services,
        principal,
        "admin_users.html",
        page="admin-users",
        members=members.list_members(session, principal),
        roles=ROLES,
    )


@router.get("/admin/policy", response_class=HTMLResponse)
def admin_policy_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The send policy (an action per identifier kind) and the passkey-required roles."""
    principal = signed_in_admin(request, session, services)
    if not isinstance(principal, Principal):
        return principal
    return admin_page(
        request,
        services,
        principal,
        "admin_policy.html",
        page="admin-policy",
        policy=members.org_policy(session, principal),
        kinds=POLICY_KINDS,
        actions=ACTIONS,
        roles=ROLES,
    )
