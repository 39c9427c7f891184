"""SIGTERM while a PATCH is streaming: the upload finishes (drained) or resumes, nothing lost."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration.conftest import start_server, stop_server
from tests.integration.test_multiprocess import TUS, MiB, auth, members, open_upload

from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.signing import transfer_signature_message

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_sigterm_drains_an_upload_in_flight(tmp_path: Path, store_env: dict[str, str]) -> None:
    data = tmp_path / "server-data"
    server = start_server(data, extra_env=store_env)
    try:
        sender, recipient = members(data)
        age_recipient = [X25519Recipient.parse(str(recipient.identity.recipient))]
        ciphertext = encrypt_bytes(os.urandom(6 * MiB), age_recipient)
        metadata = encrypt_bytes(b'{"v": 1}', age_recipient)
        transfer_id, location = open_upload(server.url, sender, recipient, ciphertext, metadata)

        def body() -> Iterator[bytes]:
            for start in range(0, len(ciphertext), MiB):
                if start == 2 * MiB:
                    server.process.send_signal(signal.SIGTERM)
                    time.sleep(0.5)  # the server is shutting down while we still send
                yield ciphertext[start : start + MiB]

        answered: int | None = None
        try:
            patched = httpx.patch(
                server.url + location,
                content=body(),
                headers={
                    **auth(sender),
                    **TUS,
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": "0",
                },
                timeout=60,
            )
            if patched.status_code == 204:
                answered = int(patched.headers["Upload-Offset"])
        except httpx.TransportError:
            pass
        # Uvicorn drains, then re-raises the signal it caught: a clean exit by SIGTERM.
        assert server.process.wait(timeout=60) in {0, -signal.SIGTERM}
    finally:
        stop_server(server)

    restarted = start_server(data, extra_env=store_env)
    try:
        head = httpx.head(restarted.url + location, headers={**auth(sender), **TUS})
        assert head.status_code == 200
        offset = int(head.headers["Upload-Offset"])
        if answered is not None:
            assert offset == answered  # an acknowledged offset survives the shutdown
        if offset < len(ciphertext):
            rest = httpx.patch(
                restarted.url + location,
                content=ciphertext[offset:],
                headers={
                    **auth(sender),
                    **TUS,
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(offset),
                },
                timeout=60,
            )
            assert rest.status_code == 204, rest.text
        message = transfer_signature_message(
            transfer_id, hashlib.sha256(ciphertext).digest(), hashlib.sha256(metadata).digest()
        )
        sealed = httpx.post(
            f"{restarted.url}/api/v1/transfers/{transfer_id}/seal",
            json={"signature": base64.b64encode(sender.signing_key.sign(message)).decode()},
            headers=auth(sender),
        )
        assert sealed.status_code == 200, sealed.text
        content = httpx.get(
            f"{restarted.url}/api/v1/transfers/{transfer_id}/content",
            headers=auth(recipient),
            timeout=60,
        )
        assert content.content == ciphertext
    finally:
        stop_server(restarted)
    # Drained, not cut: the PATCH in flight at SIGTERM was answered whole.
    assert answered == len(ciphertext)
