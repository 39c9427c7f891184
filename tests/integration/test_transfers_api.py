"""Transfers over HTTP: the lifecycle, access checks, expiry and download limits."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import Member

from scelle.crypto.age.decrypt import decrypt_bytes
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.signing import transfer_signature_message
from scelle.db.base import utcnow
from scelle.db.models import AuditEvent, Role, Transfer
from scelle.server.container import Services
from scelle.worker import run_once

pytestmark = pytest.mark.integration


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def tus_upload(client: TestClient, member: Member, transfer_id: str, data: bytes) -> None:
    meta = "transfer " + base64.b64encode(transfer_id.encode()).decode()
    created = client.post(
        "/api/v1/uploads",
        headers={
            **auth(member),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": meta,
        },
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    patched = client.patch(
        location,
        content=data,
        headers={
            **auth(member),
            "Tus-Resumable": "1.0.0",
            "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream",
        },
    )
    assert patched.status_code == 204, patched.text


def send(
    client: TestClient,
    sender: Member,
    recipients: list[Member],
    plaintext: bytes,
    *,
    max_downloads: int | None = None,
    expires_in: int | None = None,
    sign: bool = True,
) -> str:
    age_recipients = [X25519Recipient.parse(str(r.identity.recipient)) for r in recipients]
    payload = encrypt_bytes(plaintext, age_recipients)
    metadata = encrypt_bytes(json.dumps({"v": 1, "name": "r.csv"}).encode(), age_recipients)
    body = {
        "recipients": [{"user_id": r.user_id, "key_id": r.key_id} for r in recipients],
        "payload_size": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": base64.b64encode(metadata).decode(),
        "max_downloads": max_downloads,
        "expires_in": expires_in,
    }
    created = client.post("/api/v1/transfers", json=body, headers=auth(sender))
    assert created.status_code == 201, created.text
    transfer_id = created.json()["id"]
    tus_upload(client, sender, transfer_id, payload)
    if sign:
        message = transfer_signature_message(
            transfer_id, hashlib.sha256(payload).digest(), hashlib.sha256(metadata).digest()
        )
        sealed = client.post(
            f"/api/v1/transfers/{transfer_id}/seal",
            json={"signature": base64.b64encode(sender.signing_key.sign(message)).decode()},
            headers=auth(sender),
        )
        assert sealed.status_code == 200, sealed.text
    return transfer_id


@pytest.fixture
def world(services: Services) -> dict[str, Member]:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    factories.org(services, "ars-idf")
    return {
        "ana": factories.member(services, "lab-x", Role.SENDER),
        "bob": factories.member(services, "cpam-75", Role.RECIPIENT),
        "cat": factories.member(services, "cpam-75", Role.RECIPIENT),
        "eve": factories.member(services, "ars-idf", Role.RECIPIENT, Role.SENDER),
    }


def test_send_to_an_org_and_receive(client: TestClient, world: dict[str, Member]) -> None:
    ana, bob = world["ana"], world["bob"]
    found = client.get("/api/v1/directory", params={"to": "cpam-75"}, headers=auth(ana))
    assert found.status_code == 200
    assert {r["email"] for r in found.json()["recipients"]} == {bob.email, world["cat"].email}

    transfer_id = send(client, ana, [bob, world["cat"]], b"nir;result\n")
    inbox = client.get("/api/v1/transfers", params={"box": "inbox"}, headers=auth(bob)).json()
    assert [t["id"] for t in inbox["transfers"]] == [transfer_id]
    described = inbox["transfers"][0]
    assert described["sender"]["key"]["fingerprint"]

    content = client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(bob))
    assert content.status_code == 200
    assert hashlib.sha256(content.content).hexdigest() == described["payload_sha256"]
    assert decrypt_bytes(content.content, [bob.identity]) == b"nir;result\n"


def test_range_resume_does_not_count(client: TestClient, world: dict[str, Member]) -> None:
    ana, bob = world["ana"], world["bob"]
    transfer_id = send(client, ana, [bob], b"x" * 200_000, max_downloads=1)
    first = client.get(
        f"/api/v1/transfers/{transfer_id}/content", headers={**auth(bob), "Range": "bytes=0-999"}
    )
    assert first.status_code == 206
    assert first.headers["Content-Range"].startswith("bytes 0-999/")
    assert len(first.content) == 1000


def test_other_org_and_unknown_ids_look_the_same(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    transfer_id = send(client, world["ana"], [world["bob"]], b"secret")
    eve = world["eve"]
    foreign = client.get(f"/api/v1/transfers/{transfer_id}", headers=auth(eve))
    unknown = client.get("/api/v1/transfers/tr_aaaaaaaaaaaaaaaaaaaaaaaaaa", headers=auth(eve))
    malformed = client.get("/api/v1/transfers/..%2F..%2Fetc%2Fpasswd", headers=auth(eve))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert malformed.status_code == 404
    for path in (f"/api/v1/transfers/{transfer_id}/content",):
        assert client.get(path, headers=auth(eve)).status_code == 404
    assert client.delete(f"/api/v1/transfers/{transfer_id}", headers=auth(eve)).status_code == 404
    # A recipient who is not the sender cannot cancel it either.
    assert (
        client.delete(f"/api/v1/transfers/{transfer_id}", headers=auth(world["bob"])).status_code
        == 404
    )
    with services.database.transaction() as session:
        probes = session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "transfer:lookup:failure")
        ).all()
    assert len(probes) >= 4


def test_download_limit_then_gone_and_blob_deleted(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    ana, bob = world["ana"], world["bob"]
    transfer_id = send(client, ana, [bob], b"limited", max_downloads=2)
    for _ in range(2):
        assert (
            client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(bob)).status_code
            == 200
        )
    third = client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(bob))
    assert third.status_code == 410
    assert client.get(f"/api/v1/transfers/{transfer_id}", headers=auth(bob)).status_code == 410
    assert list(services.blobs.list_blobs()) == []
    with services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        assert transfer is not None
        assert transfer.status == "purged"
        assert transfer.purge_reason == "download_limit"


def test_expired_transfer_is_purged_by_the_worker(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    ana, bob = world["ana"], world["bob"]
    transfer_id = send(client, ana, [bob], b"short-lived", expires_in=3600)
    with services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        assert transfer is not None
        transfer.expires_at = utcnow() - timedelta(seconds=1)
    assert run_once(services).purged == 1
    assert list(services.blobs.list_blobs()) == []
    assert (
        client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(bob)).status_code == 410
    )
    inbox = client.get("/api/v1/transfers", params={"box": "inbox"}, headers=auth(bob)).json()
    assert inbox["transfers"] == []


def test_expired_transfer_is_purged_on_access(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    ana, bob = world["ana"], world["bob"]
    transfer_id = send(client, ana, [bob], b"short-lived")
    with services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        assert transfer is not None
        transfer.expires_at = utcnow() - timedelta(seconds=1)
    assert client.get(f"/api/v1/transfers/{transfer_id}", headers=auth(bob)).status_code == 410
    assert list(services.blobs.list_blobs()) == []
    with services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        assert transfer is not None
        assert transfer.status == "purged"


def test_bad_signature_is_refused_and_changes_nothing(
    client: TestClient, world: dict[str, Member]
) -> None:
    ana, bob = world["ana"], world["bob"]
    transfer_id = send(client, ana, [bob], b"unsigned", sign=False)
    forged = base64.b64encode(world["eve"].signing_key.sign(b"something else")).decode()
    sealed = client.post(
        f"/api/v1/transfers/{transfer_id}/seal", json={"signature": forged}, headers=auth(ana)
    )
    assert sealed.status_code == 422
    assert client.get(f"/api/v1/transfers/{transfer_id}", headers=auth(bob)).status_code == 404
    assert (
        client.get(f"/api/v1/transfers/{transfer_id}", headers=auth(ana)).json()["status"]
        == "pending"
    )


def test_policy_limits(client: TestClient, services: Services, world: dict[str, Member]) -> None:
    ana, bob = world["ana"], world["bob"]
    base = {
        "recipients": [{"user_id": bob.user_id, "key_id": bob.key_id}],
        "payload_size": 100,
        "payload_sha256": "00" * 32,
        "metadata": base64.b64encode(b"x").decode(),
    }
    too_long = client.post(
        "/api/v1/transfers", json={**base, "expires_in": 31 * 86400}, headers=auth(ana)
    )
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "policy_violation"
    too_big = client.post(
        "/api/v1/transfers",
        json={**base, "payload_size": services.settings.max_upload_bytes + 1},
        headers=auth(ana),
    )
    assert too_big.status_code == 413
    stale_key = client.post(
        "/api/v1/transfers",
        json={
            **base,
            "recipients": [{"user_id": bob.user_id, "key_id": "key_aaaaaaaaaaaaaaaaaaaaaaaaaa"}],
        },
        headers=auth(ana),
    )
    assert stale_key.status_code == 409
    # A recipient-only user may not send.
    assert client.post("/api/v1/transfers", json=base, headers=auth(bob)).status_code == 403
    with services.database.transaction() as session:
        assert session.scalars(select(Transfer)).all() == []


def test_a_repeated_creation_returns_the_same_pending_transfer(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    """A retry after a lost answer (same request, same ciphertext digests) creates nothing new."""
    ana, bob, cat = world["ana"], world["bob"], world["cat"]
    age_recipients = [X25519Recipient.parse(str(bob.identity.recipient))]
    payload = encrypt_bytes(b"nir;result\n", age_recipients)
    metadata = encrypt_bytes(b'{"v":1}', age_recipients)
    body = {
        "recipients": [{"user_id": bob.user_id, "key_id": bob.key_id}],
        "payload_size": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": base64.b64encode(metadata).decode(),
    }
    first = client.post("/api/v1/transfers", json=body, headers=auth(ana))
    again = client.post("/api/v1/transfers", json=body, headers=auth(ana))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other_recipients = {**body, "recipients": [{"user_id": cat.user_id, "key_id": cat.key_id}]}
    refused = client.post("/api/v1/transfers", json=other_recipients, headers=auth(ana))
    assert refused.status_code == 409
    with services.database.transaction() as session:
        assert len(session.scalars(select(Transfer)).all()) == 1
    # A new encryption of the same file is a new transfer.
    fresh = {
        **body,
        "metadata": base64.b64encode(encrypt_bytes(b'{"v":1}', age_recipients)).decode(),
    }
    assert (
        client.post("/api/v1/transfers", json=fresh, headers=auth(ana)).json()["id"]
        != first.json()["id"]
    )
