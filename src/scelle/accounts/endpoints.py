"""Accounts HTTP API: enrolment, login (API tokens), logout, the caller's profile."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from scelle.accounts import schemas, service, totp
from scelle.keys import service as key_service
from scelle.server.dependencies import ClientIP, CurrentUser, DbSession, ServicesDep

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


@router.post(
    "/auth/token", response_model=schemas.LoginResponse, status_code=status.HTTP_201_CREATED
)
def login(
    body: schemas.LoginRequest, session: DbSession, services: ServicesDep, ip: ClientIP
) -> schemas.LoginResponse:
    """Password and second factor (TOTP or a recovery code) → a new API token, shown once."""
    result = service.login(
        session, services, body.email, body.password, body.otp, name=body.name, client_ip=ip
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


__all__ = ["router"]
