"""Passkey HTTP API: register, list and remove (logged in); log in with password + passkey.

Every body and answer is JSON a browser hands to (and takes from)
``navigator.credentials``: options as the ``webauthn`` library's
``options_to_json`` writes them, credentials as ``PublicKeyCredential.toJSON()``
(binary fields base64url).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from scelle.accounts import devices, passkeys, schemas, service
from scelle.accounts.endpoints import set_session_cookie
from scelle.db.models import ChallengePurpose
from scelle.server.dependencies import (
    SESSION_COOKIE,
    ClientIP,
    CurrentUser,
    DbSession,
    ServicesDep,
)

router = APIRouter(prefix="/api/v1", tags=["passkeys"])


def _ceremony_out(ceremony: passkeys.Ceremony) -> schemas.CeremonyOut:
    return schemas.CeremonyOut(
        challenge_id=ceremony.challenge_id,
        options=ceremony.options,
        expires_at=ceremony.expires_at,
    )


def _passkey_out(passkey: Any) -> schemas.PasskeyOut:
    return schemas.PasskeyOut(**passkeys.passkey_out(passkey))


@router.get("/passkeys", response_model=schemas.PasskeyList)
def list_passkeys(principal: CurrentUser, session: DbSession) -> schemas.PasskeyList:
    """The caller's passkeys: names, credential ids, dates; never the keys."""
    return schemas.PasskeyList(
        passkeys=[_passkey_out(p) for p in passkeys.list_passkeys(session, principal)]
    )


@router.post("/passkeys/register/begin", response_model=schemas.CeremonyOut)
def register_begin(
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
    body: schemas.Reauthentication | None = None,
) -> schemas.CeremonyOut:
    """``navigator.credentials.create()`` options; needs a recent login or ``{password, otp}``."""
    reauth = body or schemas.Reauthentication()
    ceremony = passkeys.begin_registration(
        session, services, principal, password=reauth.password, otp=reauth.otp, client_ip=ip
    )
    return _ceremony_out(ceremony)


@router.post(
    "/passkeys/register/finish",
    response_model=schemas.PasskeyOut,
    status_code=status.HTTP_201_CREATED,
)
def register_finish(
    body: schemas.PasskeyFinish,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.PasskeyOut:
    """Verify the new credential (attestation "none") and keep it."""
    claimed = passkeys.claim(
        session, services, body.challenge_id, {ChallengePurpose.REGISTER}, client_ip=ip
    )
    passkey = passkeys.finish_registration(
        session, services, claimed, body.credential, name=body.name, principal=principal
    )
    return _passkey_out(passkey)


@router.delete("/passkeys/{passkey_id}", status_code=status.HTTP_204_NO_CONTENT)
def remove_passkey(
    passkey_id: str,
    *,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
    body: schemas.Reauthentication | None = None,
) -> Response:
    """Remove one of the caller's passkeys; needs a recent login or ``{password, otp}``."""
    reauth = body or schemas.Reauthentication()
    passkeys.remove_passkey(
        session,
        services,
        principal,
        passkey_id,
        password=reauth.password,
        otp=reauth.otp,
        client_ip=ip,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/auth/passkey/enrol", response_model=schemas.PasskeyOut, status_code=status.HTTP_201_CREATED
)
def enrol(
    body: schemas.PasskeyFinish, session: DbSession, services: ServicesDep, ip: ClientIP
) -> schemas.PasskeyOut:
    """Register the first passkey with the ceremony a ``passkey_required`` login answer gave."""
    claimed = passkeys.claim(
        session, services, body.challenge_id, {ChallengePurpose.ENROL}, client_ip=ip
    )
    passkey = passkeys.finish_registration(
        session, services, claimed, body.credential, name=body.name, principal=None
    )
    return _passkey_out(passkey)


@router.post("/auth/passkey/begin", response_model=schemas.CeremonyOut)
def login_begin(
    body: schemas.PasskeyLoginBegin, session: DbSession, services: ServicesDep, ip: ClientIP
) -> schemas.CeremonyOut:
    """Password first; then options for ``navigator.credentials.get()`` (the user's passkeys)."""
    ceremony = passkeys.begin_login(session, services, body.email, body.password, client_ip=ip)
    return _ceremony_out(ceremony)


def _finish(
    body: schemas.PasskeyLoginFinish,
    request: Request,
    session: DbSession,
    services: ServicesDep,
    ip: str,
) -> tuple[Any, Any]:
    claimed = passkeys.claim(
        session, services, body.challenge_id, {ChallengePurpose.LOGIN}, client_ip=ip
    )
    user, org = passkeys.finish_login(session, services, claimed, body.credential)
    devices.notice_request_login(
        session, services, user, request.headers, client_ip=ip, method="passkey"
    )
    return user, org


@router.post(
    "/auth/passkey/token", response_model=schemas.LoginResponse, status_code=status.HTTP_201_CREATED
)
def login_token(
    body: schemas.PasskeyLoginFinish,
    request: Request,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.LoginResponse:
    """The passkey's answer to the login ceremony → a new API token, shown once."""
    user, org = _finish(body, request, session, services, ip)
    result = service.issue_login_token(
        session, services, user, org, factor="passkey", name=body.name
    )
    return schemas.LoginResponse(
        token=result.token,
        token_id=result.api_token.id,
        expires_at=result.api_token.expires_at,
        user=schemas.UserOut(
            id=user.id, email=user.email, org=org.name, roles=sorted(user.roles.split())
        ),
    )


@router.post("/auth/passkey/session", response_model=schemas.SessionOut)
def login_session(
    body: schemas.PasskeyLoginFinish,
    request: Request,
    *,
    response: Response,
    session: DbSession,
    services: ServicesDep,
    ip: ClientIP,
) -> schemas.SessionOut:
    """The passkey's answer to the login ceremony → a web session cookie and its CSRF token."""
    user, org = _finish(body, request, session, services, ip)
    services.audit.record(
        session, "account:login:success", actor_id=user.id, org_id=user.org_id, factor="passkey"
    )
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


__all__ = ["router"]
