"""The issue's walk-through against a real `scelle serve` and real `scelle` processes.

A lab sends to the insurer's organisation; its members receive, verify and
decrypt; the download limit, an interrupted upload that resumes, the stored
blob opened with the reference `age` tool, tampering, a key change and
another organisation's id are each checked end to end.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.backends import backend_env
from tests.integration.conftest import (
    DEVICE_PASSPHRASE,
    LiveServer,
    enrolled_home,
    error_line,
    start_server,
    stop_server,
)

from scelle.client import Keyring, LocalState, ScelleClient, send

pytestmark = pytest.mark.integration

PASS_ENV = {"SCELLE_PASSPHRASE": DEVICE_PASSPHRASE}
UNKNOWN_ID = "tr_" + "a" * 26


# One server and one set of enrolled users per backend, shared by the tests
# of this module (enrolling four users through the real CLI takes ~25 s): each
# test sends its own transfers and looks only at them. The key-change test
# changes the key of a recipient of its own.
SHARED_SERVER = True


@pytest.fixture(scope="module")
def live_server(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    databases = request.getfixturevalue("pg_databases") if backend != "sqlite" else None
    seaweed = request.getfixturevalue("seaweedfs") if backend == "scale" else None
    env = backend_env(backend, databases, seaweed)
    server = start_server(tmp_path_factory.mktemp(f"flow-{backend}") / "server-data", extra_env=env)
    yield server
    stop_server(server)
    if databases is not None:
        databases.drop(env["SCELLE_DATABASE_URL"].rsplit("/", 1)[1])


@pytest.fixture(scope="module")
def world(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for org in ("lab-x", "cpam-75", "ars-idf"):
        live_server.scelle("admin", "create-org", org)
    homes = {name: tmp_path_factory.mktemp(name) for name in ("ana", "bob", "cat", "eve")}
    enrolled_home(live_server, homes["ana"], "ana@lab-x.test", "lab-x", "sender")
    enrolled_home(live_server, homes["bob"], "bob@cpam-75.test", "cpam-75", "recipient")
    enrolled_home(live_server, homes["cat"], "cat@cpam-75.test", "cpam-75", "recipient")
    enrolled_home(live_server, homes["eve"], "eve@ars-idf.test", "ars-idf", "recipient")
    return homes


def _blobs(server: LiveServer) -> set[str]:
    return {path.name for path in (server.data / "blobs" / "blobs").glob("tr_*")}


def _staged(server: LiveServer) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in (server.data / "blobs" / "staging").glob("up_*")}


def _send(
    server: LiveServer, home: Path, path: Path, *args: str, to: str = "cpam-75"
) -> dict[str, object]:
    out = server.scelle("send", str(path), "--to", to, *args, "--json", home=home, env=PASS_ENV)
    sent: list[dict[str, object]] = json.loads(out.stdout)
    assert len(sent) == 1
    return sent[0]


def test_send_to_an_org_then_receive_until_the_limit(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    results = tmp_path / "results.csv"
    results.write_bytes(b"nir;glycemie\n" + os.urandom(300_000))
    sent = _send(live_server, world["ana"], results, "--expires", "3d", "--max-downloads", "2")
    assert sorted(sent["recipients"]) == ["bob@cpam-75.test", "cat@cpam-75.test"]  # type: ignore[arg-type]
    transfer_id = str(sent["id"])
    assert sent["status"] == "available"

    inbox = json.loads(
        live_server.scelle("inbox", "--json", home=world["bob"], env=PASS_ENV).stdout
    )
    assert [(t["name"], t["sender"]) for t in inbox if t["id"] == transfer_id] == [
        ("results.csv", "ana@lab-x.test")
    ]
    outbox = json.loads(
        live_server.scelle("sent", "--json", home=world["ana"], env=PASS_ENV).stdout
    )
    assert [t["id"] for t in outbox].count(transfer_id) == 1
    assert transfer_id in _blobs(live_server)

    first = tmp_path / "bob-results.csv"
    live_server.scelle("receive", transfer_id, "-o", str(first), home=world["bob"], env=PASS_ENV)
    assert first.read_bytes() == results.read_bytes()
    folder = tmp_path / "cat-folder"
    folder.mkdir()
    live_server.scelle("receive", transfer_id, "-o", str(folder), home=world["cat"], env=PASS_ENV)
    assert (folder / "results.csv").read_bytes() == results.read_bytes()

    # Two downloads allowed: the ciphertext is gone, and the server says so.
    third = live_server.scelle(
        "receive",
        transfer_id,
        "-o",
        str(tmp_path / "third.csv"),
        home=world["bob"],
        env=PASS_ENV,
        check=False,
    )
    assert "expired" in error_line(third) or "gone" in third.stderr.lower()
    assert not (tmp_path / "third.csv").exists()
    assert transfer_id not in _blobs(live_server)
    inbox = json.loads(
        live_server.scelle("inbox", "--json", home=world["bob"], env=PASS_ENV).stdout
    )
    assert transfer_id not in [t["id"] for t in inbox]


def test_an_interrupted_upload_resumes(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    payload = tmp_path / "big.bin"
    payload.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    staged_before = _staged(live_server)
    state = LocalState(world["ana"])
    session = state.load_session()
    keyring = Keyring.load(state, DEVICE_PASSPHRASE)
    with ScelleClient(session.server, session.token) as client:
        stopped = send(
            client,
            state,
            keyring,
            payload,
            ["cpam-75"],
            chunk_size=512 * 1024,
            max_chunks=2,
        )
    assert not stopped.complete  # interrupted after two chunks
    entries = [json.loads(p.read_text()) for p in state.outbox.glob("*/entry.json")]
    assert entries[0]["transfer_id"] == stopped.transfer_id
    assert len(entries) == 1
    staged = {k: v for k, v in _staged(live_server).items() if k not in staged_before}
    assert list(staged.values()) == [1024 * 1024]

    resumed = _send(live_server, world["ana"], payload)
    assert resumed["resumed"] is True
    assert resumed["id"] == entries[0]["transfer_id"]
    assert list(state.outbox.iterdir()) == []

    out = tmp_path / "got.bin"
    live_server.scelle(
        "receive", str(resumed["id"]), "-o", str(out), home=world["bob"], env=PASS_ENV
    )
    assert out.read_bytes() == payload.read_bytes()


def test_the_stored_blob_opens_with_the_reference_age_tool(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    plain = tmp_path / "report.txt"
    plain.write_bytes(b"compte rendu\n" * 10_000)
    transfer_id = str(_send(live_server, world["ana"], plain)["id"])
    identity = tmp_path / "bob-identity.txt"
    live_server.scelle("identity", "export", "-o", str(identity), home=world["bob"], env=PASS_ENV)
    assert identity.stat().st_mode & 0o077 == 0
    blob = live_server.data / "blobs" / "blobs" / transfer_id
    opened = subprocess.run(
        ["age", "-d", "-i", str(identity), str(blob)], capture_output=True, check=True
    )
    assert opened.stdout == plain.read_bytes()


def test_tampered_ciphertext_or_metadata_is_refused_and_nothing_is_written(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    plain = tmp_path / "a.csv"
    plain.write_bytes(os.urandom(200_000))
    first = str(_send(live_server, world["ana"], plain)["id"])
    second = str(_send(live_server, world["ana"], plain, "--note", "second")["id"])

    blob = live_server.data / "blobs" / "blobs" / first
    data = bytearray(blob.read_bytes())
    data[-100] ^= 0x01
    blob.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    flipped = live_server.scelle(
        "receive", first, "-o", str(out), home=world["bob"], env=PASS_ENV, check=False
    )
    assert "signature" in error_line(flipped) or "signed digest" in flipped.stderr
    assert list(out.iterdir()) == []

    # A malicious server edits the (encrypted) metadata of the second transfer.
    with sqlite3.connect(live_server.data / "scelle.db") as db:
        row = db.execute("SELECT metadata_ciphertext FROM transfers WHERE id = ?", (second,))
        metadata = bytearray(row.fetchone()[0])
        metadata[-5] ^= 0x01
        db.execute(
            "UPDATE transfers SET metadata_ciphertext = ? WHERE id = ?", (bytes(metadata), second)
        )
    edited = live_server.scelle(
        "receive", second, "-o", str(out), home=world["bob"], env=PASS_ENV, check=False
    )
    assert "signature" in error_line(edited)
    assert list(out.iterdir()) == []


def test_a_changed_recipient_key_is_refused_until_trusted(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    # Recipients of this test's own: the shared ones keep their keys.
    org = "drees"
    live_server.scelle("admin", "create-org", org)
    dan, fay = tmp_path / "dan", tmp_path / "fay"
    enrolled_home(live_server, dan, f"dan@{org}.test", org, "recipient")
    enrolled_home(live_server, fay, f"fay@{org}.test", org, "recipient")
    plain = tmp_path / "r.csv"
    plain.write_bytes(b"x;y\n")
    _send(live_server, world["ana"], plain, to=org)  # pins dan's and fay's keys
    live_server.scelle(
        "keygen", "--force", "--passphrase-stdin", home=dan, stdin="new passphrase\n"
    )
    refused = live_server.scelle(
        "send", str(plain), "--to", org, home=world["ana"], env=PASS_ENV, check=False
    )
    line = error_line(refused)
    assert f"dan@{org}.test" in line
    assert "scelle keys trust" in line
    shown = json.loads(live_server.scelle("keys", "show", org, "--json", home=world["ana"]).stdout)
    assert {r["email"]: r["pin"] for r in shown} == {
        f"dan@{org}.test": "changed",
        f"fay@{org}.test": "pinned",
    }
    live_server.scelle("keys", "trust", f"dan@{org}.test", home=world["ana"])
    again = _send(live_server, world["ana"], plain, to=org)
    out = tmp_path / "dan.csv"
    live_server.scelle(
        "receive",
        str(again["id"]),
        "-o",
        str(out),
        home=dan,
        env={"SCELLE_PASSPHRASE": "new passphrase"},
    )
    assert out.read_bytes() == b"x;y\n"


def test_another_orgs_transfer_looks_unknown(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    plain = tmp_path / "r.csv"
    plain.write_bytes(b"secret\n")
    transfer_id = str(_send(live_server, world["ana"], plain)["id"])
    foreign = live_server.scelle(
        "receive",
        transfer_id,
        "-o",
        str(tmp_path / "x"),
        home=world["eve"],
        env=PASS_ENV,
        check=False,
    )
    unknown = live_server.scelle(
        "receive",
        UNKNOWN_ID,
        "-o",
        str(tmp_path / "x"),
        home=world["eve"],
        env=PASS_ENV,
        check=False,
    )
    assert error_line(foreign) == error_line(unknown)
    assert "not found" in error_line(foreign)


def test_wrong_passphrase_and_missing_login_are_clear_errors(
    live_server: LiveServer, world: dict[str, Path], tmp_path: Path
) -> None:
    wrong = live_server.scelle(
        "inbox", home=world["bob"], env={"SCELLE_PASSPHRASE": "nope"}, check=False
    )
    assert error_line(wrong) == "error: wrong passphrase for the local keys"
    nobody = live_server.scelle("inbox", home=tmp_path / "fresh", env=PASS_ENV, check=False)
    assert "error: " in error_line(nobody)
