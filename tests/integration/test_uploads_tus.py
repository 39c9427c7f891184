"""The tus 1.0 server through the real app: every status it promises, resume, crash recovery."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories
from tests.factories import Member

from scelle.db.base import utcnow
from scelle.db.models import AuditEvent, Role, Transfer, Upload
from scelle.server.container import Services

pytestmark = pytest.mark.integration

TUS = {"Tus-Resumable": "1.0.0"}
STREAM = {"Content-Type": "application/offset+octet-stream"}
MiB = 1024 * 1024


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}", **TUS}


def b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def meta(transfer_id: str, **extra: bytes) -> str:
    pairs = [f"transfer {b64(transfer_id.encode())}"]
    pairs += [f"{key} {b64(value)}" for key, value in extra.items()]
    return ",".join(pairs)


def checksum(data: bytes) -> str:
    return "sha256 " + b64(hashlib.sha256(data).digest())


def assert_tus(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Tus-Resumable"] == "1.0.0"
    assert response.headers["Cache-Control"] == "no-store"
    if code is not None:
        assert response.json()["error"]["code"] == code


def new_transfer(client: TestClient, sender: Member, recipient: Member, payload: bytes) -> str:
    """A pending transfer announcing ``payload`` (opaque bytes: the server never reads them)."""
    body = {
        "recipients": [{"user_id": recipient.user_id, "key_id": recipient.key_id}],
        "payload_size": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": b64(os.urandom(64)),
    }
    created = client.post(
        "/api/v1/transfers", json=body, headers={"Authorization": f"Bearer {sender.token}"}
    )
    assert created.status_code == 201, created.text
    transfer_id: str = created.json()["id"]
    return transfer_id


def create(client: TestClient, member: Member, transfer_id: str, length: int) -> str:
    response = client.post(
        "/api/v1/uploads",
        headers={
            **auth(member),
            "Upload-Length": str(length),
            "Upload-Metadata": meta(transfer_id),
        },
    )
    assert_tus(response, 201)
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Expires"].endswith("GMT")
    location: str = response.headers["Location"]
    assert location.startswith("/api/v1/uploads/up_")
    return location


def patch(
    client: TestClient, member: Member, location: str, offset: int, data: bytes, **headers: str
) -> Any:
    return client.patch(
        location,
        content=data,
        headers={**auth(member), **STREAM, "Upload-Offset": str(offset), **headers},
    )


def head_offset(client: TestClient, member: Member, location: str) -> int:
    response = client.head(location, headers=auth(member))
    assert_tus(response, 200)
    return int(response.headers["Upload-Offset"])


def events(services: Services, tag: str) -> list[AuditEvent]:
    with services.database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.tag == tag)))


def transfer_row(services: Services, transfer_id: str) -> Transfer:
    with services.database.transaction() as session:
        transfer = session.get(Transfer, transfer_id)
        assert transfer is not None
        return transfer


@pytest.fixture
def world(services: Services) -> dict[str, Member]:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    return {
        "ana": factories.member(services, "lab-x", Role.SENDER),
        "bob": factories.member(services, "cpam-75", Role.RECIPIENT),
        "eve": factories.member(services, "lab-x", Role.SENDER),
    }


@pytest.fixture
def payload() -> bytes:
    return os.urandom(300_000)


@pytest.fixture
def pending(client: TestClient, world: dict[str, Member], payload: bytes) -> str:
    return new_transfer(client, world["ana"], world["bob"], payload)


def upload_id_of(location: str) -> str:
    return location.rsplit("/", 1)[1]


# -- discovery and version -------------------------------------------------------------


def test_options_advertises_the_protocol_without_authentication(
    client: TestClient, services: Services
) -> None:
    for path in ("/api/v1/uploads", "/api/v1/uploads/up_aaaaaaaaaaaaaaaaaaaaaaaaaa"):
        response = client.options(path)
        assert response.status_code == 204
        assert response.headers["Tus-Resumable"] == "1.0.0"
        assert response.headers["Tus-Version"] == "1.0.0"
        assert set(response.headers["Tus-Extension"].split(",")) == {
            "creation",
            "termination",
            "expiration",
            "checksum",
        }
        assert response.headers["Tus-Checksum-Algorithm"] == "sha256"
        assert int(response.headers["Tus-Max-Size"]) == services.settings.max_upload_bytes


@pytest.mark.parametrize("version", [None, "0.2.2", "1.0", ""])
def test_every_method_but_options_needs_tus_1_0_0(
    client: TestClient, world: dict[str, Member], pending: str, payload: bytes, version: str | None
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    headers = {"Authorization": f"Bearer {ana.token}"}
    if version is not None:
        headers["Tus-Resumable"] = version
    requests = [
        client.post(
            "/api/v1/uploads",
            headers={
                **headers,
                "Upload-Length": str(len(payload)),
                "Upload-Metadata": meta(pending),
            },
        ),
        client.head(location, headers=headers),
        client.patch(location, content=b"x", headers={**headers, **STREAM, "Upload-Offset": "0"}),
        client.delete(location, headers=headers),
    ]
    for response in requests:
        assert response.status_code == 412
        assert response.headers["Tus-Version"] == "1.0.0"
        assert response.headers["Tus-Resumable"] == "1.0.0"
    # Nothing happened: the upload is still there, at 0.
    assert head_offset(client, ana, location) == 0


def test_a_missing_or_bad_token_is_401_in_tus_terms(
    client: TestClient, pending: str, payload: bytes
) -> None:
    for headers in (TUS, {**TUS, "Authorization": "Bearer sk_nope"}):
        response = client.post(
            "/api/v1/uploads",
            headers={
                **headers,
                "Upload-Length": str(len(payload)),
                "Upload-Metadata": meta(pending),
            },
        )
        assert_tus(response, 401)
        response = client.head("/api/v1/uploads/up_aaaaaaaaaaaaaaaaaaaaaaaaaa", headers=headers)
        assert_tus(response, 401)
        response = client.patch(
            "/api/v1/uploads/up_aaaaaaaaaaaaaaaaaaaaaaaaaa",
            content=b"x",
            headers={**headers, **STREAM, "Upload-Offset": "0"},
        )
        assert_tus(response, 401)


# -- creation ----------------------------------------------------------------------------


def test_creation_is_idempotent_per_transfer(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    first = create(client, ana, pending, len(payload))
    again = create(client, ana, pending, len(payload))
    assert again == first
    response = client.head(first, headers=auth(ana))
    assert_tus(response, 200)
    assert response.headers["Upload-Offset"] == "0"
    assert response.headers["Upload-Length"] == str(len(payload))
    assert response.headers["Upload-Expires"].endswith("GMT")
    with services.database.transaction() as session:
        assert len(list(session.scalars(select(Upload)))) == 1
    assert len(events(services, "upload:session:create")) == 1


def test_creation_refuses_what_is_not_the_callers_pending_transfer(
    client: TestClient, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    eve = world["eve"]
    headers = {**auth(eve), "Upload-Length": str(len(payload))}
    foreign = client.post("/api/v1/uploads", headers={**headers, "Upload-Metadata": meta(pending)})
    unknown = client.post(
        "/api/v1/uploads",
        headers={**headers, "Upload-Metadata": meta("tr_aaaaaaaaaaaaaaaaaaaaaaaaaa")},
    )
    hostile = client.post(
        "/api/v1/uploads", headers={**headers, "Upload-Metadata": meta("../../etc/passwd")}
    )
    missing = client.post("/api/v1/uploads", headers=headers)
    for response in (foreign, unknown, hostile, missing):
        assert_tus(response, 404, "not_found")
    assert foreign.json() == unknown.json()


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Upload-Length": str(65 * 1024**3)}, 413, "payload_too_large"),
        ({"Upload-Length": "299999"}, 422, "invalid_input"),
        ({"Upload-Length": "300001"}, 422, "invalid_input"),
        ({"Upload-Length": "-1"}, 400, "bad_request"),
        ({"Upload-Length": "lots"}, 400, "bad_request"),
        ({}, 400, "bad_request"),
        ({"Upload-Defer-Length": "1"}, 400, "bad_request"),
    ],
)
def test_creation_checks_the_length(
    client: TestClient,
    *,
    world: dict[str, Member],
    pending: str,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    response = client.post(
        "/api/v1/uploads",
        headers={**auth(world["ana"]), "Upload-Metadata": meta(pending), **headers},
    )
    assert_tus(response, status, code)


@pytest.mark.parametrize("metadata", ["transfer !!!notbase64", "transfer a b", "transfer"])
def test_malformed_metadata_is_a_clear_error(
    client: TestClient, world: dict[str, Member], pending: str, payload: bytes, metadata: str
) -> None:
    response = client.post(
        "/api/v1/uploads",
        headers={
            **auth(world["ana"]),
            "Upload-Length": str(len(payload)),
            "Upload-Metadata": metadata,
        },
    )
    assert response.status_code in {400, 404}
    assert_tus(response, response.status_code)


# -- PATCH ---------------------------------------------------------------------------------


def test_resume_after_a_short_patch_then_complete(
    client: TestClient, services: Services, world: dict[str, Member], payload: bytes
) -> None:
    ana, bob = world["ana"], world["bob"]
    transfer_id = new_transfer(client, ana, bob, payload)
    # A generic tus client may send a file name: it must not be kept anywhere.
    created = client.post(
        "/api/v1/uploads",
        headers={
            **auth(ana),
            "Upload-Length": str(len(payload)),
            "Upload-Metadata": meta(transfer_id, filename="résultats-dupont.csv".encode()),
        },
    )
    assert_tus(created, 201)
    location = created.headers["Location"]

    first = patch(client, ana, location, 0, payload[:100_000])
    assert_tus(first, 204)
    assert first.headers["Upload-Offset"] == "100000"
    assert first.headers["Upload-Expires"].endswith("GMT")
    assert head_offset(client, ana, location) == 100_000
    assert transfer_row(services, transfer_id).blob_key is None

    second = patch(
        client,
        ana,
        location,
        100_000,
        payload[100_000:],
        **{"Upload-Checksum": checksum(payload[100_000:])},
    )
    assert_tus(second, 204)
    assert second.headers["Upload-Offset"] == str(len(payload))

    transfer = transfer_row(services, transfer_id)
    assert transfer.blob_key == transfer_id
    assert b"".join(services.blobs.read(transfer_id)) == payload
    assert head_offset(client, ana, location) == len(payload)
    with services.database.transaction() as session:
        upload = session.get(Upload, upload_id_of(location))
        assert upload is not None
        assert upload.completed_at is not None
    (complete,) = events(services, "upload:content:complete")
    assert complete.object_id == transfer_id
    assert hashlib.sha256(payload).hexdigest() in complete.data
    with services.database.transaction() as session:
        everything = " ".join(e.data for e in session.scalars(select(AuditEvent)))
    assert "dupont" not in everything
    assert "filename" not in everything

    # Complete: more bytes, a new creation or a termination are refused.
    assert_tus(patch(client, ana, location, len(payload), b"x"), 409, "conflict")
    again = client.post(
        "/api/v1/uploads",
        headers={
            **auth(ana),
            "Upload-Length": str(len(payload)),
            "Upload-Metadata": meta(transfer_id),
        },
    )
    assert_tus(again, 409, "conflict")
    assert_tus(client.delete(location, headers=auth(ana)), 409, "conflict")


def test_a_multi_mebibyte_patch_streams_through(
    client: TestClient, services: Services, world: dict[str, Member]
) -> None:
    payload = os.urandom(3 * MiB + 12_345)
    transfer_id = new_transfer(client, world["ana"], world["bob"], payload)
    location = create(client, world["ana"], transfer_id, len(payload))

    def body() -> Any:
        for start in range(0, len(payload), 64 * 1024):
            yield payload[start : start + 64 * 1024]

    response = patch(client, world["ana"], location, 0, body())
    assert_tus(response, 204)
    assert response.headers["Upload-Offset"] == str(len(payload))
    assert b"".join(services.blobs.read(transfer_id)) == payload


def test_wrong_content_type_is_415(
    client: TestClient, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    location = create(client, world["ana"], pending, len(payload))
    for content_type in ("application/octet-stream", "text/plain", ""):
        response = client.patch(
            location,
            content=payload[:10],
            headers={**auth(world["ana"]), "Content-Type": content_type, "Upload-Offset": "0"},
        )
        assert_tus(response, 415, "unsupported_media_type")
    assert head_offset(client, world["ana"], location) == 0


def test_wrong_offset_is_409_and_changes_nothing(
    client: TestClient, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    assert_tus(patch(client, ana, location, 0, payload[:1000]), 204)
    for offset in (0, 999, 1001, 5000):
        response = patch(client, ana, location, offset, payload[offset : offset + 10])
        assert_tus(response, 409, "upload_offset_mismatch")
    assert_tus(patch(client, ana, location, 1000, b"", **{"Upload-Offset": "x"}), 400)
    assert head_offset(client, ana, location) == 1000


def test_a_body_past_the_length_is_413_and_nothing_of_it_is_kept(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    assert_tus(patch(client, ana, location, 0, payload[:200_000]), 204)
    response = patch(client, ana, location, 200_000, payload[200_000:] + b"one byte too many")
    assert_tus(response, 413, "payload_too_large")
    assert head_offset(client, ana, location) == 200_000
    assert services.blobs.staged_size(upload_id_of(location)) == 200_000
    assert_tus(patch(client, ana, location, 200_000, payload[200_000:]), 204)


def test_a_chunk_checksum_mismatch_is_460_and_the_offset_stays(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    chunk = payload[:50_000]
    wrong = patch(client, ana, location, 0, chunk, **{"Upload-Checksum": checksum(b"other")})
    assert_tus(wrong, 460, "checksum_mismatch")
    assert head_offset(client, ana, location) == 0
    assert services.blobs.staged_size(upload_id_of(location)) == 0
    for header in (
        "md5 " + b64(bytes(16)),
        "sha256 %%%",
        "sha256 " + b64(b"short"),
    ):
        assert_tus(patch(client, ana, location, 0, chunk, **{"Upload-Checksum": header}), 400)
    right = patch(client, ana, location, 0, chunk, **{"Upload-Checksum": checksum(chunk)})
    assert_tus(right, 204)
    assert right.headers["Upload-Offset"] == "50000"


def test_a_whole_upload_that_misses_the_announced_digest_restarts_at_zero(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    forged = bytes([payload[0] ^ 1]) + payload[1:]
    assert_tus(patch(client, ana, location, 0, forged[:150_000]), 204)
    response = patch(client, ana, location, 150_000, forged[150_000:])
    assert_tus(response, 460, "checksum_mismatch")
    assert head_offset(client, ana, location) == 0
    assert services.blobs.staged_size(upload_id_of(location)) == 0
    assert transfer_row(services, pending).blob_key is None
    assert list(services.blobs.list_blobs()) == []
    (mismatch,) = events(services, "upload:content:mismatch")
    assert mismatch.object_id == pending
    assert events(services, "upload:content:complete") == []
    # The right bytes are then accepted.
    assert_tus(patch(client, ana, location, 0, payload), 204)
    assert transfer_row(services, pending).blob_key == pending


def test_another_users_upload_is_404_like_an_unknown_one(
    client: TestClient, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana, eve = world["ana"], world["eve"]
    location = create(client, ana, pending, len(payload))
    unknown = "/api/v1/uploads/up_aaaaaaaaaaaaaaaaaaaaaaaaaa"
    traversal = client.head("/api/v1/uploads/..%2F..%2Fetc", headers=auth(eve))
    assert traversal.status_code == 404
    for path in (location, unknown, "/api/v1/uploads/up_..", "/api/v1/uploads/tr_x"):
        assert_tus(client.head(path, headers=auth(eve)), 404)
        assert_tus(patch(client, eve, path, 0, payload[:10]), 404, "not_found")
        assert_tus(client.delete(path, headers=auth(eve)), 404, "not_found")
    foreign = patch(client, eve, location, 0, payload[:10])
    assert foreign.json() == patch(client, eve, unknown, 0, payload[:10]).json()
    assert head_offset(client, ana, location) == 0


def test_an_expired_upload_is_410(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    assert_tus(patch(client, ana, location, 0, payload[:10]), 204)
    with services.database.transaction() as session:
        upload = session.get(Upload, upload_id_of(location))
        assert upload is not None
        upload.expires_at = utcnow() - timedelta(seconds=1)
    assert_tus(client.head(location, headers=auth(ana)), 410)
    assert_tus(patch(client, ana, location, 10, payload[10:20]), 410, "gone")


def test_a_cancelled_transfer_takes_its_upload_with_it(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    assert_tus(patch(client, ana, location, 0, payload[:10]), 204)
    cancelled = client.delete(
        f"/api/v1/transfers/{pending}", headers={"Authorization": f"Bearer {ana.token}"}
    )
    assert cancelled.status_code == 204
    assert_tus(client.head(location, headers=auth(ana)), 410)
    assert_tus(patch(client, ana, location, 10, payload[10:]), 410, "gone")
    assert list(services.blobs.list_staged()) == []


def test_termination_deletes_the_staged_bytes(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    assert_tus(patch(client, ana, location, 0, payload[:1000]), 204)
    assert_tus(client.delete(location, headers=auth(ana)), 204)
    assert upload_id_of(location) not in set(services.blobs.list_staged())
    assert_tus(client.head(location, headers=auth(ana)), 404)
    assert_tus(client.delete(location, headers=auth(ana)), 404)
    assert len(events(services, "upload:session:terminate")) == 1
    # The transfer is still pending: a new upload can start.
    fresh = create(client, ana, pending, len(payload))
    assert fresh != location
    assert_tus(patch(client, ana, fresh, 0, payload), 204)


# -- crash recovery ----------------------------------------------------------------------------


def test_bytes_fsynced_but_never_recorded_are_not_trusted(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    """A crash after the fsync but before the database commit: the recorded offset wins."""
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    upload_id = upload_id_of(location)
    assert_tus(patch(client, ana, location, 0, payload[:1000]), 204)
    # What the dead request had made durable without recording it.
    services.blobs.append(upload_id, 1000, [b"\x00" * 5000], len(payload))
    assert services.blobs.staged_size(upload_id) == 6000
    assert head_offset(client, ana, location) == 1000
    assert_tus(patch(client, ana, location, 6000, payload[6000:]), 409)
    assert_tus(patch(client, ana, location, 1000, payload[1000:]), 204)
    assert b"".join(services.blobs.read(pending)) == payload


def test_recorded_bytes_the_store_lost_are_asked_again(
    client: TestClient, services: Services, world: dict[str, Member], pending: str, payload: bytes
) -> None:
    ana = world["ana"]
    location = create(client, ana, pending, len(payload))
    upload_id = upload_id_of(location)
    assert_tus(patch(client, ana, location, 0, payload[:2000]), 204)
    services.blobs.truncate_staged(upload_id, 700)
    assert head_offset(client, ana, location) == 700
    assert_tus(patch(client, ana, location, 700, payload[700:]), 204)
    assert b"".join(services.blobs.read(pending)) == payload
