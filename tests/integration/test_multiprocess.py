"""Several server processes on the same stores: no state lives in one process.

An upload is started through one ``scelle serve``, resumed through a second
and downloaded through a third (on every backend; on ``scale`` the stores are
PostgreSQL + SeaweedFS + Redis). ``scelle serve --workers 2`` serves the same
API from two uvicorn worker processes, and ``/metrics`` answers only with
its token.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import factories
from tests.factories import Member
from tests.integration.conftest import BIN, LiveServer, free_port, start_server, stop_server

from scelle.config import Settings
from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.signing import transfer_signature_message
from scelle.db.models import Role
from scelle.server.container import build_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MiB = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


@pytest.fixture
def servers(tmp_path: Path, store_env: dict[str, str]) -> Iterator[list[LiveServer]]:
    data = tmp_path / "server-data"
    started: list[LiveServer] = []
    try:
        # Share one data folder (its server secret): they are one service, three processes.
        for _ in range(3):
            started.append(start_server(data, extra_env=store_env))
        yield started
    finally:
        for server in started:
            stop_server(server)


def members(data: Path) -> tuple[Member, Member]:
    services = build_services(Settings(data=data), migrate=False)
    try:
        factories.org(services, "lab-x")
        factories.org(services, "cpam-75")
        return (
            factories.member(services, "lab-x", Role.SENDER),
            factories.member(services, "cpam-75", Role.RECIPIENT),
        )
    finally:
        services.database.dispose()


def open_upload(
    url: str, sender: Member, recipient: Member, ciphertext: bytes, metadata: bytes
) -> tuple[str, str]:
    """Create a transfer of ``ciphertext`` to ``recipient`` and its tus upload: (id, Location)."""
    created = httpx.post(
        url + "/api/v1/transfers",
        json={
            "recipients": [{"user_id": recipient.user_id, "key_id": recipient.key_id}],
            "payload_size": len(ciphertext),
            "payload_sha256": hashlib.sha256(ciphertext).hexdigest(),
            "metadata": base64.b64encode(metadata).decode(),
        },
        headers=auth(sender),
    )
    assert created.status_code == 201, created.text
    transfer_id: str = created.json()["id"]
    upload = httpx.post(
        url + "/api/v1/uploads",
        headers={
            **auth(sender),
            **TUS,
            "Upload-Length": str(len(ciphertext)),
            "Upload-Metadata": "transfer " + base64.b64encode(transfer_id.encode()).decode(),
        },
    )
    assert upload.status_code == 201, upload.text
    return transfer_id, upload.headers["Location"]


def test_upload_started_resumed_and_downloaded_through_three_processes(
    servers: list[LiveServer],
) -> None:
    first, second, third = servers
    sender, recipient = members(first.data)
    age_recipient = [X25519Recipient.parse(str(recipient.identity.recipient))]
    plaintext = os.urandom(12 * MiB)
    ciphertext = encrypt_bytes(plaintext, age_recipient)
    metadata = encrypt_bytes(b'{"v": 1, "name": "results.csv"}', age_recipient)
    transfer_id, location = open_upload(first.url, sender, recipient, ciphertext, metadata)
    stream = {**auth(sender), **TUS, "Content-Type": "application/offset+octet-stream"}
    cut = 5 * MiB + 12345
    started = httpx.patch(
        first.url + location, content=ciphertext[:cut], headers={**stream, "Upload-Offset": "0"}
    )
    assert started.status_code == 204, started.text
    # The second process knows the upload only through the shared stores.
    head = httpx.head(second.url + location, headers={**auth(sender), **TUS})
    assert head.status_code == 200
    assert int(head.headers["Upload-Offset"]) == cut
    resumed = httpx.patch(
        second.url + location,
        content=ciphertext[cut:],
        headers={**stream, "Upload-Offset": str(cut)},
        timeout=60,
    )
    assert resumed.status_code == 204, resumed.text
    message = transfer_signature_message(
        transfer_id, hashlib.sha256(ciphertext).digest(), hashlib.sha256(metadata).digest()
    )
    sealed = httpx.post(
        f"{second.url}/api/v1/transfers/{transfer_id}/seal",
        json={"signature": base64.b64encode(sender.signing_key.sign(message)).decode()},
        headers=auth(sender),
    )
    assert sealed.status_code == 200, sealed.text
    content = httpx.get(
        f"{third.url}/api/v1/transfers/{transfer_id}/content",
        headers=auth(recipient),
        timeout=60,
    )
    assert content.status_code == 200, content.text
    assert content.content == ciphertext
    assert decrypt_bytes(content.content, [recipient.identity]) == plaintext
    ranged = httpx.get(
        f"{first.url}/api/v1/transfers/{transfer_id}/content",
        headers={**auth(recipient), "Range": f"bytes={cut}-"},
        timeout=60,
    )
    assert ranged.status_code == 206, ranged.text
    assert ranged.content == ciphertext[cut:]


def test_serve_with_two_workers(tmp_path: Path, store_env: dict[str, str]) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    env.update(store_env)
    env["SCELLE_METRICS_TOKEN"] = "metrics-token-for-the-test"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(BIN / "scelle"), "serve", "--data", str(data), "--port", str(port), "--workers=2"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        import time

        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        for _ in range(10):
            assert httpx.get(url + "/healthz").json() == {"status": "ok"}
        assert httpx.get(url + "/metrics").status_code == 401
        wrong = httpx.get(url + "/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        scraped = httpx.get(
            url + "/metrics", headers={"Authorization": "Bearer metrics-token-for-the-test"}
        )
        assert scraped.status_code == 200
        # Both processes write their samples to the shared folder; any scrape sums them.
        assert 'scelle_requests_total{method="GET",route="/healthz",status="200"} 10.0' in (
            scraped.text
        )
        assert "scelle_transfers_live 0" in scraped.text
    finally:
        process.terminate()
        process.wait(timeout=60)
    assert process.returncode == 0, log.read_text()
