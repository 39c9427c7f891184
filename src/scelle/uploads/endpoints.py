"""tus 1.0 HTTP endpoints: OPTIONS, POST (creation), HEAD, PATCH, DELETE (termination).

Every response, errors included (a refused token too), carries
``Tus-Resumable: 1.0.0``: the routes use ``TusRoute``, which turns a
ScelleError raised anywhere in the route (dependencies included) into the
usual JSON error with the tus headers. A request without ``Tus-Resumable:
1.0.0`` (OPTIONS aside) is answered 412 with ``Tus-Version``.

POST, HEAD and DELETE are one transaction each (``DbSession``). PATCH is the
exception, on purpose: its body may take minutes to arrive, and a transaction
held that long would pin a pooled connection (PostgreSQL) or SQLite's write
lock for everyone. It authenticates and checks in one short transaction,
streams the body to the blob store in 1 MiB writes (never held whole), fsyncs,
and only then records the new offset in a second short transaction, so an
answered ``Upload-Offset`` is always durable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Coroutine
from datetime import datetime
from email.utils import format_datetime
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from scelle.accounts.service import Principal
from scelle.audit import service as audit_service
from scelle.audit.schemas import AUDIT_LEAF_HEADER
from scelle.errors import (
    BadRequest,
    ChecksumMismatch,
    PreconditionFailed,
    ScelleError,
    UnsupportedMediaType,
)
from scelle.server.container import Services
from scelle.server.dependencies import (
    CurrentUser,
    DbSession,
    ServicesDep,
    connection_place,
    current_user,
    in_transaction_thread,
)
from scelle.server.errors import error_response
from scelle.storage.blob_store import UploadWriter
from scelle.uploads import service

__all__ = ["TUS_VERSION", "TusRoute", "router"]

log = logging.getLogger("scelle.server")

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration,checksum"
OFFSET_STREAM = "application/offset+octet-stream"
WRITE_BLOCK = 1024 * 1024
_DIGITS = re.compile(r"\A\d{1,19}\Z")
R = TypeVar("R")


class TusRoute(APIRoute):
    """A route whose every answer, error or not, speaks tus (``Tus-Resumable``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except ScelleError as exc:
                if exc.status >= 500:
                    log.warning("request failed: %s (%s)", exc.code, type(exc).__name__)
                response = error_response(exc)
                if isinstance(exc, PreconditionFailed):
                    response.headers["Tus-Version"] = TUS_VERSION
            response.headers["Tus-Resumable"] = TUS_VERSION
            response.headers["Cache-Control"] = "no-store"
            return response

        return tus_handler


def require_tus_version(request: Request) -> None:
    """412 unless the client speaks tus 1.0.0 (checked before anything else)."""
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise PreconditionFailed(f"this server speaks tus {TUS_VERSION} (Tus-Resumable header)")


TUS = [Depends(require_tus_version)]
router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"], route_class=TusRoute)


def _expires(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def _int_header(request: Request, name: str) -> int:
    value = request.headers.get(name, "").strip()
    if not _DIGITS.match(value):
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(value)


def _checksum(request: Request) -> bytes | None:
    header = request.headers.get("upload-checksum")
    if header is None:
        return None
    algorithm, _, value = header.strip().partition(" ")
    if algorithm.lower() != "sha256":
        raise BadRequest("only the sha256 checksum algorithm is supported")
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Upload-Checksum is not valid base64") from None
    if len(digest) != 32:
        raise BadRequest("Upload-Checksum is not a SHA-256 digest")
    return digest


@router.options("")
@router.options("/{upload_id}")
def options(services: ServicesDep) -> Response:
    """Advertise the protocol version, extensions and limits (no authentication)."""
    return Response(
        status_code=204,
        headers={
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Checksum-Algorithm": "sha256",
            "Tus-Max-Size": str(services.settings.max_upload_bytes),
        },
    )


@router.post("", status_code=201, dependencies=TUS)
def create_upload(
    request: Request, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> Response:
    """tus creation: ``Upload-Metadata: transfer <base64 id>``, ``Upload-Length`` = payload size.

    A retried creation for the same transfer answers the same Location.
    """
    if "upload-defer-length" in request.headers:
        raise BadRequest("Upload-Defer-Length is not supported: announce Upload-Length")
    length = _int_header(request, "upload-length")
    metadata = request.headers.get("upload-metadata", "")
    upload = service.create(session, services, principal, length=length, metadata=metadata)
    return Response(
        status_code=201,
        headers={
            "Location": f"/api/v1/uploads/{upload.id}",
            "Upload-Offset": str(upload.offset),
            "Upload-Expires": _expires(upload.expires_at),
        },
    )


@router.head("/{upload_id}", dependencies=TUS)
def head_upload(
    upload_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> Response:
    """The durable offset of an upload, to resume from."""
    upload = service.describe(session, services, principal, upload_id)
    headers = {"Upload-Offset": str(upload.offset), "Upload-Length": str(upload.length)}
    if upload.completed_at is None:
        headers["Upload-Expires"] = _expires(upload.expires_at)
    return Response(status_code=200, headers=headers)


@router.delete("/{upload_id}", status_code=204, dependencies=TUS)
def terminate_upload(
    upload_id: str, principal: CurrentUser, session: DbSession, services: ServicesDep
) -> Response:
    """tus termination: the upload and its staged bytes are deleted."""
    service.terminate(session, services, principal, upload_id)
    return Response(status_code=204)


async def _short_transaction(
    request: Request, services: Services, work: Callable[[Session, Principal], R]
) -> R:
    """Authenticate and run ``work`` in one short transaction, off the event loop.

    The caller is authenticated as every other request is (``current_user``):
    an API token, or a web session cookie with its CSRF token (the browser's
    tus client sends ``X-CSRF-Token`` on each PATCH).
    """

    def run() -> R:
        with services.database.transaction() as session:
            return work(session, current_user(request, session, services))

    async with connection_place(services.database):
        return await in_transaction_thread(run)


def _write(writer: UploadWriter, hasher: Any, data: bytes) -> None:
    hasher.update(data)
    writer.write(data)


async def _receive(request: Request, writer: UploadWriter, expected: bytes | None) -> int:
    """Stream the body into ``writer``; return the durable (fsynced) offset."""
    hasher = hashlib.sha256()
    block = bytearray()
    disconnected = False
    try:
        try:
            async for chunk in request.stream():
                block += chunk
                if len(block) >= WRITE_BLOCK:
                    await run_in_threadpool(_write, writer, hasher, bytes(block))
                    block.clear()
        except ClientDisconnect:
            disconnected = True
        if block:
            await run_in_threadpool(_write, writer, hasher, bytes(block))
        if expected is not None and (
            disconnected or not hmac.compare_digest(hasher.digest(), expected)
        ):
            # A checksummed PATCH is all or nothing (tus checksum extension).
            raise ChecksumMismatch("the PATCH body does not match its Upload-Checksum")
        # Without a checksum, what arrived before a disconnect is kept: the
        # client resumes from it after a HEAD.
        return await run_in_threadpool(writer.finish)
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise


@router.patch("/{upload_id}", status_code=204, dependencies=TUS)
async def patch_upload(upload_id: str, request: Request, services: ServicesDep) -> Response:
    """Append bytes at ``Upload-Offset``; answer the new offset once it is durable.

    409 when ``Upload-Offset`` is not the durable offset, 413 past the
    announced length (nothing of this PATCH kept), 460 when the body does not
    match ``Upload-Checksum`` (offset unchanged) or, at the last byte, when the
    whole upload does not match the transfer's ``payload_sha256`` (the upload
    restarts at 0), 410 once the upload expired.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != OFFSET_STREAM:
        raise UnsupportedMediaType(f"a PATCH body must be {OFFSET_STREAM}")
    offset = _int_header(request, "upload-offset")
    expected = _checksum(request)

    plan = await _short_transaction(
        request,
        services,
        lambda session, principal: service.begin_patch(
            session, services, principal, upload_id, offset
        ),
    )
    writer = await run_in_threadpool(service.open_writer, services, plan)
    new_offset = await _receive(request, writer, expected)
    digest = (
        await run_in_threadpool(service.staged_digest, services, plan)
        if new_offset == plan.length
        else None
    )

    def finish(session: Session, principal: Principal) -> tuple[service.PatchOutcome, int | None]:
        outcome = service.finish_patch(
            session, services, principal, plan, new_offset=new_offset, digest=digest
        )
        leaf = None
        if outcome is service.PatchOutcome.COMPLETED:
            leaf = audit_service.latest_leaf(
                session,
                tag="upload:content:complete",
                object_id=plan.transfer_id,
                actor_id=principal.user.id,
            )
        return outcome, leaf

    outcome, leaf = await _short_transaction(request, services, finish)
    if outcome is service.PatchOutcome.DIGEST_MISMATCH:
        raise ChecksumMismatch(
            "the uploaded bytes do not match the transfer's payload_sha256; "
            "the upload was reset to offset 0"
        )
    headers = {"Upload-Offset": str(new_offset), "Upload-Expires": _expires(plan.expires_at)}
    if leaf is not None:
        headers[AUDIT_LEAF_HEADER] = str(leaf)  # the receipt: docs/protocol.md, "Receipts"
    return Response(status_code=204, headers=headers)
