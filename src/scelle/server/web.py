"""The web UI: server-rendered pages (Jinja2) and the browser bundle that encrypts.

The pages show only what the API shows (ids, addresses, dates, sizes); file
names and notes are encrypted and decrypted by the bundle in the browser.
Every page carries a strict Content-Security-Policy (``default-src 'self'``,
no inline script), the bundle is loaded with Subresource Integrity (its
SHA-384 computed when the app starts, from the very bytes it serves), and a
page that needs a session redirects to ``/login`` without one.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from scelle import ids
from scelle.accounts import oidc, passkeys
from scelle.accounts.service import Principal, authenticate_session, csrf_token
from scelle.anomaly import service as anomaly
from scelle.errors import AuthenticationRequired, Gone, NotFound, ScelleError
from scelle.keys import repository as keys_repository
from scelle.server import i18n
from scelle.server.container import Services
from scelle.server.dependencies import SESSION_COOKIE, DbSession, ServicesDep
from scelle.server.redirects import local_path
from scelle.transfers import service as transfers

__all__ = ["PAGE_CSP", "SESSION_PAGES", "WebAssets", "error_page", "load_assets", "router"]

log = logging.getLogger(__name__)

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
LANG_COOKIE = "scelle_lang"
# Pages that need a session: without one they answer 303 to /login (and no data).
SESSION_PAGES = (
    "/identity",
    "/inbox",
    "/sent",
    "/send",
    "/keys",
    "/transfers/{transfer_id}",
    "/passkeys",
    # server/admin_web.py (ADMIN_PAGES): a member without the admin scope gets a 403 page.
    "/admin",
    "/admin/users",
    "/admin/policy",
)

_STATIC_TYPES = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    # The bundle's hashing worker (web/src/hash-worker.js): same origin, no SRI (browsers
    # take no integrity for a Worker); as much the server's code as the bundle is.
    "hash.js": "text/javascript; charset=utf-8",
}

router = APIRouter(include_in_schema=False)
_templates = Environment(
    loader=PackageLoader("scelle.server", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _size(value: int) -> str:
    size = float(value)
    for unit in ("o", "Kio", "Mio", "Gio"):
        if size < 1024 or unit == "Gio":
            return f"{size:.0f} {unit}" if unit == "o" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} Gio"


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_templates.filters["size"] = _size
_templates.filters["when"] = _when


@dataclass(frozen=True)
class WebAssets:
    """The static files, read once, and the SRI hash of each (None when not built)."""

    files: dict[str, bytes]
    integrity: dict[str, str]

    def sri(self, name: str) -> str | None:
        return self.integrity.get(name)


def load_assets() -> WebAssets:
    """Read ``server/static/``; a missing bundle is logged (pages then say it is not built)."""
    files: dict[str, bytes] = {}
    folder = resources.files("scelle.server") / "static"
    for name in _STATIC_TYPES:
        entry = folder / name
        if entry.is_file():
            files[name] = entry.read_bytes()
    if "app.js" not in files:
        log.warning("the web UI bundle is not built (web/: npm ci && npm run build)")
    integrity = {
        name: "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")
        for name, data in files.items()
    }
    return WebAssets(files=files, integrity=integrity)


def _assets(request: Request) -> WebAssets:
    assets: WebAssets | None = getattr(request.app.state, "web_assets", None)
    if assets is None:
        assets = load_assets()
        request.app.state.web_assets = assets
    return assets


def _language(request: Request) -> str:
    return i18n.negotiate(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def _headers(services: Services) -> dict[str, str]:
    headers = {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
    if (services.settings.public_url or "").startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def _render(
    request: Request,
    services: Services,
    template: str,
    *,
    page: str,
    principal: Principal | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    language = _language(request)
    t = i18n.translator(language)
    assets = _assets(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    html = _templates.get_template(template).render(
        t=t,
        lang=language,
        other_lang="en" if language == "fr" else "fr",
        page=page,
        path=request.url.path,
        principal=principal,
        csrf=csrf_token(services, cookie) if principal is not None and cookie else "",
        script_sri=assets.sri("app.js"),
        style_sri=assets.sri("app.css"),
        messages=json.dumps(i18n.browser_messages(language), ensure_ascii=False).replace(
            "<", "\\u003c"
        ),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=_headers(services))
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, language, max_age=365 * 24 * 3600, httponly=True, samesite="strict"
        )
    return response


def _principal(request: Request, session: DbSession, services: Services) -> Principal | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return authenticate_session(session, services, cookie)
    except AuthenticationRequired:
        return None


def _to_login(request: Request) -> RedirectResponse:
    target = "/login?next=" + quote(request.url.path, safe="/")
    return RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})


def _error_page(
    request: Request, services: Services, principal: Principal | None, exc: ScelleError
) -> HTMLResponse:
    key = {404: "error.not_found", 410: "transfer.gone"}.get(exc.status, "error.generic")
    return _render(
        request,
        services,
        "error.html",
        page="error",
        principal=principal,
        status_code=exc.status,
        message_key=key,
    )


def error_page(request: Request, exc: ScelleError) -> HTMLResponse:
    """A refused browser step of the sign-in (SSO) as a page, with the error's status.

    Used by the error handler for requests marked ``request.state.html_errors``;
    the page says what to do and links back to the sign-in page.
    """
    services: Services = request.app.state.services
    key = {
        401: "sso.refused",
        404: "sso.off",
        429: "error.throttled",
        503: "sso.unavailable",
    }.get(exc.status, "error.generic")
    response = _render(
        request,
        services,
        "error.html",
        page="error",
        status_code=exc.status,
        message_key=key,
        back_href="/login",
        back_key="sso.back",
    )
    if exc.status in (429, 503):
        response.headers["Retry-After"] = str(getattr(exc, "retry_after", 60))
    return response


# -- public pages and files ---------------------------------------------------------


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    """The web UI starts at the inbox (which sends to /login without a session)."""
    return RedirectResponse("/inbox", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, services: ServicesDep) -> HTMLResponse:
    """Sign in: password and TOTP or a recovery code, or password and passkey.

    The bundle posts to /api/v1/auth/session, or runs the passkey ceremony
    (/api/v1/auth/passkey/begin, navigator.credentials.get, .../session); a
    role that requires passkeys answers with an enrolment the page completes.
    """
    settings = services.settings
    return _render(
        request,
        services,
        "login.html",
        page="login",
        sso_name=oidc.provider_name(settings) if oidc.enabled(settings) else None,
    )


@router.get("/login/sso", response_class=HTMLResponse)
def sso_landing_page(request: Request, services: ServicesDep) -> HTMLResponse:
    """Where an SSO web sign-in lands (no data): on at once to the browser key, then the inbox.

    The callback is reached from the provider's site, and the browser does
    not send the ``SameSite=Strict`` session cookie on a redirect that began
    there; this page's own navigation (a meta refresh, or its link) starts on
    this site, so the inbox gets the cookie. ``?next=`` (a local path, as the
    callback passes on from the sign-in page) replaces the inbox.
    """
    target = local_path(request.query_params.get("next")) or "/inbox"
    return _render(
        request, services, "sso.html", page="sso", then="/identity?next=" + quote(target, safe="/")
    )


@router.get("/enrol", response_class=HTMLResponse)
def enrol_page(request: Request, services: ServicesDep) -> HTMLResponse:
    """First use of an account: the one-time enrolment token, then password and factors.

    The token comes in the link's fragment (``/enrol#token=...``), which the
    browser never sends: it reaches the server only in the bundle's POST to
    /api/v1/enrol. The page then shows the TOTP seed and the recovery codes
    once, signs in with a first code, offers (or, when the role requires it,
    asks for) a passkey, and goes on to the browser key.
    """
    return _render(request, services, "enrol.html", page="enrol")


@router.get("/static/{name}")
def static_file(name: str, request: Request) -> Response:
    """The bundle, its hashing worker, the style sheet (only these names), as read at start."""
    data = _assets(request).files.get(name)
    if data is None:
        return Response(status_code=404, content=b"", media_type="text/plain")
    return Response(data, media_type=_STATIC_TYPES[name], headers={"Cache-Control": "no-cache"})


@router.get("/p/{transfer_id}", response_class=HTMLResponse)
def patient_page(transfer_id: str, request: Request, services: ServicesDep) -> HTMLResponse:
    """A patient link: asks for the passphrase; the bundle fetches, verifies and decrypts.

    The page itself says nothing about the transfer (the same form for any
    id): what exists, and whether it expired, comes from /api/v1/links.
    """
    return _render(
        request,
        services,
        "patient.html",
        page="patient",
        transfer_id=transfer_id if ids.is_valid(transfer_id, "tr") else "",
    )


# -- pages with a session -----------------------------------------------------------------


@router.get("/identity", response_class=HTMLResponse)
def identity_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """Create the browser identity, or unlock the wrapped one."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    key = keys_repository.current_key(session, principal.user.id)
    wrapped = keys_repository.wrapped_identity(session, principal.user.id)
    return _render(
        request,
        services,
        "identity.html",
        page="identity",
        principal=principal,
        key=key,
        has_wrapped=wrapped is not None,
    )


def _box_page(
    request: Request, session: DbSession, services: ServicesDep, box: str, scope: str
) -> Response:
    """The inbox or sent page: the caller's transfers of ``box``, when it holds ``scope``."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    rows = []
    if scope in principal.scopes:
        try:
            anomaly.guard(session, services, principal, "listing")
        except ScelleError as exc:
            return _error_page(request, services, principal, exc)
        rows = [transfers.describe(session, t) for t in transfers.list_box(session, principal, box)]
    return _render(request, services, f"{box}.html", page=box, principal=principal, transfers=rows)


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """Received transfers; their names are decrypted by the bundle."""
    return _box_page(request, session, services, "inbox", "receive")


@router.get("/sent", response_class=HTMLResponse)
def sent_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """Sent transfers (no names: the metadata is encrypted to the recipients only)."""
    return _box_page(request, session, services, "sent", "send")


@router.get("/send", response_class=HTMLResponse)
def send_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """Choose recipients, expiry and limit; the bundle encrypts, signs and uploads."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    return _render(request, services, "send.html", page="send", principal=principal)


@router.get("/transfers/{transfer_id}", response_class=HTMLResponse)
def transfer_page(
    transfer_id: str, request: Request, session: DbSession, services: ServicesDep
) -> Response:
    """One transfer: the bundle verifies, decrypts and saves it."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    try:
        anomaly.guard(session, services, principal, None)
        transfer, _ = transfers.visible(session, services, principal, transfer_id)
        if transfer.status == "purged" or transfers.is_expired(transfer):
            raise Gone()
    except (NotFound, Gone) as exc:
        return _error_page(request, services, principal, exc)
    except ScelleError as exc:
        return _error_page(request, services, principal, exc)
    return _render(
        request,
        services,
        "transfer.html",
        page="transfer",
        principal=principal,
        transfer=transfers.describe(session, transfer),
    )


@router.get("/keys", response_class=HTMLResponse)
def keys_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """Correspondents' keys pinned in this browser, compared with the directory.

    The pins are the browser's (localStorage); the bundle lists them, flags a
    pin the directory no longer shows, and lets a sender look a person up and
    pin the key after comparing its fingerprint out of band.
    """
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    return _render(
        request,
        services,
        "keys.html",
        page="keys",
        principal=principal,
        key=keys_repository.current_key(session, principal.user.id),
        can_lookup="send" in principal.scopes,
    )


@router.get("/passkeys", response_class=HTMLResponse)
def passkeys_page(request: Request, session: DbSession, services: ServicesDep) -> Response:
    """The caller's passkeys: listed here; added and removed by the bundle through the API."""
    principal = _principal(request, session, services)
    if principal is None:
        return _to_login(request)
    return _render(
        request,
        services,
        "passkeys.html",
        page="passkeys",
        principal=principal,
        passkeys=[passkeys.passkey_out(p) for p in passkeys.list_passkeys(session, principal)],
        required=passkeys.required_for(session, principal.user),
        reauth_intro="reauth.intro",
    )
