"""Third-party tus clients (tuspy, tus-js-client under Node) against a real ``scelle serve``.

The sender is enrolled through the real services on the server's own data
folder, the transfer is created, sealed and downloaded through the HTTP API,
and the ciphertext a stranger's client uploaded decrypts for its recipient:
the server speaks tus 1.0 as the protocol says, not as our SDK happens to.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import httpx
import pytest
from tests import factories
from tests.factories import Member
from tests.integration.conftest import LiveServer
from tusclient import client as tus_client
from tusclient.uploader.uploader import Uploader

from scelle.config import Settings
from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.signing import transfer_signature_message
from scelle.db.models import Role
from scelle.server.container import Services, build_services

pytestmark = [pytest.mark.integration, pytest.mark.interop]

JS = Path(__file__).resolve().parent / "js"
CHUNK = 64 * 1024


class SHA256Uploader(Uploader):
    """tuspy with its checksum extension switched to sha256, the one algorithm Scellé accepts."""

    CHECKSUM_ALGORITHM_PAIR = ("sha256", hashlib.sha256)


@dataclass
class Parties:
    server: LiveServer
    sender: Member
    recipient: Member


@dataclass
class PendingTransfer:
    id: str
    ciphertext: Path
    plaintext: bytes
    metadata: bytes


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


@pytest.fixture
def parties(live_server: LiveServer) -> Parties:
    # The server's own stores, opened beside it (SQLite in WAL mode allows it):
    # the users are made by the real services, exactly as enrolment makes them.
    services: Services = build_services(Settings(data=live_server.data), migrate=False)
    try:
        factories.org(services, "lab-x")
        factories.org(services, "cpam-75")
        sender = factories.member(services, "lab-x", Role.SENDER)
        recipient = factories.member(services, "cpam-75", Role.RECIPIENT)
    finally:
        services.database.dispose()
    return Parties(server=live_server, sender=sender, recipient=recipient)


def new_transfer(parties: Parties, tmp_path: Path, size: int) -> PendingTransfer:
    """Encrypt ``size`` random bytes for the recipient and create the pending transfer."""
    recipient = [X25519Recipient.parse(str(parties.recipient.identity.recipient))]
    plaintext = os.urandom(size)
    ciphertext = encrypt_bytes(plaintext, recipient)
    metadata = encrypt_bytes(b'{"v": 1, "name": "results.csv"}', recipient)
    path = tmp_path / "payload.age"
    path.write_bytes(ciphertext)
    created = httpx.post(
        parties.server.url + "/api/v1/transfers",
        json={
            "recipients": [
                {"user_id": parties.recipient.user_id, "key_id": parties.recipient.key_id}
            ],
            "payload_size": len(ciphertext),
            "payload_sha256": hashlib.sha256(ciphertext).hexdigest(),
            "metadata": base64.b64encode(metadata).decode(),
        },
        headers=auth(parties.sender),
    )
    assert created.status_code == 201, created.text
    return PendingTransfer(
        id=created.json()["id"], ciphertext=path, plaintext=plaintext, metadata=metadata
    )


def url_of(uploader: Uploader) -> str:
    """The upload URL tuspy holds (its attribute is untyped)."""
    url: object = uploader.url
    assert isinstance(url, str)
    return url


def head_offset(parties: Parties, url: str) -> int:
    response = httpx.head(url, headers={**auth(parties.sender), "Tus-Resumable": "1.0.0"})
    assert response.status_code == 200, response.text
    return int(response.headers["Upload-Offset"])


def seal_and_receive(parties: Parties, transfer: PendingTransfer) -> None:
    """Seal as the sender, download as the recipient, decrypt: the uploaded bytes are whole."""
    ciphertext = transfer.ciphertext.read_bytes()
    message = transfer_signature_message(
        transfer.id,
        hashlib.sha256(ciphertext).digest(),
        hashlib.sha256(transfer.metadata).digest(),
    )
    sealed = httpx.post(
        f"{parties.server.url}/api/v1/transfers/{transfer.id}/seal",
        json={"signature": base64.b64encode(parties.sender.signing_key.sign(message)).decode()},
        headers=auth(parties.sender),
    )
    assert sealed.status_code == 200, sealed.text
    content = httpx.get(
        f"{parties.server.url}/api/v1/transfers/{transfer.id}/content",
        headers=auth(parties.recipient),
    )
    assert content.status_code == 200, content.text
    assert content.content == ciphertext
    assert decrypt_bytes(content.content, [parties.recipient.identity]) == transfer.plaintext


def tuspy_uploader(
    parties: Parties, transfer: PendingTransfer, stream: BinaryIO, *, url: str | None = None
) -> Uploader:
    client = tus_client.TusClient(
        parties.server.url + "/api/v1/uploads", headers=auth(parties.sender)
    )
    # tuspy needs a seekable file and an explicit chunk size. It is given an
    # open stream: from a path it opens the file per chunk and never closes it.
    return client.uploader(
        file_stream=stream,
        chunk_size=CHUNK,
        metadata={"transfer": transfer.id},
        url=url,
    )


def test_tuspy_uploads_in_chunks(parties: Parties, tmp_path: Path) -> None:
    transfer = new_transfer(parties, tmp_path, 5 * CHUNK + 321)
    with transfer.ciphertext.open("rb") as stream:
        uploader = tuspy_uploader(parties, transfer, stream)
        uploader.upload()
    size = transfer.ciphertext.stat().st_size
    assert uploader.offset == size
    assert head_offset(parties, url_of(uploader)) == size
    seal_and_receive(parties, transfer)


def test_tuspy_resumes_an_interrupted_upload(parties: Parties, tmp_path: Path) -> None:
    transfer = new_transfer(parties, tmp_path, 6 * CHUNK)
    with transfer.ciphertext.open("rb") as stream:
        first = tuspy_uploader(parties, transfer, stream)
        first.upload(stop_at=2 * CHUNK)
    assert head_offset(parties, url_of(first)) == 2 * CHUNK
    # A new process would only know the URL: a fresh uploader asks the server for the offset.
    with transfer.ciphertext.open("rb") as stream:
        resumed = tuspy_uploader(parties, transfer, stream, url=url_of(first))
        assert resumed.offset == 2 * CHUNK
        resumed.upload()
    seal_and_receive(parties, transfer)


def test_tuspy_with_sha256_checksums(parties: Parties, tmp_path: Path) -> None:
    transfer = new_transfer(parties, tmp_path, 3 * CHUNK + 7)
    client = tus_client.TusClient(
        parties.server.url + "/api/v1/uploads", headers=auth(parties.sender)
    )
    with transfer.ciphertext.open("rb") as stream:
        uploader = SHA256Uploader(
            file_stream=stream,
            client=client,
            chunk_size=CHUNK,
            metadata={"transfer": transfer.id},
            upload_checksum=True,
        )
        uploader.upload()
    assert head_offset(parties, url_of(uploader)) == transfer.ciphertext.stat().st_size
    seal_and_receive(parties, transfer)


def run_js(parties: Parties, transfer: PendingTransfer, *extra: str) -> dict[str, str | int | bool]:
    node = shutil.which("node")
    assert node is not None, "node is required (scripts/setup.sh installs it)"
    assert (JS / "node_modules" / "tus-js-client").is_dir(), "run scripts/setup.sh (npm ci)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    env["SCELLE_TOKEN"] = parties.sender.token
    result = subprocess.run(
        [
            node,
            str(JS / "upload.mjs"),
            parties.server.url + "/api/v1/uploads",
            transfer.id,
            str(transfer.ciphertext),
            "--chunk-size",
            str(CHUNK),
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=JS,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    outcome: dict[str, str | int | bool] = json.loads(result.stdout)
    return outcome


def patches_served(parties: Parties) -> int:
    """PATCH requests the server answered 204, from its access log."""
    lines = parties.server.log.read_text().splitlines()
    return sum(" PATCH /api/v1/uploads/{upload_id} 204 " in line for line in lines)


def test_tus_js_client_uploads_in_chunks(parties: Parties, tmp_path: Path) -> None:
    transfer = new_transfer(parties, tmp_path, 4 * CHUNK + 99)
    outcome = run_js(parties, transfer)
    size = transfer.ciphertext.stat().st_size
    assert patches_served(parties) == -(-size // CHUNK)
    assert outcome["complete"] is True
    assert outcome["offset"] == size
    assert head_offset(parties, str(outcome["url"])) == size
    seal_and_receive(parties, transfer)


def test_tus_js_client_resumes_what_tuspy_started(parties: Parties, tmp_path: Path) -> None:
    transfer = new_transfer(parties, tmp_path, 6 * CHUNK + 5)
    with transfer.ciphertext.open("rb") as stream:
        started = tuspy_uploader(parties, transfer, stream)
        started.upload(stop_at=CHUNK)
    stopped = run_js(parties, transfer, "--resume", url_of(started), "--stop-after", str(3 * CHUNK))
    assert stopped["complete"] is False
    assert head_offset(parties, url_of(started)) == stopped["offset"]
    assert CHUNK < int(stopped["offset"]) < transfer.ciphertext.stat().st_size
    finished = run_js(parties, transfer, "--resume", url_of(started))
    assert finished["complete"] is True
    assert finished["url"] == url_of(started)
    seal_and_receive(parties, transfer)
