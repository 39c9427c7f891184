"""A malicious server: it controls its database and its blobs, not the sender's keys.

Each test lets a real sender send through the real app, then rewrites what
the server stores (as an attacker holding the server would), and checks that
the recipient's client refuses with the right error and that not one byte of
plaintext, nor a temporary file, is left in the output folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.signing import transfer_signature_message
from scelle.db.models import Role, Transfer
from scelle.errors import DecryptionFailed, KeyChanged, ScelleError, SignatureInvalid
from scelle.server.container import Services
from tests import factories

pytestmark = pytest.mark.integration

CHUNK = 64 * 1024
TAG = 16  # Poly1305 tag after each STREAM chunk


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
    return {
        "ana": Party(factories.member(services, "lab-x", Role.SENDER), client, tmp_path / "ana"),
        "bob": Party(
            factories.member(services, "cpam-75", Role.RECIPIENT), client, tmp_path / "bob"
        ),
    }


def _send(party: Party, path: Path) -> str:
    result = send(party.sdk, party.state, party.keyring, path, ["cpam-75"])
    assert result.complete
    return result.transfer_id


def _blob(services: Services, transfer_id: str) -> Path:
    with services.database.transaction() as session:
        key = session.get(Transfer, transfer_id).blob_key  # type: ignore[union-attr]
    [path] = [p for p in services.settings.blob_dir.rglob("*") if p.is_file() and p.name == key]
    return path


def _rewrite_row(services: Services, transfer_id: str, **values: object) -> None:
    with services.database.transaction() as session:
        row = session.get(Transfer, transfer_id)
        assert row is not None
        for name, value in values.items():
            setattr(row, name, value)


def _expect_refusal(
    bob: Party, transfer_id: str, out: Path, error: type[ScelleError]
) -> ScelleError:
    out.mkdir(exist_ok=True)
    with pytest.raises(error) as caught:
        receive(bob.sdk, bob.state, bob.keyring, transfer_id, out)
    assert list(out.iterdir()) == [], "a refused transfer left a file behind"
    return caught.value


PLAIN = os.urandom(3 * CHUNK + 1234)


def _consistent_blob_edit(edit: Callable[[bytes], bytes]) -> Callable[[Services, str], None]:
    """The server edits the ciphertext and updates the size and digest it announces."""

    def apply(services: Services, transfer_id: str) -> None:
        path = _blob(services, transfer_id)
        data = edit(path.read_bytes())
        path.write_bytes(data)
        _rewrite_row(
            services,
            transfer_id,
            payload_size=len(data),
            payload_sha256=hashlib.sha256(data).digest(),
        )

    return apply


def _payload_start(data: bytes) -> int:
    """Offset of the STREAM payload: after the header's MAC line and the 16-byte nonce."""
    return data.index(b"\n", data.index(b"\n---")) + 1 + 16


def _swap_chunks(data: bytes) -> bytes:
    start = _payload_start(data)
    size = CHUNK + TAG
    first, second = data[start : start + size], data[start + size : start + 2 * size]
    return data[:start] + second + first + data[start + 2 * size :]


BLOB_EDITS = {
    "truncated at a chunk boundary": lambda d: d[: _payload_start(d) + 2 * (CHUNK + TAG)],
    "truncated mid-chunk": lambda d: d[:-100],
    "padded": lambda d: d + os.urandom(CHUNK + TAG),
    "two chunks reordered": _swap_chunks,
    "one bit flipped": lambda d: d[:200] + bytes([d[200] ^ 1]) + d[201:],
}


@pytest.mark.parametrize("edit", BLOB_EDITS.values(), ids=BLOB_EDITS.keys())
def test_an_edited_ciphertext_with_a_matching_announced_digest_is_refused(
    parties: dict[str, Party],
    services: Services,
    tmp_path: Path,
    edit: Callable[[bytes], bytes],
) -> None:
    source = tmp_path / "results.csv"
    source.write_bytes(PLAIN)
    transfer_id = _send(parties["ana"], source)
    _consistent_blob_edit(edit)(services, transfer_id)
    # The sender signed the digest: a server that recomputes it still cannot re-sign.
    _expect_refusal(parties["bob"], transfer_id, tmp_path / "out", SignatureInvalid)


def test_an_edited_ciphertext_behind_the_original_digest_is_refused_after_download(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    source = tmp_path / "results.csv"
    source.write_bytes(PLAIN)
    transfer_id = _send(parties["ana"], source)
    path = _blob(services, transfer_id)
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x80
    path.write_bytes(bytes(data))
    _expect_refusal(parties["bob"], transfer_id, tmp_path / "out", SignatureInvalid)


def test_another_transfers_ciphertext_and_signature_are_refused(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    """The server answers for transfer A with everything of transfer B, sender-signed."""
    ana = parties["ana"]
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(b"patient A\n" * 100)
    second.write_bytes(b"patient B\n" * 100)
    a_id, b_id = _send(ana, first), _send(ana, second)
    with services.database.transaction() as session:
        b = session.get(Transfer, b_id)
        assert b is not None
        stolen = {
            "payload_size": b.payload_size,
            "payload_sha256": b.payload_sha256,
            "metadata_ciphertext": b.metadata_ciphertext,
            "metadata_sha256": b.metadata_sha256,
            "signature": b.signature,
        }
    _blob(services, a_id).write_bytes(_blob(services, b_id).read_bytes())
    _rewrite_row(services, a_id, **stolen)
    # B's signature covers B's id: it cannot vouch for A.
    _expect_refusal(parties["bob"], a_id, tmp_path / "out", SignatureInvalid)


def test_metadata_re_encrypted_by_the_server_is_refused(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    """The server knows the recipient's public key, so it can write metadata they can open."""
    bob = parties["bob"]
    source = tmp_path / "results.csv"
    source.write_bytes(b"x;y\n1;2\n")
    transfer_id = _send(parties["ana"], source)
    forged = json.dumps(
        {"v": 1, "name": "../../.bashrc", "size": 8, "type": "text/plain", "note": "", "sha256": ""}
    ).encode()
    metadata = encrypt_bytes(forged, [X25519Recipient.parse(bob.keyring.recipient)])
    _rewrite_row(
        services,
        transfer_id,
        metadata_ciphertext=metadata,
        metadata_sha256=hashlib.sha256(metadata).digest(),
    )
    _expect_refusal(bob, transfer_id, tmp_path / "out", SignatureInvalid)


def test_a_transfer_forged_under_a_swapped_sender_key_is_refused(
    parties: dict[str, Party], services: Services, client: TestClient, tmp_path: Path
) -> None:
    """The server swaps the sender's published key for its own and signs a forgery."""
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "results.csv"
    source.write_bytes(b"genuine\n")
    genuine = _send(ana, source)
    receive(bob.sdk, bob.state, bob.keyring, genuine, tmp_path / "genuine.csv")  # pins ana

    attacker = Keyring.generate()
    ana.sdk.publish_keys(attacker.recipient, attacker.ed25519_public, attacker.self_signature())
    ana.keyring = attacker
    forged = _send(ana, source)
    error = _expect_refusal(bob, forged, tmp_path / "out", KeyChanged)
    assert "scelle keys trust" in str(error)


def test_an_unsigned_transfer_is_refused(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    source = tmp_path / "results.csv"
    source.write_bytes(b"1\n")
    transfer_id = _send(parties["ana"], source)
    _rewrite_row(services, transfer_id, signature=None)
    _expect_refusal(parties["bob"], transfer_id, tmp_path / "out", SignatureInvalid)


def test_a_signature_over_other_digests_is_refused(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    """A genuine sender signature, but over a message for different digests."""
    ana = parties["ana"]
    source = tmp_path / "results.csv"
    source.write_bytes(b"1\n")
    transfer_id = _send(ana, source)
    other = ana.keyring.signing_key.sign(
        transfer_signature_message(transfer_id, b"\x00" * 32, b"\x00" * 32)
    )
    _rewrite_row(services, transfer_id, signature=other)
    _expect_refusal(parties["bob"], transfer_id, tmp_path / "out", SignatureInvalid)


def test_a_ciphertext_for_another_identity_leaves_nothing(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    """The recipient's own key is swapped in the directory: the payload is not theirs."""
    ana, bob = parties["ana"], parties["bob"]
    source = tmp_path / "results.csv"
    source.write_bytes(PLAIN)
    transfer_id = _send(ana, source)
    bob.keyring = Keyring(Keyring.generate().identity, bob.keyring.signing_key)
    _expect_refusal(bob, transfer_id, tmp_path / "out", DecryptionFailed)


def test_the_announced_size_cannot_be_used_to_stop_early(
    parties: dict[str, Party], services: Services, tmp_path: Path
) -> None:
    """The server announces a shorter size (keeping the genuine signed digest)."""
    source = tmp_path / "results.csv"
    source.write_bytes(PLAIN)
    transfer_id = _send(parties["ana"], source)
    with services.database.transaction() as session:
        row = session.get(Transfer, transfer_id)
        assert row is not None
        size = row.payload_size
    _rewrite_row(services, transfer_id, payload_size=size - CHUNK)
    error = _expect_refusal(parties["bob"], transfer_id, tmp_path / "out", ScelleError)
    assert isinstance(error, SignatureInvalid | DecryptionFailed)
