"""The web UI's administration pages for an organisation's admins: members and policies.

Server-rendered like every page (strict CSP, no inline script, ``no-store``);
the bundle's ``admin.js`` makes the changes through ``/api/v1/admin/...``
(with the session's CSRF token). Without a session a page answers 303 to
``/login?next=...``; a signed-in member without the ``admin`` scope gets a
403 page that says so, and no data.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from scelle.accounts import members
from scelle.accounts.service import Principal
from scelle.db.models import PolicyAction, Role, UserStatus
from scelle.server.container import Services
from scelle.server.dependencies import DbSession, ServicesDep
from scelle.server.web import _principal, _render, _to_login
from scelle.transfers.service import POLICY_KINDS

__all__ = ["ADMIN_PAGES", "router"]

#: The pages of this module (all need an admin's session).
ADMIN_PAGES = ("/admin", "/admin/users", "/admin/policy")
ROLES = tuple(r.value for r in (Role.SENDER, Role.RECIPIENT, Role.ADMIN))
ACTIONS = tuple(a.value for a in PolicyAction)

router = APIRouter(include_in_schema=False)


def _admin(request: Request, session: DbSession, services: Services) -> Principal | Response:
    """The signed-in admin, or the answer instead: 303 to the sign-in page, or a 403 page."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    if "admin" not in principal.scopes:
        return _render(
            request,
            services,
            "error.html",
            page="error",
            principal=principal,
            status_code=403,
            message_key="admin.forbidden",
        )
    return principal


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The administration landing page: the organisation, its member counts, the sections."""
    principal = _admin(request, session, services)
    if not isinstance(principal, Principal):
        return principal
    listed = members.list_members(session, principal)
    counts = {s.value: sum(1 for m in listed if m.status == s.value) for s in UserStatus}
    return _render(
        request,
        services,
        "admin.html",
        page="admin",
        principal=principal,
        total=len(listed),
        counts=counts,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def admin_users_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The members: a table with their actions, and the form that adds one."""
    principal = _admin(request, session, services)
    if not isinstance(principal, Principal):
        return principal
    return _render(
        request,
        services,
        "admin_users.html",
        page="admin-users",
        principal=principal,
        members=members.list_members(session, principal),
        roles=ROLES,
    )


@router.get("/admin/policy", response_class=HTMLResponse)
def admin_policy_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The send policy (an action per identifier kind) and the passkey-required roles."""
    principal = _admin(request, session, services)
    if not isinstance(principal, Principal):
        return principal
    return _render(
        request,
        services,
        "admin_policy.html",
        page="admin-policy",
        principal=principal,
        policy=members.org_policy(session, principal),
        kinds=POLICY_KINDS,
        actions=ACTIONS,
        roles=ROLES,
    )
