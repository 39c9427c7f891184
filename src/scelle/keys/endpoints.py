"""Keys HTTP API: publish or rotate the caller's key bundle, revoke it, lost device, directory."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Query, status

from scelle.db.models import WrappedIdentity
from scelle.keys import schemas, service, wrapped
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["keys"])


@router.put("/keys/me", response_model=schemas.KeyOut, status_code=status.HTTP_201_CREATED)
def publish_key(
    body: schemas.PublishKeyRequest,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.KeyOut:
    """Publish the caller's bundle, signed by itself; with ``rotation_signature``, a rotation."""
    key = service.publish(
        session,
        services,
        principal,
        x25519_recipient=body.x25519_recipient,
        ed25519_public_b64=body.ed25519_public,
        self_signature_b64=body.self_signature,
        rotation_signature_b64=body.rotation_signature,
    )
    return service.key_out(key)


@router.post("/keys/me/revoke", response_model=schemas.RevokeResponse)
def revoke_key(
    principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.RevokeResponse:
    """Revoke the caller's current key: no new transfer can be addressed to it."""
    return schemas.RevokeResponse(revoked_keys=service.revoke(session, services, principal))


@router.post(
    "/keys/me/lost-device",
    response_model=schemas.LostDeviceResponse,
    status_code=status.HTTP_201_CREATED,
)
def lost_device(
    body: schemas.LostDeviceRequest,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.LostDeviceResponse:
    """Password and second factor again: revoke every key and other token, publish this bundle."""
    result = service.lost_device(
        session,
        services,
        principal,
        password=body.password,
        otp=body.otp,
        bundle=service.Bundle(
            body.x25519_recipient, body.ed25519_public, body.self_signature, body.rotation_signature
        ),
    )
    return schemas.LostDeviceResponse(
        key=service.key_out(result.key),
        token=result.token,
        token_id=result.token_id,
        expires_at=result.token_expires_at,
        revoked_keys=result.revoked_keys,
        revoked_tokens=result.revoked_tokens,
    )


def _wrapped_out(row: WrappedIdentity) -> schemas.WrappedIdentityOut:
    return schemas.WrappedIdentityOut(
        wrapped=base64.b64encode(row.wrapped).decode("ascii"),
        fingerprint=row.fingerprint,
        recovery=(
            base64.b64encode(row.recovery_wrapped).decode("ascii")
            if row.recovery_wrapped is not None
            else None
        ),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.put("/keys/me/wrapped", response_model=schemas.WrappedIdentityOut)
def store_wrapped_identity(
    body: schemas.WrappedIdentityIn,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.WrappedIdentityOut:
    """Keep the caller's browser identity, wrapped by a passphrase the server never sees.

    With ``recovery``, also its copy wrapped to the recovery key shown once in
    the browser. Both replace what was stored.
    """
    row = wrapped.store(
        session,
        services,
        principal,
        wrapped_b64=body.wrapped,
        fingerprint=body.fingerprint,
        recovery_b64=body.recovery,
    )
    return _wrapped_out(row)


@router.get("/keys/me/wrapped", response_model=schemas.WrappedIdentityOut)
def get_wrapped_identity(principal: CurrentUser, session: DbSession) -> schemas.WrappedIdentityOut:
    """The caller's wrapped browser identity (opened in the browser); 404 when there is none."""
    return _wrapped_out(wrapped.fetch(session, principal))


@router.get("/directory", response_model=schemas.DirectoryResponse)
def directory(
    principal: CurrentUser,
    session: DbSession,
    to: Annotated[list[str], Query(min_length=1, max_length=50)],
) -> schemas.DirectoryResponse:
    """Recipients (and their keys, with recent history) for org names or e-mails."""
    principal.require("send")
    return schemas.DirectoryResponse(recipients=service.resolve(session, to))
