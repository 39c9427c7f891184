"""SSO HTTP API: ``/auth/oidc/start`` (redirect to the provider) and ``/auth/oidc/callback``.

Two ways through: an API login (``mode=token``, the default) ends in a new
API token in the callback's JSON body; a web sign-in (``mode=web``, the
sign-in page's button) ends in the web session cookie. A web sign-in is
bound to its browser by the ``scelle_oidc`` cookie set at the start
(``SameSite=Lax``: the provider's redirect back is a cross-site top-level
navigation, which a ``Strict`` cookie would not follow).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import RedirectResponse

from scelle.accounts import devices, oidc, schemas
from scelle.accounts.endpoints import cookie_secure, set_session_cookie
from scelle.db.models import User
from scelle.server.dependencies import SESSION_COOKIE, ClientIP, DbSession, ServicesDep
from scelle.server.redirects import local_path

router = APIRouter(prefix="/api/v1/auth/oidc", tags=["accounts"])

OIDC_COOKIE = "scelle_oidc"
# The local page a web sign-in goes on to (validated when set and when read).
NEXT_COOKIE = "scelle_oidc_next"
_COOKIE_PATH = "/api/v1/auth/oidc"
# Where a web sign-in lands: a page of this site that goes on by itself, so that
# the next page is reached by a same-site navigation and gets the session cookie.
WEB_LANDING = "/login/sso"


def _browser_errors(request: Request) -> None:
    """Refusals of this request are shown as a page (a person's browser), not as JSON."""
    request.state.html_errors = True


@router.get("/start", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def start(
    request: Request,
    session: DbSession,
    services: ServicesDep,
    mode: Literal["token", "web"] = "token",
    next: Annotated[str | None, Query(max_length=256)] = None,  # noqa: A002  (the page's name)
) -> RedirectResponse:
    """Send the browser to the provider, with a fresh state, nonce and PKCE challenge.

    ``mode=web`` (the sign-in page) also binds the login to this browser with
    a short-lived cookie; its callback then ends in a web session, and goes on
    to ``next`` when it is a local path (kept meanwhile in a cookie of its own).
    """
    if mode == "token":
        return RedirectResponse(oidc.start(session, services), status_code=status.HTTP_302_FOUND)
    _browser_errors(request)
    secret = secrets.token_urlsafe(32)
    response = RedirectResponse(
        oidc.start(session, services, browser_secret=secret),
        status_code=status.HTTP_302_FOUND,
        headers={"Cache-Control": "no-store"},
    )
    kept = {OIDC_COOKIE: secret, NEXT_COOKIE: local_path(next)}
    for name, value in kept.items():
        if value is not None:
            response.set_cookie(
                name,
                value,
                max_age=int(services.settings.oidc_login_lifetime.total_seconds()),
                path=_COOKIE_PATH,
                secure=cookie_secure(services),
                httponly=True,
                samesite="lax",
            )
    return response


@router.get("/callback", response_model=schemas.LoginResponse)
def callback(  # noqa: PLR0917  (FastAPI passes query parameters by name)
    request: Request,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> schemas.LoginResponse | Response:
    """Finish the SSO login: a new API token, or for a web sign-in the session cookie.

    A web sign-in answers ``303`` to the landing page with the session cookie
    (and clears ``scelle_oidc``). Refusals are an HTML page with the error's
    status for a browser (the binding cookie, or ``Accept: text/html``), JSON
    otherwise. An API login answers the same body as the password +
    second-factor login.
    """
    browser_secret = request.cookies.get(OIDC_COOKIE)
    if browser_secret is not None or "text/html" in request.headers.get("accept", ""):
        _browser_errors(request)
    # The state is spent for good even when the login fails (see oidc.claim):
    # a failed login cannot be replayed.
    claimed = oidc.claim(session, services, state, browser_secret=browser_secret)
    if claimed.web:
        web = oidc.finish_web(
            session,
            services,
            claimed,
            code=code,
            error=error,
            previous=request.cookies.get(SESSION_COOKIE),
        )
        _notice(request, session, services, web.user, ip)
        target = local_path(request.cookies.get(NEXT_COOKIE))
        response = RedirectResponse(
            WEB_LANDING if target is None else f"{WEB_LANDING}?next={quote(target, safe='/')}",
            status_code=status.HTTP_303_SEE_OTHER,
            headers={"Cache-Control": "no-store"},
        )
        set_session_cookie(response, services, web.cookie)
        for name in (OIDC_COOKIE, NEXT_COOKIE):
            response.delete_cookie(
                name,
                path=_COOKIE_PATH,
                secure=cookie_secure(services),
                httponly=True,
                samesite="lax",
            )
        return response
    result = oidc.finish(session, services, claimed, code=code, error=error)
    _notice(request, session, services, result.user, ip)
    return schemas.LoginResponse(
        token=result.token,
        token_id=result.api_token.id,
        expires_at=result.api_token.expires_at,
        user=schemas.UserOut(
            id=result.user.id,
            email=result.user.email,
            org=result.org.name,
            roles=sorted(result.user.roles.split()),
        ),
    )


def _notice(
    request: Request, session: DbSession, services: ServicesDep, user: User, ip: str
) -> None:
    devices.notice_request_login(
        session, services, user, request.headers, client_ip=ip, method="sso"
    )


__all__ = ["OIDC_COOKIE", "WEB_LANDING", "router"]
