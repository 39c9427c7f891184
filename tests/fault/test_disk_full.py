"""The blob volume fills up mid-upload: 507, a clean state, and recovery once space returns.

The server's blob folder is a real 16 MiB tmpfs mounted for the test (the
database stays on the ordinary disk, as with a separate blob volume).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.config import Settings
from scelle.db.models import Transfer, TransferStatus, Upload
from scelle.errors import ServerError
from scelle.server.container import build_services
from tests import factories
from tests.integration.conftest import start_server, stop_server

pytestmark = [pytest.mark.integration, pytest.mark.fault]

VOLUME = 16 * 1024 * 1024


@pytest.fixture
def small_blob_volume(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    data = tmp_path / "server-data"
    blobs = data / "blobs"
    blobs.mkdir(parents=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={VOLUME},mode=0700", "tmpfs", str(blobs)],
        check=True,
    )
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(blobs)], check=False)


def test_a_full_blob_volume_is_507_and_changes_nothing_else(
    small_blob_volume: Path, tmp_path: Path
) -> None:
    data = small_blob_volume
    ana, bob = factories.sender_and_recipient(Settings(data=data))
    big, small = tmp_path / "big.bin", tmp_path / "small.csv"
    big.write_bytes(os.urandom(VOLUME + 4 * 1024 * 1024))
    small.write_bytes(b"nir;result\n" * 1000)
    state, keyring = LocalState(tmp_path / "ana"), Keyring(ana.identity, ana.signing_key)

    server = start_server(data)
    try:
        with ScelleClient(server.url, ana.token) as sdk:
            with pytest.raises(ServerError) as caught:
                send(sdk, state, keyring, big, ["cpam-75"], chunk_size=1024 * 1024)
            assert caught.value.http_status == 507
            assert "storage" in caught.value.message.lower()

            services = build_services(Settings(data=data), migrate=False)
            try:
                with services.database.transaction() as session:
                    [pending] = session.scalars(select(Transfer)).all()
                    assert pending.status == TransferStatus.PENDING.value
                    assert pending.blob_key is None  # nothing visible, nothing half-published
                    [upload] = session.scalars(select(Upload)).all()
                    # The acknowledged offset is exactly what the volume holds for it.
                    assert upload.offset == services.blobs.staged_size(upload.id)
                    assert upload.offset < upload.length
            finally:
                services.database.dispose()

            # The sender gives up: cancelling frees the space; a smaller send then works.
            sdk.delete_transfer(pending.id)
            sent = send(sdk, state, keyring, small, ["cpam-75"])
            assert sent.complete
        with ScelleClient(server.url, bob.token) as bob_sdk:
            received = receive(
                bob_sdk,
                LocalState(tmp_path / "bob"),
                Keyring(bob.identity, bob.signing_key),
                sent.transfer_id,
                tmp_path / "received.csv",
            )
        assert received.path.read_bytes() == small.read_bytes()
        assert "Traceback" not in server.log.read_text()
    finally:
        stop_server(server)
