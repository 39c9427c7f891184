"""The database stops under a running server: 503, nothing half-done, recovery when it returns.

The test runs its own PostgreSQL cluster (initdb into a temporary folder, on
a free port, as the ``postgres`` system user), so stopping it with
``pg_ctl stop -m immediate`` (a crash, no clean shutdown) disturbs nobody.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.config import Settings
from scelle.errors import ServerError
from tests import factories
from tests.integration.conftest import free_port, start_server, stop_server

pytestmark = [pytest.mark.integration, pytest.mark.fault]

PG_BIN = Path("/usr/lib/postgresql/15/bin")


@dataclass
class Cluster:
    folder: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.folder),
                *args,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.folder / "server.log"), "-w", "start")

    def crash(self) -> None:
        self._ctl("-m", "immediate", "-w", "stop")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if os.geteuid() != 0 or shutil.which("runuser") is None or not PG_BIN.exists():
        pytest.skip("needs root and PostgreSQL 15's binaries to run a private cluster")
    folder = Path(f"/tmp/scelle-pg-{os.getpid()}-{free_port()}")
    folder.mkdir(mode=0o700)
    shutil.chown(folder, "postgres", "postgres")
    subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(PG_BIN / "initdb"),
            "-D",
            str(folder),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    running = Cluster(folder, free_port())
    running.start()
    try:
        yield running
    finally:
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(folder),
                "-m",
                "immediate",
                "stop",
            ],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_a_stopped_database_is_503_and_the_server_recovers(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = tmp_path / "server-data"
    settings = Settings(data=data, database_url=cluster.url)
    ana, bob = factories.sender_and_recipient(settings)
    source = tmp_path / "results.csv"
    source.write_bytes(b"nir;result\n" * 100)
    ana_state, ana_keys = LocalState(tmp_path / "ana"), Keyring(ana.identity, ana.signing_key)
    bob_state, bob_keys = LocalState(tmp_path / "bob"), Keyring(bob.identity, bob.signing_key)

    server = start_server(data, extra_env={"SCELLE_DATABASE_URL": cluster.url})
    try:
        with (
            ScelleClient(server.url, ana.token) as ana_sdk,
            ScelleClient(server.url, bob.token) as bob_sdk,
        ):
            before = send(ana_sdk, ana_state, ana_keys, source, ["cpam-75"]).transfer_id

            cluster.crash()
            assert httpx.get(server.url + "/readyz", timeout=10).status_code == 503
            assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
            listing = httpx.get(
                server.url + "/api/v1/transfers",
                headers={"Authorization": f"Bearer {bob.token}"},
                timeout=10,
            )
            assert listing.status_code == 503
            assert listing.json()["error"]["code"] == "service_unavailable"
            assert "Traceback" not in listing.text
            assert "psycopg" not in listing.text
            with pytest.raises(ServerError) as caught:
                send(ana_sdk, ana_state, ana_keys, source, ["cpam-75"])
            assert caught.value.http_status == 503
            with pytest.raises(ServerError) as caught:
                receive(bob_sdk, bob_state, bob_keys, before, tmp_path / "during.csv")
            assert caught.value.http_status == 503
            assert not (tmp_path / "during.csv").exists()

            cluster.start()
            assert httpx.get(server.url + "/readyz", timeout=10).status_code == 200
            after = send(ana_sdk, ana_state, ana_keys, source, ["cpam-75"])
            assert after.complete
            for transfer_id in (before, after.transfer_id):
                out = tmp_path / f"{transfer_id}.csv"
                receive(bob_sdk, bob_state, bob_keys, transfer_id, out)
                assert out.read_bytes() == source.read_bytes()
            listed = httpx.get(
                server.url + "/api/v1/transfers",
                params={"box": "sent"},
                headers={"Authorization": f"Bearer {ana.token}"},
                timeout=10,
            ).json()["transfers"]
            # The send refused during the outage left nothing behind.
            assert {t["id"] for t in listed} == {before, after.transfer_id}
        assert "Traceback" not in server.log.read_text()
    finally:
        stop_server(server)
