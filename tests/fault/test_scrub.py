"""A bit flipped (or a blob lost) in storage: refused at download, reported by the scrub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.db.models import AuditEvent, Role
from scelle.errors import ScelleError, SignatureInvalid
from scelle.server.container import Services
from tests import factories

pytestmark = [pytest.mark.integration, pytest.mark.fault]

SCELLE = Path(sys.executable).parent / "scelle"


def _scrub(data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    return subprocess.run(
        [str(SCELLE), "worker", "--scrub", "--json", "--data", str(data)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_damaged_ciphertexts_are_refused_and_reported(
    services: Services, client: TestClient, tmp_path: Path
) -> None:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    ana = factories.member(services, "lab-x", Role.SENDER)
    bob = factories.member(services, "cpam-75", Role.RECIPIENT)
    sdk = ScelleClient("http://testserver", ana.token, http=client)
    state, keyring = LocalState(tmp_path / "ana"), Keyring(ana.identity, ana.signing_key)
    ids = []
    for index in range(3):
        source = tmp_path / f"r{index}.csv"
        source.write_bytes(os.urandom(200_000))
        ids.append(send(sdk, state, keyring, source, ["cpam-75"]).transfer_id)
    intact, flipped, lost = ids
    data = services.settings.data
    clean = _scrub(data)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout) == {
        "checked": 3,
        "bytes_read": json.loads(clean.stdout)["bytes_read"],
        "corrupt": {},
    }

    blobs = services.settings.blob_dir / "blobs"
    damaged = bytearray((blobs / flipped).read_bytes())
    damaged[len(damaged) // 2] ^= 0x04
    (blobs / flipped).write_bytes(bytes(damaged))
    (blobs / lost).unlink()

    result = _scrub(data)
    assert result.returncode == 1
    assert json.loads(result.stdout)["corrupt"] == {flipped: "digest", lost: "missing"}
    # The worker's log lines (ids and reasons only) come first, then one error line.
    *logged, line = result.stderr.strip().splitlines()
    assert len(logged) == 2
    assert "Traceback" not in result.stderr
    assert line.startswith("error: 2 stored ciphertext(s) damaged")
    assert flipped in line
    assert lost in line
    with services.database.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "storage:blob:corrupt")
        ).all()
        assert sorted((e.object_id, json.loads(e.data)["reason"]) for e in events) == sorted(
            [(flipped, "digest"), (lost, "missing")]
        )

    bob_sdk = ScelleClient("http://testserver", bob.token, http=client)
    bob_state, bob_keys = LocalState(tmp_path / "bob"), Keyring(bob.identity, bob.signing_key)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SignatureInvalid):
        receive(bob_sdk, bob_state, bob_keys, flipped, out)
    with pytest.raises(ScelleError):
        receive(bob_sdk, bob_state, bob_keys, lost, out)
    assert list(out.iterdir()) == []
    receive(bob_sdk, bob_state, bob_keys, intact, out)
    assert len(list(out.iterdir())) == 1
