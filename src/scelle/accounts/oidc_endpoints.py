"""SSO HTTP API: ``/auth/oidc/start`` (redirect to the provider) and ``/auth/oidc/callback``."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import RedirectResponse

from scelle.accounts import devices, oidc, schemas
from scelle.server.dependencies import DbSession, ServicesDep

router = APIRouter(prefix="/api/v1/auth/oidc", tags=["accounts"])


@router.get("/start", status_code=status.HTTP_302_FOUND, response_class=RedirectResponse)
def start(session: DbSession, services: ServicesDep) -> RedirectResponse:
    """Send the browser to the provider, with a fresh state, nonce and PKCE challenge."""
    return RedirectResponse(oidc.start(session, services), status_code=status.HTTP_302_FOUND)


@router.get("/callback", response_model=schemas.LoginResponse)
def callback(  # noqa: PLR0917  (FastAPI passes query parameters by name)
    request: Request,
    session: DbSession,
    services: ServicesDep,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
) -> schemas.LoginResponse:
    """Finish the SSO login: a new API token, as the password + second-factor login gives."""
    # The state is spent for good even when the login fails (see oidc.claim):
    # a failed login cannot be replayed.
    claimed = oidc.claim(session, services, state)
    result = oidc.finish(session, services, claimed, code=code, error=error)
    devices.notice_login(
        session,
        services,
        result.user,
        device_id=request.headers.get(devices.DEVICE_HEADER),
        user_agent=request.headers.get("user-agent"),
        client_ip=request.client.host if request.client else None,
        method="sso",
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


__all__ = ["router"]
