"""``kill -9`` of the server at seeded crash points, over and over.

One real ``scelle serve`` process on a fixed port is armed (through
``SCELLE_TEST_CRASH_AT``, see ``scelle.crash_points``) to SIGKILL itself the
n-th time it reaches one of: an upload's fsync, a blob's rename before the
database points at it, any commit before its response, the middle of a
download. The point and n are drawn from a seeded generator, so a failure
replays exactly. Senders keep sending and recipients keep receiving through
the SDK; when the server dies it is restarted (armed anew) and the client
retries, as a user would.

After every crash has happened, the invariants the product promises are
checked against the real data folder:

* no acknowledged upload is lost: every send that returned complete is
  received byte for byte;
* a retried send creates exactly one transfer;
* no transfer is visible without all of its bytes, and no torn blob is
  served (the client would refuse it; every receive here succeeds);
* after a worker pass, no staged upload or blob is left without its row.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import func, select

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.config import Settings
from scelle.crash_points import POINTS
from scelle.db.models import Transfer, TransferStatus, Upload
from scelle.errors import ServerError
from scelle.server.container import Services, build_services
from scelle.worker import run_once
from tests import factories
from tests.fault.forkserver import ForkServer
from tests.integration.conftest import LiveServer, free_port, stop_server

pytestmark = [pytest.mark.integration, pytest.mark.fault]

T = TypeVar("T")

SEED = int(os.environ.get("SCELLE_FAULT_SEED", "1701"))
CHUNK = 64 * 1024
# How far into its life each point may strike: ``db.committed`` is reached
# several times per send (create, each PATCH, seal), a blob rename once.
MAX_HIT = {"staged.fsynced": 4, "blob.renamed": 2, "db.committed": 9, "download.streaming": 2}
SIZES = (0, 1, 5_000, CHUNK, 3 * CHUNK + 17, 300_000)


@dataclass
class Party:
    member: factories.Member
    state: LocalState
    keyring: Keyring
    _clients: dict[int, ScelleClient] = field(default_factory=dict)

    def sdk(self, server: CrashingServer) -> ScelleClient:
        """A client of the current server process (a new one after each restart)."""
        if server.generation not in self._clients:
            self._clients[server.generation] = ScelleClient(
                server.server.url, self.member.token, timeout=(2.0, 10.0)
            )
        return self._clients[server.generation]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


class CrashingServer:
    """A server process that is restarted, armed anew, each time it kills itself."""

    def __init__(self, data: Path, rng: random.Random, forks: ForkServer) -> None:
        self.data, self.rng, self.port, self.forks = data, rng, free_port(), forks
        self.crashes: Counter[str] = Counter()
        self.armed = ""
        self.generation = 0
        self.server = self._start()

    def _start(self, *, armed: bool = True) -> LiveServer:
        # Round robin over the points (n drawn at random), so that each one strikes.
        point = sorted(POINTS)[self.generation % len(POINTS)]
        self.armed = f"{point}:{self.rng.randint(1, MAX_HIT[point])}" if armed else ""
        self.generation += 1
        # One sender and one recipient make thousands of calls and hundreds of
        # downloads a minute here, as batch accounts would: the operator raises
        # their API rate and download alert threshold.
        env = {
            "SCELLE_THROTTLE_TOKEN_ACCOUNT": "100000/minute",
            "SCELLE_EXFILTRATION_MAX_DOWNLOADS": "100000",
        }
        if armed:
            env["SCELLE_TEST_CRASH_AT"] = self.armed
        return self.forks.start_server(self.data, extra_env=env, port=self.port)

    def disarm(self) -> None:
        """Restart without a crash point, as after the last incident."""
        stop_server(self.server)
        self.server = self._start(armed=False)

    def recover(self) -> bool:
        """After a failed request: True (and restarted) if the server had crashed."""
        try:
            code = self.server.process.wait(timeout=5)
        except Exception:  # noqa: BLE001  (still running: the failure was something else)
            return False
        assert code == -9, f"the server exited with {code}, not by its crash point"
        self.crashes[self.armed.partition(":")[0]] += 1
        self.server = self._start()
        return True

    def stop(self) -> None:
        stop_server(self.server)


def _retrying(server: CrashingServer, action: str, call: Callable[[], T]) -> T:
    for _ in range(8):
        try:
            return call()
        except (ServerError, httpx.HTTPError) as exc:
            status = getattr(exc, "http_status", 0)
            if status not in (0, 502, 503) or not server.recover():
                raise AssertionError(f"{action} failed without a crash: {exc}") from exc
    raise AssertionError(f"{action}: still failing after 8 crashes in a row")


def _setup(data: Path, tmp: Path) -> tuple[Party, Party]:
    ana, bob = factories.sender_and_recipient(Settings(data=data))
    return (
        Party(ana, LocalState(tmp / "ana"), Keyring(ana.identity, ana.signing_key)),
        Party(bob, LocalState(tmp / "bob"), Keyring(bob.identity, bob.signing_key)),
    )


def _used_up(services: Services) -> set[str]:
    with services.database.transaction() as session:
        return set(
            session.scalars(
                select(Transfer.id).where(Transfer.status == TransferStatus.PURGED.value)
            )
        )


def _check_store(services: Services, sent: dict[str, str]) -> None:
    with services.database.transaction() as session:
        rows = session.scalars(select(Transfer)).all()
        by_status = Counter(t.status for t in rows)
        assert {t.id for t in rows if t.status != TransferStatus.PENDING.value} == set(sent)
        # Exactly one transfer per send: a retry never leaves a second one behind.
        assert by_status[TransferStatus.PENDING.value] == 0, by_status
        for transfer in rows:
            if transfer.status == TransferStatus.AVAILABLE.value:
                assert transfer.blob_key is not None
                blob = services.settings.blob_dir / "blobs" / transfer.blob_key
                assert blob.stat().st_size == transfer.payload_size
                assert hashlib.sha256(blob.read_bytes()).digest() == transfer.payload_sha256
        open_uploads = session.scalar(
            select(func.count()).select_from(Upload).where(Upload.completed_at.is_(None))
        )
        assert open_uploads == 0


@pytest.mark.slow
@pytest.mark.timeout(1800)  # 200 crashes and restarts: minutes, not the default 10
def test_kill_9_at_seeded_points_loses_nothing_acknowledged(tmp_path: Path) -> None:
    target = int(os.environ.get("SCELLE_FAULT_CRASHES", "200"))
    rng = random.Random(SEED)  # noqa: S311  (test schedule, not a secret)
    data = tmp_path / "server-data"
    ana, bob = _setup(data, tmp_path)
    sources = tmp_path / "sources"
    sources.mkdir()
    # Each restart is a fork of a process that has already imported the server
    # (tests/fault/forkserver.py): the same `scelle serve`, a tenth of the start-up.
    forks = ForkServer()
    try:
        server = CrashingServer(data, rng, forks)
    except BaseException:
        forks.close()
        raise
    sent: dict[str, str] = {}  # transfer id -> sha256 of its plaintext
    received: set[str] = set()
    try:
        index = 0
        while sum(server.crashes.values()) < target:
            path = sources / f"results-{index}.csv"
            path.write_bytes(os.urandom(rng.choice(SIZES)))
            index += 1

            def send_once(path: Path = path) -> str:
                result = send(
                    ana.sdk(server),
                    ana.state,
                    ana.keyring,
                    path,
                    ["cpam-75"],
                    chunk_size=CHUNK,
                )
                assert result.complete
                return result.transfer_id

            transfer_id = _retrying(server, "send", send_once)
            assert transfer_id not in sent, "a retried send reused another file's transfer"
            sent[transfer_id] = hashlib.sha256(path.read_bytes()).hexdigest()

            def receive_once(transfer_id: str = transfer_id) -> str:
                out = tmp_path / "inbox" / f"{transfer_id}.csv"
                out.parent.mkdir(exist_ok=True)
                result = receive(bob.sdk(server), bob.state, bob.keyring, transfer_id, out)
                return result.sha256

            if rng.random() < 0.5:
                assert _retrying(server, "receive", receive_once) == sent[transfer_id]
                received.add(transfer_id)
        # Everything acknowledged is still there and whole.
        server.disarm()
        for transfer_id in sorted(set(sent) - received):
            out = tmp_path / "inbox" / f"{transfer_id}.csv"
            out.parent.mkdir(exist_ok=True)
            result = receive(bob.sdk(server), bob.state, bob.keyring, transfer_id, out)
            assert result.sha256 == sent[transfer_id]
    finally:
        ana.close()
        bob.close()
        server.stop()
        forks.close()

    services = build_services(Settings(data=data))
    try:
        # Age every file past the worker's grace period, then let it reap.
        past = os.stat(data).st_mtime - 3600
        for stored in services.settings.blob_dir.rglob("*"):
            os.utime(stored, (past, past))
        run_once(services)
        _check_store(services, sent)
        assert list((services.settings.blob_dir / "staging").iterdir()) == []
        kept = {p.name for p in (services.settings.blob_dir / "blobs").iterdir()}
        assert kept == set(sent) - _used_up(services)
    finally:
        services.database.dispose()
    assert set(server.crashes) == POINTS, server.crashes  # every point struck at least once
    print(f"\ncrashes: {dict(server.crashes)}; transfers: {len(sent)}")
