"""The audit API: log key and checkpoint (public), proofs, receipts on upload and download."""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import Member
from tests.integration.test_transfers_api import auth, send

from scelle.crypto.merkle import leaf_hash, verify_consistency, verify_inclusion
from scelle.crypto.note import Checkpoint, NoteVerifier
from scelle.db.models import AuditEvent, Role
from scelle.server.container import Services
from scelle.worker import sign_checkpoint_if_due

pytestmark = pytest.mark.integration


@pytest.fixture
def world(services: Services) -> dict[str, Member]:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    return {
        "ana": factories.member(services, "lab-x", Role.SENDER),
        "bob": factories.member(services, "cpam-75", Role.RECIPIENT),
        "cat": factories.member(services, "cpam-75", Role.RECIPIENT),
        "adm": factories.member(services, "cpam-75", Role.ADMIN),
    }


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def test_receipts_verify_against_the_signed_checkpoint(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    ana, bob = world["ana"], world["bob"]
    key = client.get("/api/v1/audit/log-key").json()
    verifier = NoteVerifier.parse(key["verifier_key"])
    assert key["origin"] == verifier.name
    assert client.get("/api/v1/audit/checkpoint").status_code == 404

    transfer_id = send(client, ana, [bob], b"nir;result\n")
    download = client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(bob))
    leaf = int(download.headers["Scelle-Audit-Leaf"])

    pending = client.get("/api/v1/audit/proofs/inclusion", params={"leaf": leaf}, headers=auth(bob))
    assert pending.status_code == 409  # no checkpoint covers it yet

    assert sign_checkpoint_if_due(services, force=True) is not None
    latest = client.get("/api/v1/audit/checkpoint").json()
    checkpoint = Checkpoint.open(latest["note"], verifier)
    proof = client.get(
        "/api/v1/audit/proofs/inclusion", params={"leaf": leaf}, headers=auth(bob)
    ).json()
    assert proof["tree_size"] == checkpoint.size
    entry = proof["entry"].encode()
    event = json.loads(entry)
    assert event["tag"] == "transfer:content:download"
    assert event["object_id"] == transfer_id
    assert event["actor_id"] == bob.user_id
    assert event["seq"] == leaf + 1
    verify_inclusion(
        leaf_hash(entry),
        leaf,
        checkpoint.size,
        [_b64(p) for p in proof["path"]],
        checkpoint.root_hash,
    )
    assert proof["checkpoint"] == latest["note"]


def test_the_upload_completion_carries_its_leaf(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    transfer_id = send(client, world["ana"], [world["bob"]], b"x")
    sign_checkpoint_if_due(services, force=True)
    life = client.get(f"/api/v1/audit/transfers/{transfer_id}", headers=auth(world["ana"]))
    assert life.status_code == 200
    tags = [json.loads(e["entry"])["tag"] for e in life.json()["events"]]
    assert tags == [
        "transfer:transfer:create",
        "upload:session:create",
        "upload:content:complete",
        "transfer:transfer:seal",
    ]
    complete = life.json()["events"][2]
    proof = client.get(
        "/api/v1/audit/proofs/inclusion",
        params={"leaf": complete["leaf_index"]},
        headers=auth(world["ana"]),
    )
    assert proof.status_code == 200
    assert proof.json()["entry"] == complete["entry"]


def test_events_are_served_only_to_whom_may_read_them(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    transfer_id = send(client, world["ana"], [world["bob"]], b"x")
    sign_checkpoint_if_due(services, force=True)
    life = client.get(f"/api/v1/audit/transfers/{transfer_id}", headers=auth(world["bob"]))
    create_leaf = life.json()["events"][0]["leaf_index"]
    for outsider in (world["cat"], world["adm"]):  # another recipient; another org's admin
        answer = client.get(
            "/api/v1/audit/proofs/inclusion",
            params={"leaf": create_leaf},
            headers=auth(outsider),
        )
        assert answer.status_code == 404
        assert (
            client.get(f"/api/v1/audit/transfers/{transfer_id}", headers=auth(outsider)).status_code
            == 404
        )
    # The admin reads the events of their own organisation (bob's enrolment, in cpam-75).
    with services.database.transaction() as session:
        bob_enrol = session.scalar(
            select(AuditEvent.seq).where(
                AuditEvent.tag == "account:enrol:success",
                AuditEvent.actor_id == world["bob"].user_id,
            )
        )
    assert bob_enrol is not None
    params = {"leaf": bob_enrol - 1}
    assert (
        client.get(
            "/api/v1/audit/proofs/inclusion", params=params, headers=auth(world["adm"])
        ).status_code
        == 200
    )
    assert (
        client.get(
            "/api/v1/audit/proofs/inclusion", params=params, headers=auth(world["cat"])
        ).status_code
        == 404
    )
    far = {"leaf": 10**9}
    assert (
        client.get(
            "/api/v1/audit/proofs/inclusion", params=far, headers=auth(world["bob"])
        ).status_code
        == 404
    )


def test_consistency_proofs_between_checkpoints(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    verifier = NoteVerifier.parse(client.get("/api/v1/audit/log-key").json()["verifier_key"])
    first = sign_checkpoint_if_due(services, force=True)
    assert first is not None
    old = Checkpoint.open(
        client.get(f"/api/v1/audit/checkpoints/{first}", headers=auth(world["bob"])).json()["note"],
        verifier,
    )
    send(client, world["ana"], [world["bob"]], b"more")
    second = sign_checkpoint_if_due(services, force=True)
    assert second is not None
    assert second > first
    new = Checkpoint.open(client.get("/api/v1/audit/checkpoint").json()["note"], verifier)
    proof = client.get(
        "/api/v1/audit/proofs/consistency",
        params={"old_size": old.size, "new_size": new.size},
        headers=auth(world["bob"]),
    ).json()
    verify_consistency(
        old.size, new.size, old.root_hash, new.root_hash, [_b64(p) for p in proof["path"]]
    )
    bad = client.get(
        "/api/v1/audit/proofs/consistency",
        params={"old_size": new.size, "new_size": old.size},
        headers=auth(world["bob"]),
    )
    assert bad.status_code == 422
    too_big = client.get(
        "/api/v1/audit/proofs/consistency",
        params={"old_size": 1, "new_size": 10**9},
        headers=auth(world["bob"]),
    )
    assert too_big.status_code == 422


def test_sender_and_recipient_read_a_transfers_life_through_the_sdk(
    client: TestClient, world: dict[str, Member]
) -> None:
    from scelle.client import ScelleClient
    from scelle.errors import ServerError

    transfer_id = send(client, world["ana"], [world["bob"]], b"x")
    assert client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(world["bob"]))
    lives = [
        ScelleClient("http://testserver", world[name].token, http=client).transfer_history(
            transfer_id
        )
        for name in ("ana", "bob")
    ]
    assert lives[0] == lives[1]
    tags = [event["entry"]["tag"] for event in lives[0]]
    assert tags[0] == "transfer:transfer:create"
    assert "transfer:content:download" in tags
    assert all(event["entry"]["object_id"] == transfer_id for event in lives[0])
    leaves = [event["leaf_index"] for event in lives[0]]
    assert leaves == sorted(leaves)
    with pytest.raises(ServerError) as caught:
        ScelleClient("http://testserver", world["cat"].token, http=client).transfer_history(
            transfer_id
        )
    assert caught.value.http_status == 404
