"""Patient links over HTTP, without an account: describe and download (docs/protocol.md)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from scelle.errors import Gone
from scelle.server.dependencies import ClientIP, DbSession, ServicesDep
from scelle.server.errors import error_response
from scelle.transfers import links, schemas, service

router = APIRouter(prefix="/api/v1/links", tags=["transfers"])


def _gone(services: ServicesDep, expired_blob: str | None) -> JSONResponse:
    response = error_response(Gone())
    if expired_blob:
        response.background = BackgroundTask(services.blobs.delete, expired_blob)
    return response


@router.get("/{transfer_id}", response_model=schemas.TransferOut)
def describe_link(
    transfer_id: str, session: DbSession, services: ServicesDep, ip: ClientIP
) -> schemas.TransferOut | JSONResponse:
    """A sealed passphrase link: digests, signature, sender key; 404 for anything else.

    Every call counts against the caller's address (429 with Retry-After past
    ``throttle_link_ip``, whatever the id).
    """
    transfer, expired_blob = links.open_link(session, services, transfer_id, client_ip=ip)
    if transfer is None:
        return _gone(services, expired_blob)
    return service.describe(session, transfer)


@router.get(
    "/{transfer_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_link(
    transfer_id: str, session: DbSession, services: ServicesDep, ip: ClientIP
) -> Response:
    """The whole ciphertext (age file to a passphrase); each call counts as a download.

    Throttled per address like ``describe_link``.
    """
    grant, expired_blob = links.start_link_download(session, services, transfer_id, client_ip=ip)
    if grant is None:
        return _gone(services, expired_blob)
    transfer = grant.transfer
    background = (
        BackgroundTask(service.finish_download, services, transfer.id)
        if grant.last_allowed
        else None
    )
    return StreamingResponse(
        services.blobs.read(grant.blob_key, 0, transfer.payload_size),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(transfer.payload_size),
            "Content-Disposition": 'attachment; filename="transfer.age"',
            "Cache-Control": "no-store",
        },
        background=background,
    )


__all__ = ["router"]
