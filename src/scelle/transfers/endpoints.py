"""Transfers HTTP API: create, seal, list, describe, download (with Range), cancel."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from scelle.anomaly import service as anomaly
from scelle.audit import service as audit_service
from scelle.audit.schemas import AUDIT_LEAF_HEADER
from scelle.crash_points import crash_point
from scelle.errors import Gone, RangeNotSatisfiable
from scelle.server.dependencies import CurrentUser, DbSession, ServicesDep
from scelle.server.errors import error_response
from scelle.transfers import schemas, service

router = APIRouter(prefix="/api/v1/transfers", tags=["transfers"])

_RANGE = re.compile(r"\Abytes=(\d{1,19})-(\d{0,19})\Z")


@router.post("", response_model=schemas.CreatedTransfer, status_code=status.HTTP_201_CREATED)
def create_transfer(
    body: schemas.CreateTransferRequest,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.CreatedTransfer:
    """Create a pending transfer; upload its ciphertext with tus, then seal it."""
    transfer = service.create(session, services, principal, body)
    return schemas.CreatedTransfer(
        id=transfer.id,
        status="pending",
        upload_url="/api/v1/uploads",
        expires_at=transfer.expires_at,
    )


@router.post("/{transfer_id}/seal", response_model=schemas.TransferOut)
def seal_transfer(
    transfer_id: str,
    body: schemas.SealRequest,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> schemas.TransferOut:
    """Verify the sender's signature over the uploaded ciphertext and make it available."""
    transfer = service.seal(session, services, principal, transfer_id, body.signature)
    return service.describe(session, transfer)


@router.get("", response_model=schemas.TransferList)
def list_transfers(
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    box: Annotated[str, Query(pattern="^(inbox|sent)$")] = "inbox",
) -> schemas.TransferList:
    """The caller's inbox (available, unexpired) or sent transfers."""
    anomaly.guard(session, services, principal, "listing")
    transfers = service.list_box(session, principal, box)
    return schemas.TransferList(transfers=[service.describe(session, t) for t in transfers])


@router.get("/policy", response_model=schemas.SendPolicyOut)
def get_send_policy(principal: CurrentUser, session: DbSession) -> schemas.SendPolicyOut:
    """The caller's organisation's send policy: per identifier kind, warn, purpose or block."""
    return service.policy(session, principal)


@router.get("/{transfer_id}", response_model=schemas.TransferOut)
def get_transfer(
    transfer_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> schemas.TransferOut | JSONResponse:
    """One transfer, for its sender and recipients; 410 once purged or expired."""
    anomaly.guard(session, services, principal, None)
    transfer, _ = service.visible(session, services, principal, transfer_id)
    if transfer.status == "purged":
        raise Gone()
    if service.is_expired(transfer):
        # Returned, not raised: the purge must commit with this request.
        blob_key = service.purge(session, services, transfer, "expiry")
        response = error_response(Gone())
        if blob_key:
            response.background = BackgroundTask(services.blobs.delete, blob_key)
        return response
    return service.describe(session, transfer)


def _parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    if header is None:
        return None
    match = _RANGE.match(header.strip())
    if match is None:
        raise RangeNotSatisfiable("only one 'bytes=START-[END]' range is supported")
    start = int(match.group(1))
    end = int(match.group(2)) if match.group(2) else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable()
    return start, min(end, size - 1)


@router.get(
    "/{transfer_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 206: {"description": "a range"}},
)
def download_content(
    transfer_id: str,
    principal: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    """Stream the ciphertext (age file). A download counts when it starts at byte 0."""
    anomaly.guard(session, services, principal, "download")
    transfer, _ = service.visible(session, services, principal, transfer_id)
    size = transfer.payload_size
    byte_range = _parse_range(range_header, size) if range_header else None
    start, end = byte_range if byte_range else (0, size - 1)
    grant, expired_blob = service.start_download(
        session, services, principal, transfer_id, start=start
    )
    if grant is None:
        response: Response = error_response(Gone())
        if expired_blob:
            response.background = BackgroundTask(services.blobs.delete, expired_blob)
        return response
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start + 1),
        "Content-Disposition": 'attachment; filename="transfer.age"',
        "Cache-Control": "no-store",
        "ETag": f'"{transfer.payload_sha256.hex()}"',
    }
    if grant.counted:  # the receipt: docs/protocol.md, "Receipts"
        leaf = audit_service.latest_leaf(
            session,
            tag="transfer:content:download",
            object_id=transfer.id,
            actor_id=principal.user.id,
        )
        if leaf is not None:
            headers[AUDIT_LEAF_HEADER] = str(leaf)
    code = status.HTTP_200_OK
    if byte_range is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        code = status.HTTP_206_PARTIAL_CONTENT
    background = (
        BackgroundTask(service.finish_download, services, transfer.id)
        if grant.last_allowed
        else None
    )
    return StreamingResponse(
        _streamed(services.blobs.read(grant.blob_key, start, end + 1)),
        status_code=code,
        media_type="application/octet-stream",
        headers=headers,
        background=background,
    )


def _streamed(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk
        crash_point("download.streaming")


@router.delete("/{transfer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_transfer(
    transfer_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> Response:
    """The sender cancels a transfer: the ciphertext is deleted now."""
    blob_key = service.delete(session, services, principal, transfer_id)
    background = BackgroundTask(services.blobs.delete, blob_key) if blob_key else None
    return Response(status_code=status.HTTP_204_NO_CONTENT, background=background)
