"""The web UI's oversight pages: audit view, retention, organisations, breach register.

Server-rendered like the other pages (``web._render``: strict CSP, no inline
script, ``Cache-Control: no-store``); the tables and the audit filter work
without JavaScript; the bundle only drives the create-organisation form (it
calls ``POST /api/v1/admin/orgs`` with the CSRF token). Who sees what is
``accounts.oversight``'s rule, the same as the API's: an organisation's admin
sees their organisation's audit and retention; the operator's admins also see
the organisations and the breach register. Signed out: 303 to ``/login``;
not allowed: a 403 page that says so.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scelle.accounts import organisations
from scelle.accounts.service import Principal
from scelle.audit.admin_endpoints import audit_page
from scelle.audit.service import MAX_EVENTS_PAGE
from scelle.breach import service as breach
from scelle.breach.endpoints import assessment_out, register_entry
from scelle.db.base import utcnow
from scelle.errors import InvalidInput, NotFound
from scelle.server import web
from scelle.server.admin_web import admin_page, signed_in_admin
from scelle.server.dependencies import DbSession, ServicesDep
from scelle.transfers import service as transfers

__all__ = ["SESSION_PAGES", "router"]

# Pages that need a session: without one they answer 303 to /login (and no data).
SESSION_PAGES = (
    "/admin/audit",
    "/admin/retention",
    "/admin/orgs",
    "/admin/breach",
    "/admin/breach/{assessment_id}",
)

router = APIRouter(include_in_schema=False)
AUDIT_PAGE_SIZE = min(50, MAX_EVENTS_PAGE)


_UNITS = {
    "fr": ((86400, "jour", "jours"), (3600, "heure", "heures"), (60, "minute", "minutes")),
    "en": ((86400, "day", "days"), (3600, "hour", "hours"), (60, "minute", "minutes")),
}


def _duration(seconds: float, lang: str) -> str:
    """A setting's duration in its largest whole unit (``7 jours`` / ``7 days``, ``90 s``)."""
    value = int(seconds)
    for size, one, many in _UNITS.get(lang, _UNITS["fr"]):
        if value and value == seconds and value % size == 0:
            count = value // size
            return f"{count} {one if count == 1 else many}"
    return f"{seconds:g} s"


def _left(seconds: int) -> str:
    """Time left as hours and minutes (``51 h 12 min``), of a deadline's absolute distance."""
    value = abs(seconds) // 60
    return f"{value // 60} h {value % 60:02d} min"


web._templates.filters["duration"] = _duration
web._templates.filters["left"] = _left


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_view(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The organisation's audit events (filter by action and period, paged) and the checkpoint."""
    principal = signed_in_admin(request, session, services, operator=False)
    if not isinstance(principal, Principal):
        return principal
    query = request.query_params
    filters = {name: (query.get(name) or "").strip()[:64] for name in ("action", "from", "to")}
    cursor = (query.get("cursor") or "").strip()[:100]
    try:
        result = audit_page(
            session,
            principal.org.id,
            principal.org.name,
            action=filters["action"] or None,
            start=filters["from"] or None,
            end=filters["to"] or None,
            cursor=cursor or None,
            limit=AUDIT_PAGE_SIZE,
        )
    except InvalidInput:
        return admin_page(
            request,
            services,
            principal,
            "admin_audit.html",
            page="admin-audit",
            status_code=422,
            filters=filters,
            result=None,
            bad_filter=True,
        )
    return admin_page(
        request,
        services,
        principal,
        "admin_audit.html",
        page="admin-audit",
        filters=filters,
        result=result,
        bad_filter=False,
    )


@router.get("/admin/retention", response_class=HTMLResponse)
def retention_view(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The expiry settings and the organisation's transfers by time left (counts only)."""
    principal = signed_in_admin(request, session, services, operator=False)
    if not isinstance(principal, Principal):
        return principal
    retention = transfers.retention(session, services, principal.org)
    return admin_page(
        request,
        services,
        principal,
        "admin_retention.html",
        page="admin-retention",
        retention=retention,
    )


@router.get("/admin/orgs", response_class=HTMLResponse)
def organisations_view(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """Every organisation (operator only); the bundle drives the create form."""
    principal = signed_in_admin(request, session, services, operator=True)
    if not isinstance(principal, Principal):
        return principal
    return admin_page(
        request,
        services,
        principal,
        "admin_orgs.html",
        page="admin-orgs",
        organisations=organisations.summaries(session),
    )


@router.get("/admin/breach", response_class=HTMLResponse)
def breach_register_view(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The breach register (operator only); reading it is audited."""
    principal = signed_in_admin(request, session, services, operator=True)
    if not isinstance(principal, Principal):
        return principal
    now = utcnow()
    entries = [register_entry(e, now) for e in breach.view_register(session, services, principal)]
    return admin_page(
        request, services, principal, "admin_breach.html", page="admin-breach", entries=entries
    )


@router.get("/admin/breach/{assessment_id}", response_class=HTMLResponse)
def breach_assessment_view(
    assessment_id: str, request: Request, session: DbSession, services: ServicesDep
) -> Response:
    """One assessment: its time line and the draft notice, in the page's language (audited)."""
    principal = signed_in_admin(request, session, services, operator=True)
    if not isinstance(principal, Principal):
        return principal
    lang = web._language(request)
    try:
        report = breach.read_assessment(session, services, principal, assessment_id[:40])
    except NotFound:
        return web._render(
            request,
            services,
            "error.html",
            page="error",
            principal=principal,
            status_code=404,
            message_key="admin.breach.not_found",
            back_href="/admin/breach",
            back_key="admin.breach.back",
        )
    assessment = assessment_out(report, lang, utcnow())
    return admin_page(
        request,
        services,
        principal,
        "admin_breach_detail.html",
        page="admin-breach-detail",
        assessment=assessment,
    )
