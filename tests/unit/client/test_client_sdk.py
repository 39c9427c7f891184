"""The SDK against the real app in-process: tus resume, send, receive, refusals.

Every request goes through the real FastAPI app (Starlette's TestClient as
the httpx client), with a real database and blob store in a temporary folder.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests import factories

from scelle.client import (
    Keyring,
    LocalState,
    ScelleClient,
    inbox,
    receive,
    safe_name,
    send,
    sent,
    tus,
)
from scelle.db.models import Role
from scelle.errors import ClientError, DecryptionFailed, KeyChanged, ServerError, SignatureInvalid
from scelle.server.container import Services

pytestmark = pytest.mark.integration

CHUNK = 64 * 1024


class Party:
    def __init__(self, member: factories.Member, client: TestClient, home: Path) -> None:
        self.member = member
        self.sdk = ScelleClient("http://testserver", member.token, http=client)
        self.state = LocalState(home)
        self.keyring = Keyring(member.identity, member.signing_key)


@pytest.fixture
def parties(services: Services, client: TestClient, tmp_path: Path) -> dict[str, Party]:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    factories.org(services, "ars-idf")
    return {
        "ana": Party(factories.member(services, "lab-x", Role.SENDER), client, tmp_path / "ana"),
        "bob": Party(
            factories.member(services, "cpam-75", Role.RECIPIENT), client, tmp_path / "bob"
        ),
        "eve": Party(
            factories.member(services, "ars-idf", Role.RECIPIENT), client, tmp_path / "eve"
        ),
    }


def _send(party: Party, path: Path, **kwargs: object) -> str:
    result = send(party.sdk, party.state, party.keyring, path, ["cpam-75"], **kwargs)  # type: ignore[arg-type]
    assert result.complete
    return result.transfer_id


def test_send_then_receive_into_a_folder_with_the_senders_base_name(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "résultats.csv"
    source.write_bytes(os.urandom(200_000))
    transfer_id = _send(ana, source, note="pour le Dr X", max_downloads=1)
    assert list(ana.state.outbox.iterdir()) == []

    [item] = inbox(bob.sdk, bob.state, bob.keyring)
    assert (item["id"], item["name"], item["note"], item["verified"]) == (
        transfer_id,
        "résultats.csv",
        "pour le Dr X",
        True,
    )
    assert [t["id"] for t in sent(ana.sdk)] == [transfer_id]

    folder = tmp_path / "inbox"
    folder.mkdir()
    result = receive(bob.sdk, bob.state, bob.keyring, transfer_id, folder)
    assert result.path == folder / "résultats.csv"
    assert result.path.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == ["résultats.csv"]

    with pytest.raises(ServerError) as gone:
        receive(bob.sdk, bob.state, bob.keyring, transfer_id, tmp_path / "again.csv")
    assert gone.value.http_status == 410
    assert not (tmp_path / "again.csv").exists()


def test_an_interrupted_send_resumes_from_the_server_offset(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(5 * CHUNK + 123))
    args = (ana.sdk, ana.state, ana.keyring, source, ["cpam-75"])
    paused = send(*args, chunk_size=CHUNK, max_chunks=2)
    assert not paused.complete
    [folder] = list(ana.state.outbox.iterdir())
    url = tus.create(ana.sdk, paused.transfer_id, paused.payload_size)
    assert tus.offset(ana.sdk, url) == 2 * CHUNK

    acknowledged: list[int] = []

    def progress(label: str, _total: int) -> object:
        return acknowledged.append if label == "uploading" else (lambda _n: None)

    resumed = send(*args, chunk_size=CHUNK, progress=progress)  # type: ignore[arg-type]
    assert (resumed.complete, resumed.resumed) == (True, True)
    assert resumed.transfer_id == paused.transfer_id
    assert acknowledged[0] == 2 * CHUNK  # the part already on the server, reported once
    assert sum(acknowledged) == paused.payload_size
    assert not folder.exists()
    out = tmp_path / "out.bin"
    receive(bob.sdk, bob.state, bob.keyring, resumed.transfer_id, out)
    assert out.read_bytes() == source.read_bytes()


def test_a_resumed_send_whose_transfer_was_cancelled_starts_over(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    ana = parties["ana"]
    source = tmp_path / "f.bin"
    source.write_bytes(os.urandom(3 * CHUNK))
    args = (ana.sdk, ana.state, ana.keyring, source, ["cpam-75"])
    paused = send(*args, chunk_size=CHUNK, max_chunks=1)
    ana.sdk.delete_transfer(paused.transfer_id)
    again = send(*args, chunk_size=CHUNK)
    assert again.complete
    assert not again.resumed
    assert again.transfer_id != paused.transfer_id


def test_tampered_ciphertext_is_refused_and_leaves_nothing(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "a.csv"
    source.write_bytes(os.urandom(100_000))
    transfer_id = _send(ana, source)
    blob = next(p for p in services.settings.data.rglob(transfer_id) if p.is_file())
    data = bytearray(blob.read_bytes())
    data[-10] ^= 0x01
    blob.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SignatureInvalid):
        receive(bob.sdk, bob.state, bob.keyring, transfer_id, out)
    assert list(out.iterdir()) == []


def test_a_wrong_identity_cannot_decrypt_and_leaves_nothing(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "a.csv"
    source.write_bytes(b"a;b\n")
    transfer_id = _send(ana, source)
    stranger = Keyring(Keyring.generate().identity, bob.keyring.signing_key)
    out = tmp_path / "out.csv"
    with pytest.raises(DecryptionFailed):
        receive(bob.sdk, bob.state, stranger, transfer_id, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "ana", "bob", "data"]


def test_a_changed_sender_key_is_refused_until_trusted(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "a.csv"
    source.write_bytes(b"1\n")
    first = _send(ana, source)
    receive(bob.sdk, bob.state, bob.keyring, first, tmp_path / "first.csv")

    new = Keyring.generate()
    ana.sdk.publish_keys(new.recipient, new.ed25519_public, new.self_signature())
    ana.keyring = new
    second = _send(ana, source)
    with pytest.raises(KeyChanged, match="scelle keys trust"):
        receive(bob.sdk, bob.state, bob.keyring, second, tmp_path / "second.csv")
    [changed] = [i for i in inbox(bob.sdk, bob.state, bob.keyring) if i["id"] == second]
    assert changed["sender_key"] == "changed"
    assert changed["name"] is None
    assert not (tmp_path / "second.csv").exists()

    sender = ana.sdk.transfer(second)["sender"]
    from scelle.client import pins

    pins.trust(bob.state, sender["user_id"], sender["email"], pins.fingerprint_of(sender["key"]))
    receive(bob.sdk, bob.state, bob.keyring, second, tmp_path / "second.csv")
    assert (tmp_path / "second.csv").read_bytes() == b"1\n"


def test_another_orgs_transfer_is_the_same_404_as_an_unknown_one(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    ana, eve = parties["ana"], parties["eve"]
    source = tmp_path / "a.csv"
    source.write_bytes(b"x")
    transfer_id = _send(ana, source)
    errors = []
    for candidate in (transfer_id, "tr_" + "a" * 26, "../../me"):
        with pytest.raises(ServerError) as caught:
            receive(eve.sdk, eve.state, eve.keyring, candidate, tmp_path / "x")
        errors.append((caught.value.http_status, caught.value.message))
    assert errors[0] == errors[1]
    assert errors[0][0] == errors[2][0] == 404  # a path trick stays one (unknown) segment


def test_tus_refuses_a_wrong_offset_without_moving(parties: dict[str, Party]) -> None:
    ana = parties["ana"]
    payload = os.urandom(1000)
    import hashlib

    created = ana.sdk.create_transfer(
        {
            "recipients": [
                {"user_id": parties["bob"].member.user_id, "key_id": parties["bob"].member.key_id}
            ],
            "payload_size": len(payload),
            "payload_sha256": hashlib.sha256(payload).hexdigest(),
            "metadata": base64.b64encode(b"x").decode(),
        }
    )
    url = tus.create(ana.sdk, created["id"], len(payload))
    with pytest.raises(ServerError) as caught:
        ana.sdk.request(
            "PATCH",
            url,
            expect=(204,),
            content=payload[:10],
            headers={
                **tus.TUS,
                "Upload-Offset": "5",
                "Content-Type": "application/offset+octet-stream",
            },
        )
    assert caught.value.http_status == 409
    assert tus.offset(ana.sdk, url) == 0


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("results.csv", "results.csv"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("/abs/path/r.txt", "r.txt"),
    ],
)
def test_safe_name_reduces_to_the_base_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize("name", ["", ".", "..", "a/..", "x\x00y", "line\nbreak", "a" * 256, 42])
def test_safe_name_refuses_unusable_names(name: object) -> None:
    with pytest.raises(ClientError):
        safe_name(name)


def test_an_existing_file_in_the_folder_is_refused_before_a_download_is_spent(
    parties: dict[str, Party], tmp_path: Path
) -> None:
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "report.txt"
    source.write_bytes(b"new")
    transfer_id = _send(ana, source, max_downloads=1)
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "report.txt").write_bytes(b"old")
    with pytest.raises(ClientError, match="exists"):
        receive(bob.sdk, bob.state, bob.keyring, transfer_id, folder)
    assert (folder / "report.txt").read_bytes() == b"old"
    assert sorted(p.name for p in folder.iterdir()) == ["report.txt"]
    assert ana.sdk.transfer(transfer_id)["download_count"] == 0
    result = receive(bob.sdk, bob.state, bob.keyring, transfer_id, folder / "report-2.txt")
    assert result.path.read_bytes() == b"new"
