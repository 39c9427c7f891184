"""Accounts HTTP API: enrolment, login (API tokens), logout, the caller's profile."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from scelle.accounts import devices, schemas, service, tokens, totp
from scelle.config import Settings
from scelle.db.models import ApiToken
from scelle.errors import PasskeyRequired
from scelle.keys import service as key_service
from scelle.server.dependencies import (
    SESSION_COOKIE,
    ClientIP,
    CurrentUser,
    DbSession,
    ServicesDep,
)

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/enrol", response_model=schemas.EnrolResponse)
def enrol(
    body: schemas.EnrolRequest, session: DbSession, services: ServicesDep, ip: ClientIP
) -> schemas.EnrolResponse:
    """Use a one-time enrolment token: set the password, get the TOTP seed and recovery codes."""
    result = service.enrol(session, services, body.token, body.password, client_ip=ip)
    return schemas.EnrolResponse(
        user_id=result.user.id,
        email=result.user.email,
        org=result.org.name,
        totp_secret=service.totp_secret_text(result.totp_secret),
        totp_uri=totp.otpauth_uri(result.totp_secret, result.user.email),
        recovery_codes=result.recovery_codes,
    )


def _passkey_required(refusal: PasskeyRequired) -> JSONResponse:
    """The 403 answered *without* raising, so that the request's transaction commits.

    The TOTP step or recovery code was spent and the enrolment ceremony was
    stored: a raised error would roll both back (and make the code reusable).
    """
    return JSONResponse(refusal.to_dict(), status_code=refusal.status)


@router.post(
    "/auth/token", response_model=schemas.LoginResponse, status_code=status.HTTP_201_CREATED
)
def login(
    body: schemas.LoginRequest,
    request: Request,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.LoginResponse | JSONResponse:
    """Password and second factor (TOTP or a recovery code) → a new API token, shown once.

    A member whose role requires a passkey gets ``403 passkey_required`` instead
    (with a one-registration enrolment ceremony while they have no passkey).
    """
    try:
        result = service.login(
            session, services, body.email, body.password, body.otp, name=body.name, client_ip=ip
        )
    except PasskeyRequired as refusal:
        return _passkey_required(refusal)
    devices.notice_request_login(
        session, services, result.user, request.headers, client_ip=ip, method="password"
    )
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


@router.delete("/auth/token", status_code=status.HTTP_204_NO_CONTENT)
def logout(principal: CurrentUser, session: DbSession, services: ServicesDep) -> Response:
    """Revoke the token that makes this call."""
    service.logout(session, services, principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _token_out(api_token: ApiToken) -> dict[str, object]:
    return {
        "id": api_token.id,
        "name": api_token.name,
        "scopes": api_token.scopes.split(),
        "created_at": api_token.created_at,
        "expires_at": api_token.expires_at,
        "last_used_at": api_token.last_used_at,
        "revoked_at": api_token.revoked_at,
    }


@router.post("/tokens", response_model=schemas.CreatedToken, status_code=status.HTTP_201_CREATED)
def create_token(
    body: schemas.CreateTokenRequest,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.CreatedToken:
    """A new scoped, expiring API token (for a script or a device), shown once."""
    lifetime = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, api_token = service.create_token(
        session, services, principal, name=body.name, scopes=set(body.scopes), lifetime=lifetime
    )
    return schemas.CreatedToken(token=token, **_token_out(api_token))


@router.get("/tokens", response_model=schemas.TokenList)
def list_tokens(principal: CurrentUser, session: DbSession) -> schemas.TokenList:
    """The caller's tokens: names, scopes, dates; never the secrets."""
    return schemas.TokenList(
        tokens=[schemas.TokenOut(**_token_out(t)) for t in service.list_tokens(session, principal)]
    )


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(
    token_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> Response:
    """Revoke one of the caller's tokens (an org admin: a member's); 404 otherwise."""
    service.revoke_token(session, services, principal, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def cookie_secure(services: ServicesDep) -> bool:
    """Whether cookies get ``Secure``: whenever the public URL is https."""
    # Plain http is for the embedded local default only; production is https.
    return (services.settings.public_url or "").startswith("https://")


def enrolment_url(settings: Settings, request: Request, token: str) -> str:
    """``<public URL>/enrol#token=<token>`` (the request's base URL without a public URL)."""
    return tokens.enrolment_link(settings.public_url or str(request.base_url), token)


def set_session_cookie(response: Response, services: ServicesDep, cookie: str) -> None:
    """Set the web session cookie: HttpOnly, SameSite=Strict, Secure behind https."""
    secure = cookie_secure(services)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(services.settings.session_absolute_timeout.total_seconds()),
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )


@router.post("/auth/session", response_model=schemas.SessionOut)
def session_login(
    body: schemas.LoginRequest,
    request: Request,
    *,
    response: Response,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.SessionOut | JSONResponse:
    """Web login: password and second factor → a session cookie (rotated) and its CSRF token.

    ``403 passkey_required`` as for ``POST /auth/token``.
    """
    try:
        user, org, _factor = service.verify_login(
            session, services, body.email, body.password, body.otp, client_ip=ip
        )
    except PasskeyRequired as refusal:
        return _passkey_required(refusal)
    cookie, csrf = service.start_web_session(
        session, services, user, previous=request.cookies.get(SESSION_COOKIE)
    )
    set_session_cookie(response, services, cookie)
    return schemas.SessionOut(
        csrf_token=csrf,
        user=schemas.UserOut(
            id=user.id, email=user.email, org=org.name, roles=sorted(user.roles.split())
        ),
    )


@router.delete("/auth/session", status_code=status.HTTP_204_NO_CONTENT)
def session_logout(
    request: Request, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> Response:
    """End the web session server-side (needs the CSRF token) and clear the cookie."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        service.end_web_session(session, services, cookie)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    # Cleared with the flags it was set with: every Set-Cookie is Secure over https.
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=cookie_secure(services),
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/users/{user_id}/disable", response_model=schemas.MemberStatus)
def disable_member(
    user_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.MemberStatus:
    """An org admin disables a member: their sessions end and their tokens are revoked now."""
    user = service.set_member_enabled(session, services, principal, user_id, enabled=False)
    return schemas.MemberStatus(id=user.id, email=user.email, status=user.status)


@router.post("/users/{user_id}/enable", response_model=schemas.MemberStatus)
def enable_member(
    user_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.MemberStatus:
    """An org admin re-enables a disabled member (who then logs in again)."""
    user = service.set_member_enabled(session, services, principal, user_id, enabled=True)
    return schemas.MemberStatus(id=user.id, email=user.email, status=user.status)


@router.get("/me", response_model=schemas.Me)
def me(principal: CurrentUser, session: DbSession) -> schemas.Me:
    """Who the token belongs to, its permissions, and the published key."""
    key = key_service.current_key(session, principal.user.id)
    return schemas.Me(
        id=principal.user.id,
        email=principal.user.email,
        org=principal.org.name,
        roles=sorted(principal.user.roles.split()),
        scopes=sorted(principal.scopes),
        key=key_service.key_out(key) if key else None,
    )


__all__ = ["router", "set_session_cookie"]
