"""Receipts: kept on upload and download, proved against the pinned log's checkpoints."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from tests import factories

from scelle.client import Keyring, LocalState, ScelleClient, receipts, receive, send
from scelle.crypto.note import Checkpoint, NoteSigner
from scelle.db.base import utcnow
from scelle.db.models import AuditCheckpoint, Role
from scelle.errors import AuditProofInvalid
from scelle.server.container import Services
from scelle.worker import sign_checkpoint_if_due

pytestmark = pytest.mark.integration


class Party:
    def __init__(self, member: factories.Member, client: TestClient, home: Path) -> None:
        self.sdk = ScelleClient("http://testserver", member.token, http=client)
        self.state = LocalState(home)
        self.sdk.receipt_hook = receipts.recorder(self.state, self.sdk.server)
        self.keyring = Keyring(member.identity, member.signing_key)


@pytest.fixture
def pair(services: Services, client: TestClient, tmp_path: Path) -> tuple[Party, Party]:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    ana = Party(factories.member(services, "lab-x", Role.SENDER), client, tmp_path / "ana")
    bob = Party(factories.member(services, "cpam-75", Role.RECIPIENT), client, tmp_path / "bob")
    return ana, bob


def _exchange(ana: Party, bob: Party, tmp_path: Path) -> str:
    source = tmp_path / "r.csv"
    source.write_bytes(os.urandom(1000))
    result = send(ana.sdk, ana.state, ana.keyring, source, ["cpam-75"])
    receive(
        bob.sdk, bob.state, bob.keyring, result.transfer_id, tmp_path / f"{result.transfer_id}.csv"
    )
    return result.transfer_id


def test_receipts_are_kept_then_verified(
    pair: tuple[Party, Party], services: Services, tmp_path: Path
) -> None:
    ana, bob = pair
    transfer_id = _exchange(ana, bob, tmp_path)
    [upload] = receipts.load(ana.state)
    [download] = receipts.load(bob.state)
    assert (upload["kind"], upload["status"]) == ("upload", "pending")
    assert (download["kind"], download["ref"], download["status"]) == (
        "download",
        transfer_id,
        "pending",
    )

    assert receipts.refresh(bob.sdk, bob.state)[0]["status"] == "pending"  # no checkpoint yet
    sign_checkpoint_if_due(services, force=True)
    [proved] = receipts.refresh(bob.sdk, bob.state)
    assert proved["status"] == "verified"
    assert proved["tag"] == "transfer:content:download"
    assert proved["object_id"] == transfer_id
    [uploaded] = receipts.refresh(ana.sdk, ana.state)
    assert uploaded["tag"] == "upload:content:complete"
    assert uploaded["object_id"] == transfer_id


def test_a_changed_log_key_is_refused(
    pair: tuple[Party, Party], services: Services, tmp_path: Path
) -> None:
    ana, bob = pair
    _exchange(ana, bob, tmp_path)
    sign_checkpoint_if_due(services, force=True)
    receipts.refresh(bob.sdk, bob.state)  # pins the key
    _exchange(ana, bob, tmp_path)
    services.log_signer = NoteSigner.generate(services.log_signer.name)
    with pytest.raises(AuditProofInvalid, match="changed"):
        receipts.refresh(bob.sdk, bob.state)


def test_a_rollback_and_a_fork_are_refused(
    pair: tuple[Party, Party], services: Services, tmp_path: Path
) -> None:
    ana, bob = pair
    _exchange(ana, bob, tmp_path)
    first = sign_checkpoint_if_due(services, force=True)
    _exchange(ana, bob, tmp_path)
    second = sign_checkpoint_if_due(services, force=True)
    assert first is not None
    assert second is not None
    receipts.refresh(bob.sdk, bob.state)  # saw the checkpoint of `second`
    _exchange(ana, bob, tmp_path)
    with services.database.transaction() as session:  # the server goes back in time
        session.execute(delete(AuditCheckpoint).where(AuditCheckpoint.tree_size == second))
    with pytest.raises(AuditProofInvalid, match="rollback"):
        receipts.refresh(bob.sdk, bob.state)
    # The key signs a tree that does not extend what bob saw (another history).
    forged = Checkpoint(services.log_signer.name, second + 50, b"\x05" * 32)
    with services.database.transaction() as session:
        session.add(
            AuditCheckpoint(
                tree_size=second + 50,
                root_hash=b"\x05" * 32,
                signed_at=utcnow(),
                note=forged.sign(services.log_signer),
            )
        )
    with pytest.raises(AuditProofInvalid):
        receipts.refresh(bob.sdk, bob.state)
    pending = [r for r in receipts.load(bob.state) if r["status"] == "pending"]
    assert len(pending) == 1
