"""A tus 1.0 client for one file: create, resume from the server's offset, PATCH with sha256.

Memory stays constant whatever the file and chunk sizes: each chunk is read
from the file twice, once to compute its ``Upload-Checksum: sha256`` (which
must precede the body) and once, through a generator, as the PATCH body. A
transport failure, an offset conflict or a checksum refusal is answered by a
HEAD and a retry from the offset the server made durable.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from scelle.client.api import API, ScelleClient
from scelle.errors import ServerError

__all__ = ["DEFAULT_CHUNK", "TusUpload", "create", "offset", "upload"]

TUS = {"Tus-Resumable": "1.0.0"}
DEFAULT_CHUNK = 32 * 1024 * 1024
READ_BLOCK = 1024 * 1024
RETRIES = 5
RETRIABLE = frozenset({0, 409, 423, 460, 502, 503, 504})


class TusUpload:
    """The outcome of :func:`upload`: whether every byte is on the server, and where it stopped."""

    def __init__(self, *, complete: bool, offset: int, length: int) -> None:
        self.complete = complete
        self.offset = offset
        self.length = length

    def __repr__(self) -> str:
        return f"TusUpload(complete={self.complete}, offset={self.offset}, length={self.length})"


def create(client: ScelleClient, transfer_id: str, length: int) -> str:
    """Open the upload of a pending transfer and return its absolute-path URL.

    The server answers a retried creation with the same upload, so calling
    this again after an interruption is how a resume finds its URL. Raises
    ServerError (409 once the ciphertext is completely uploaded, 404 for a
    transfer that is not the caller's pending one, 413 over the size limit).
    """
    metadata = "transfer " + base64.b64encode(transfer_id.encode("ascii")).decode("ascii")
    response = client.request(
        "POST",
        API + "/uploads",
        expect=(201,),
        headers={**TUS, "Upload-Length": str(length), "Upload-Metadata": metadata},
    )
    location = str(response.headers.get("Location", ""))
    if not location:
        raise ServerError("the server created an upload without a Location", http_status=201)
    return location


def offset(client: ScelleClient, url: str) -> int:
    """The offset the server has made durable for ``url``; raises ServerError."""
    response = client.request("HEAD", url, headers=TUS)
    try:
        return int(response.headers["Upload-Offset"])
    except (KeyError, ValueError):
        raise ServerError("the server sent no valid Upload-Offset", http_status=200) from None


def _region_digest(path: Path, start: int, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        src.seek(start)
        remaining = size
        while remaining:
            block = src.read(min(READ_BLOCK, remaining))
            if not block:
                raise ServerError("the local ciphertext shrank during the upload", http_status=0)
            digest.update(block)
            remaining -= len(block)
    return base64.b64encode(digest.digest()).decode("ascii")


def _region(path: Path, start: int, size: int) -> Iterator[bytes]:
    with path.open("rb") as src:
        src.seek(start)
        remaining = size
        while remaining:
            block = src.read(min(READ_BLOCK, remaining))
            if not block:
                return
            remaining -= len(block)
            yield block


def upload(
    client: ScelleClient,
    path: Path,
    url: str,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Callable[[int], None] | None = None,
    max_chunks: int | None = None,
) -> TusUpload:
    """Upload ``path`` to the tus ``url``, starting from the server's durable offset.

    ``progress`` is called with the number of bytes newly acknowledged (the
    already uploaded part is reported once, at the start). ``max_chunks``
    stops after that many PATCH requests, leaving the upload resumable: it is
    how an interruption is reproduced deterministically. Raises ServerError
    when the server refuses, or after RETRIES consecutive retriable failures.
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    length = os.path.getsize(path)
    position = offset(client, url)
    if progress is not None and position:
        progress(position)
    failures, sent = 0, 0
    while position < length:
        if max_chunks is not None and sent >= max_chunks:
            return TusUpload(complete=False, offset=position, length=length)
        size = min(chunk_size, length - position)
        headers = {
            **TUS,
            "Upload-Offset": str(position),
            "Content-Type": "application/offset+octet-stream",
            "Content-Length": str(size),
            "Upload-Checksum": f"sha256 {_region_digest(path, position, size)}",
        }
        sent += 1
        try:
            response = client.request(
                "PATCH", url, expect=(204,), content=_region(path, position, size), headers=headers
            )
            new_position = int(response.headers["Upload-Offset"])
        except (KeyError, ValueError):
            raise ServerError("the server sent no valid Upload-Offset", http_status=204) from None
        except ServerError as exc:
            failures += 1
            if exc.http_status not in RETRIABLE or failures > RETRIES:
                raise
            time.sleep(min(4.0, 0.1 * 2**failures))
            before, position = position, offset(client, url)
            if progress is not None and position > before:
                progress(position - before)
            continue
        failures = 0
        if progress is not None and new_position > position:
            progress(new_position - position)
        position = new_position
    return TusUpload(complete=True, offset=position, length=length)
