"""A bounded soak: many concurrent clients against one real server, loopback only.

30 client threads (``SCELLE_SOAK_CLIENTS``) each send a file and receive a
file in a loop for ``SCELLE_SOAK_SECONDS`` (20 in the default run), on the
embedded default (SQLite, one process). Heavier soaks are run by hand with
the variables raised (with 200 clients give it at least 60 s: every client
must complete a round). Every received file
is checked byte for byte. The server's resident memory is sampled from
``/proc`` and must not grow once warmed up.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.config import Settings
from scelle.db.models import Role
from scelle.server.container import build_services
from tests import factories
from tests.integration.conftest import start_server, stop_server

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]

CLIENTS = int(os.environ.get("SCELLE_SOAK_CLIENTS", "30"))
SECONDS = float(os.environ.get("SCELLE_SOAK_SECONDS", "20"))
PAIRS = 10


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_a_bounded_soak_has_no_errors_no_integrity_failure_and_flat_memory(
    tmp_path: Path,
) -> None:
    data = tmp_path / "server-data"
    services = build_services(Settings(data=data))
    try:
        factories.org(services, "lab-x")
        factories.org(services, "cpam-75")
        senders = [factories.member(services, "lab-x", Role.SENDER) for _ in range(PAIRS)]
        recipients = [
            factories.member(services, "cpam-75", Role.RECIPIENT, email=f"r{i}@cpam-75.test")
            for i in range(PAIRS)
        ]
    finally:
        services.database.dispose()
    server = start_server(data)
    stop_at = time.monotonic() + SECONDS
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    lock = threading.Lock()
    rss: list[int] = []

    def sample() -> None:
        while time.monotonic() < stop_at:
            rss.append(_rss_kib(server.process.pid))
            time.sleep(1)

    def client(number: int) -> None:
        sender = senders[number % PAIRS]
        home = tmp_path / f"client-{number}"
        home.mkdir()
        sender_state = LocalState(home / "send")
        sender_keys = Keyring(sender.identity, sender.signing_key)
        with ScelleClient(server.url, sender.token, timeout=(10.0, 120.0)) as sdk:
            loop = 0
            while time.monotonic() < stop_at:
                loop += 1
                source = home / f"file-{loop}.csv"
                content = os.urandom(1024 + (number * 7919 + loop * 104729) % 60_000)
                source.write_bytes(content)
                started = time.monotonic()
                try:
                    result = send(sdk, sender_state, sender_keys, source, ["cpam-75"])
                    # Any of the org's recipients may fetch it; take one by turn.
                    member = recipients[(number + loop) % PAIRS]
                    with ScelleClient(server.url, member.token, timeout=(10.0, 120.0)) as rsdk:
                        got = receive(
                            rsdk,
                            LocalState(home / f"recv-{member.user_id}"),
                            Keyring(member.identity, member.signing_key),
                            result.transfer_id,
                            home / f"got-{loop}.csv",
                        )
                    ok = got.sha256 == hashlib.sha256(content).hexdigest()
                    outcome = "ok" if ok else "integrity failure"
                except Exception as exc:  # noqa: BLE001  (counted and reported, never hidden)
                    outcome = f"error: {type(exc).__name__}: {exc}"[:200]
                with lock:
                    outcomes[outcome] += 1
                    latencies.append(time.monotonic() - started)
                source.unlink()
                (home / f"got-{loop}.csv").unlink(missing_ok=True)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(client, range(CLIENTS)))
    finally:
        stop_server(server)
    sampler.join()

    rounds = sum(outcomes.values())
    latencies.sort()
    warm = rss[len(rss) // 4 :] or rss
    print(
        f"\nsoak: {CLIENTS} clients, {SECONDS:.0f} s, {rounds} send+receive rounds "
        f"({rounds / SECONDS:.1f}/s), p50 {statistics.median(latencies):.2f} s, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} s; server RSS "
        f"{rss[0] // 1024} MiB at start, {min(warm) // 1024}-{max(warm) // 1024} MiB after "
        f"warm-up, {rss[-1] // 1024} MiB at the end; outcomes {dict(outcomes)}"
    )
    assert outcomes["ok"] == rounds, dict(outcomes)
    assert rounds >= CLIENTS  # every client completed at least one round
    # Flat memory once warmed up: the last quarter holds no more than the second.
    second, last = rss[len(rss) // 4 : len(rss) // 2], rss[3 * len(rss) // 4 :]
    assert max(last) <= max(second) + 32 * 1024, (second, last)
