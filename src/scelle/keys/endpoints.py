"""Keys HTTP API: publish the caller's key bundle, resolve recipients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from scelle.keys import schemas, service
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep

router = APIRouter(prefix="/api/v1", tags=["keys"])


@router.put("/keys/me", response_model=schemas.KeyOut, status_code=status.HTTP_201_CREATED)
def publish_key(
    body: schemas.PublishKeyRequest,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.KeyOut:
    """Publish (or rotate) the caller's age recipient and Ed25519 key, signed by that key."""
    key = service.publish(
        session,
        services,
        principal,
        x25519_recipient=body.x25519_recipient,
        ed25519_public_b64=body.ed25519_public,
        self_signature_b64=body.self_signature,
    )
    return service.key_out(key)


@router.get("/directory", response_model=schemas.DirectoryResponse)
def directory(
    principal: CurrentUser,
    session: DbSession,
    to: Annotated[list[str], Query(min_length=1, max_length=50)],
) -> schemas.DirectoryResponse:
    """Recipients (and their keys) for org names or e-mails, to encrypt a transfer to."""
    principal.require("send")
    return schemas.DirectoryResponse(recipients=service.resolve(session, to))
