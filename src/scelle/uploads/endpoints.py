"""tus 1.0 HTTP endpoints: OPTIONS, POST (creation), HEAD, PATCH, DELETE (termination).

Every response, errors included, carries ``Tus-Resumable: 1.0.0``. A PATCH
body is streamed to the blob store in 1 MiB writes (never held whole) and
fsynced before its ``Upload-Offset`` is answered.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import format_datetime
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from scelle.accounts.service import Principal, authenticate_token
from scelle.errors import (
    AuthenticationRequired,
    BadRequest,
    ChecksumMismatch,
    PreconditionFailed,
    ScelleError,
    UnsupportedMediaType,
)
from scelle.server.container import Services
from scelle.server.errors import error_response
from scelle.storage.blob_store import UploadWriter
from scelle.uploads import service

router = APIRouter(prefix="/api/v1/uploads", tags=["uploads"])

TUS_VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration,checksum"
WRITE_BLOCK = 1024 * 1024
_DIGITS = re.compile(r"\A\d{1,19}\Z")
P = ParamSpec("P")
R = TypeVar("R")


def _headers(**extra: str) -> dict[str, str]:
    return {"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store", **extra}


def _expires(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def tus_errors(handler: Callable[P, Awaitable[Response]]) -> Callable[P, Awaitable[Response]]:
    """Turn ScelleErrors into the usual JSON error, plus the tus headers."""

    @wraps(handler)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> Response:
        try:
            return await handler(*args, **kwargs)
        except ScelleError as exc:
            response = error_response(exc)
            response.headers.update(_headers())
            if isinstance(exc, PreconditionFailed):
                response.headers["Tus-Version"] = TUS_VERSION
            return response

    return wrapper


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _check_version(request: Request) -> None:
    if request.headers.get("tus-resumable") != TUS_VERSION:
        raise PreconditionFailed(f"this server speaks tus {TUS_VERSION} (Tus-Resumable header)")


def _int_header(request: Request, name: str) -> int:
    value = request.headers.get(name, "")
    if not _DIGITS.match(value):
        raise BadRequest(f"{name} must be a non-negative integer")
    return int(value)


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationRequired("an API token is required (Authorization: Bearer ...)")
    return token.strip()


async def _transaction(request: Request, work: Callable[[Session, Services, Principal], R]) -> R:
    """Authenticate and run ``work`` in one short transaction, off the event loop."""
    services = _services(request)
    token = _bearer(request)

    def run() -> R:
        with services.database.transaction() as session:
            principal = authenticate_token(session, services, token)
            request.state.actor_id = principal.user.id
            return work(session, services, principal)

    return await run_in_threadpool(run)


@router.options("", include_in_schema=False)
@router.options("/{upload_id}", include_in_schema=False)
async def options(request: Request) -> Response:
    """Advertise the protocol version, extensions and limits (no authentication)."""
    limit = _services(request).settings.max_upload_bytes
    return Response(
        status_code=204,
        headers=_headers(
            **{
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Checksum-Algorithm": "sha256",
                "Tus-Max-Size": str(limit),
            }
        ),
    )


@router.post("", status_code=201)
@tus_errors
async def create_upload(request: Request) -> Response:
    """tus creation: ``Upload-Metadata: transfer <base64 id>``, ``Upload-Length`` = payload size."""
    _check_version(request)
    if "upload-defer-length" in request.headers:
        raise BadRequest("Upload-Defer-Length is not supported: announce Upload-Length")
    length = _int_header(request, "upload-length")
    metadata = request.headers.get("upload-metadata", "")

    def work(session: Session, services: Services, principal: Principal) -> dict[str, str]:
        upload = service.create(session, services, principal, length=length, metadata=metadata)
        return {
            "Location": f"/api/v1/uploads/{upload.id}",
            "Upload-Offset": str(upload.offset),
            "Upload-Expires": _expires(upload.expires_at),
        }

    return Response(status_code=201, headers=_headers(**await _transaction(request, work)))


@router.head("/{upload_id}")
@tus_errors
async def head_upload(upload_id: str, request: Request) -> Response:
    """The durable offset of an upload, to resume from."""
    _check_version(request)

    def work(session: Session, services: Services, principal: Principal) -> dict[str, str]:
        upload = service.describe(session, services, principal, upload_id)
        return {
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Upload-Expires": _expires(upload.expires_at),
        }

    return Response(status_code=200, headers=_headers(**await _transaction(request, work)))


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


def _write(writer: UploadWriter, hasher: Any, data: bytes) -> None:
    hasher.update(data)
    writer.write(data)


async def _receive(request: Request, writer: UploadWriter, expected: bytes | None) -> int:
    """Stream the body into ``writer``; return the durable offset (fsynced)."""
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
        if expected is not None and not (
            not disconnected and hmac.compare_digest(hasher.digest(), expected)
        ):
            # A checksummed PATCH is all or nothing (tus checksum extension).
            await run_in_threadpool(writer.abort)
            raise ChecksumMismatch("the PATCH body does not match its Upload-Checksum")
        # Without a checksum, what arrived before a disconnect is kept: the
        # client resumes from it after a HEAD.
        return await run_in_threadpool(writer.finish)
    except BaseException:
        await run_in_threadpool(writer.abort)
        raise


@router.patch("/{upload_id}", status_code=204)
@tus_errors
async def patch_upload(upload_id: str, request: Request) -> Response:
    """Append bytes at ``Upload-Offset``; answer the new offset once it is durable."""
    _check_version(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/offset+octet-stream":
        raise UnsupportedMediaType("a PATCH body must be application/offset+octet-stream")
    offset = _int_header(request, "upload-offset")
    expected = _checksum(request)
    services = _services(request)

    plan = await _transaction(
        request, lambda s, sv, p: service.begin_patch(s, sv, p, upload_id, offset)
    )
    writer = await run_in_threadpool(
        services.blobs.open_writer, plan.upload_id, plan.offset, plan.length
    )
    new_offset = await _receive(request, writer, expected)
    await _transaction(request, lambda s, _sv, p: service.finish_patch(s, p, plan, new_offset))
    if new_offset == plan.length:
        digest = await run_in_threadpool(services.blobs.staged_digest, plan.upload_id)
        accepted = await _transaction(
            request, lambda s, sv, p: service.complete(s, sv, p, plan, digest)
        )
        if not accepted:
            await _transaction(
                request, lambda s, sv, p: service.reset_after_bad_digest(s, sv, p, plan)
            )
            raise ChecksumMismatch(
                "the uploaded bytes do not match the transfer's payload_sha256; "
                "the upload was reset to offset 0"
            )
    return Response(
        status_code=204,
        headers=_headers(
            **{"Upload-Offset": str(new_offset), "Upload-Expires": _expires(plan.expires_at)}
        ),
    )


@router.delete("/{upload_id}", status_code=204)
@tus_errors
async def terminate_upload(upload_id: str, request: Request) -> Response:
    """tus termination: the staged bytes are deleted."""
    _check_version(request)
    await _transaction(request, lambda s, sv, p: service.terminate(s, sv, p, upload_id))
    return Response(status_code=204, headers=_headers())
