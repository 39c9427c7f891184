"""Stolen server at scale: 1,000 transfers with canary content, then steal everything.

Each transfer carries its own canary (a synthetic valid NIR, a name, a result
line, a file name and a note). After the sends, a sample is received to prove
the canaries really went through; then the database, its write-ahead log, a
backup made with SQLite's online backup API, every blob and a DEBUG-level
log of the server are searched byte-wise for every canary.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.config import Settings
from scelle.db.models import Role
from scelle.server.container import Services
from tests import factories
from tests.integration.conftest import BIN

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TRANSFERS = 1000
RECIPIENT_ORGS = ("cpam-75", "ars-idf", "chu-lyon")


def _nir(rng: random.Random) -> str:
    """A synthetic NIR with a valid key (97 - n mod 97): never a real person's."""
    body = (
        f"{rng.choice('12')}{rng.randint(0, 99):02d}{rng.randint(1, 12):02d}"
        f"{rng.randint(1, 95):02d}{rng.randint(1, 990):03d}{rng.randint(1, 999):03d}"
    )
    return f"{body}{97 - int(body) % 97:02d}"


def _canaries(index: int, rng: random.Random) -> dict[str, str]:
    return {
        "nir": _nir(rng),
        "name": f"Canarivaux{index:04d} Pinson",
        "text": f"CANARY-{index:04d}-glycemie-{rng.randint(100, 999)}",
        "file": f"canary-list-{index:04d}.csv",
        "note": f"canary note {index:04d} for Dr Merle",
    }


@pytest.fixture
def settings(tmp_path: Path, store_env: dict[str, str]) -> Settings:
    # One lab account sends 1,000 files in a couple of minutes (about 6,000
    # API calls): an operator raises the per-account API rate for such a
    # batch sender, as here; the default (1,200/minute) would throttle it.
    return Settings(data=tmp_path / "data", throttle_token_account="100000/minute")


@pytest.fixture
def server_log(services: Services) -> Iterator[Path]:
    """Everything the server logs, at DEBUG, as an operator's log file would hold it."""
    path = services.settings.data / "logs" / "debug.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    scelle_logger = logging.getLogger("scelle")
    old_levels = root.level, scelle_logger.level
    root.addHandler(handler)
    scelle_logger.addHandler(handler)
    root.setLevel(logging.DEBUG)
    scelle_logger.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        scelle_logger.removeHandler(handler)
        root.setLevel(old_levels[0])
        scelle_logger.setLevel(old_levels[1])
        handler.close()


def test_a_thousand_canary_transfers_leave_no_canary_on_the_server(
    services: Services, client: TestClient, server_log: Path, tmp_path: Path
) -> None:
    rng = random.Random(20211)  # noqa: S311  (synthetic test data, not a secret)
    factories.org(services, "lab-x")
    for name in RECIPIENT_ORGS:
        factories.org(services, name)
    sender = factories.member(services, "lab-x", Role.SENDER)
    recipients = {name: factories.member(services, name, Role.RECIPIENT) for name in RECIPIENT_ORGS}
    sdk = ScelleClient("http://testserver", sender.token, http=client)
    state = LocalState(tmp_path / "sender-home")
    keyring = Keyring(sender.identity, sender.signing_key)
    sources = tmp_path / "sources"
    sources.mkdir()

    sent: list[tuple[str, str, dict[str, str]]] = []
    for index in range(TRANSFERS):
        canary = _canaries(index, rng)
        path = sources / canary["file"]
        path.write_text(
            f"nir;nom;resultat\n{canary['nir']};{canary['name']};{canary['text']}\n",
            encoding="utf-8",
        )
        org = RECIPIENT_ORGS[index % len(RECIPIENT_ORGS)]
        result = send(sdk, state, keyring, path, [org], note=canary["note"])
        assert result.complete
        sent.append((result.transfer_id, org, canary))

    # A sample is really readable by its recipient: the canaries went through.
    for transfer_id, org, canary in rng.sample(sent, 12):
        member = recipients[org]
        received = receive(
            ScelleClient("http://testserver", member.token, http=client),
            LocalState(tmp_path / f"home-{org}"),
            Keyring(member.identity, member.signing_key),
            transfer_id,
            tmp_path / f"received-{transfer_id}.csv",
        )
        assert canary["nir"] in received.path.read_text(encoding="utf-8")
        assert received.note == canary["note"]

    # A backup made by the operator's command while the server is up, keys apart.
    backup, vault = tmp_path / "backup", tmp_path / "vault"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    made = subprocess.run(
        [str(BIN / "scelle"), "admin", "backup", "--data", str(services.settings.data),
         "-o", str(backup), "--keys-out", str(vault), "--json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["blobs"] >= TRANSFERS - 12
    stolen = [p for p in services.settings.data.rglob("*") if p.is_file()]
    stolen += [p for p in (backup.rglob("*")) if p.is_file()]
    assert backup / "scelle.db" in stolen
    blobs = [p for p in stolen if "blobs" in p.parts]
    assert len(blobs) >= TRANSFERS - 12  # received ones may be used up; the rest are there
    assert server_log.stat().st_size > 0

    needles = {
        value.encode(): f"{kind} of transfer {tid}"
        for tid, _, c in sent
        for kind, value in c.items()
    }
    needles |= {
        value.encode("utf-16-le"): f"{kind} (UTF-16)"
        for _, _, c in sent
        for kind, value in c.items()
        if kind in ("nir", "name")
    }
    common = [b"CANARY-", b"Canarivaux", b"canary-list-", b"canary note"]
    leaks = []
    for path in stolen:
        content = path.read_bytes()
        leaks += [f"{form!r} in {path.name}" for form in common if form in content]
        if not leaks:
            leaks += [
                f"{label} in {path.name}" for form, label in needles.items() if form in content
            ]
    assert leaks == [], "plaintext reached the server:\n" + "\n".join(leaks[:20])
