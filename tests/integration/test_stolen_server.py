"""The stolen-server test: a full copy of the server holds not one byte of plaintext.

Files containing canary text, a canary NIR and canary names (with a canary file
name and note) are sent through a real ``scelle serve``; then every byte of the
database, the blob folder, the server's data folder, its logs and a backup
made by ``scelle admin backup`` is searched
for each canary, raw and in the encodings a leak would likely take. The audit
log is searched on its own too: every row of its tables (events, tree nodes,
tree state, checkpoints) as SQL text, its export and the witness copies.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path

import pytest
from tests.integration.conftest import LiveServer, enrolled_home

pytestmark = pytest.mark.integration

CANARY_NIR = "269054958815780"  # a syntactically valid synthetic NIR (key included)
CANARY_NAME = "Dorothée Canarivaux"
CANARY_TEXT = "CANARY-RESULT-7f3a9c: glycémie 1,32 g/L"
CANARY_FILE = "canary-patient-list-0x5eed.csv"
CANARY_NOTE = "canary note for Dr Pinsonnet"


def _needles() -> dict[str, list[bytes]]:
    needles: dict[str, list[bytes]] = {}
    for label, value in {
        "nir": CANARY_NIR,
        "name": CANARY_NAME,
        "text": CANARY_TEXT,
        "file name": CANARY_FILE,
        "note": CANARY_NOTE,
    }.items():
        raw = value.encode()
        forms = [raw, value.encode("utf-16-le"), base64.b64encode(raw)[:16], raw.hex().encode()]
        if label == "name":
            forms += [b"Canarivaux", "Canarivaux".encode("utf-16-le")]
        if label == "text":
            forms.append(b"CANARY-RESULT-7f3a9c")
        if label == "file name":
            forms.append(b"canary-patient-list")
        needles[label] = forms
    return needles


def test_a_copy_of_the_server_contains_no_plaintext(
    live_server: LiveServer, tmp_path: Path
) -> None:
    server = live_server
    server.scelle("admin", "create-org", "lab-x")
    server.scelle("admin", "create-org", "cpam-75")
    ana, bob = tmp_path / "ana", tmp_path / "bob"
    enrolled_home(server, ana, "ana@lab-x.test", "lab-x", "sender")
    enrolled_home(server, bob, "bob@cpam-75.test", "cpam-75", "recipient")

    rows = "\n".join(f"{CANARY_NIR};{CANARY_NAME};{CANARY_TEXT};{i}" for i in range(2000))
    source = tmp_path / CANARY_FILE
    source.write_text("nir;name;result;row\n" + rows + "\n", encoding="utf-8")
    small = tmp_path / "small.txt"
    small.write_text(CANARY_TEXT, encoding="utf-8")
    passphrase_env = {"SCELLE_PASSPHRASE": "device passphrase 1"}
    sent = []
    for path in (source, small):
        out = server.scelle(
            "send",
            str(path),
            "--to",
            "cpam-75",
            "--note",
            CANARY_NOTE,
            "--json",
            home=ana,
            env=passphrase_env,
        )
        sent.append(out.stdout)

    # The recipient really can read it: the canaries went through the system.
    inbox = json.loads(server.scelle("inbox", "--json", home=bob, env=passphrase_env).stdout)
    assert len(inbox) == 2
    received = tmp_path / "received.csv"
    transfer_id = next(t["id"] for t in inbox if t["name"] == CANARY_FILE)
    server.scelle("receive", transfer_id, "-o", str(received), home=bob, env=passphrase_env)
    assert received.read_bytes() == source.read_bytes()

    # Sign a checkpoint, copy it to a witness folder, export the audit log, and
    # check the receipts: the audit trail is complete before the theft.
    witness = tmp_path / "witness"
    audit_env = {"SCELLE_WITNESS_DIR": str(witness), "SCELLE_CHECKPOINT_INTERVAL_SECONDS": "0"}
    server.scelle("worker", "--once", env=audit_env)
    export = server.data / "audit-export.jsonl"
    server.scelle("audit", "export", "-o", str(export))
    key = server.scelle("audit", "verify", "--export", str(export), "--json", check=False)
    report = json.loads(key.stdout)
    assert report["ok"], report
    assert report["entries"] > 10
    proved = json.loads(server.scelle("receipts", "--json", home=bob, env=passphrase_env).stdout)
    assert [r["status"] for r in proved] == ["verified"]

    audit_dump = tmp_path / "audit-tables.sql"
    connection = sqlite3.connect(server.data / "scelle.db")
    tables = ["audit_events", "audit_tree_nodes", "audit_tree_state", "audit_checkpoints"]
    with audit_dump.open("w", encoding="utf-8") as out:
        for table in tables:
            rows = connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
            assert rows, f"{table} is empty: the audit trail is missing"
            for row in rows:
                out.write(repr(row) + "\n")
    connection.close()

    # The operator's backup, made while the server runs (its host keys go elsewhere).
    backup = tmp_path / "backup"
    server.scelle(
        "admin", "backup", "-o", str(backup), "--keys-out", str(tmp_path / "vault"), env=audit_env
    )

    # Now steal everything the server host has: data folder (DB, WAL, blobs, keys, logs).
    stolen = [p for p in server.data.rglob("*") if p.is_file()] + [server.log]
    stolen += [p for p in witness.rglob("*") if p.is_file()] + [audit_dump]
    stolen += [p for p in backup.rglob("*") if p.is_file()]
    assert backup / "scelle.db" in stolen
    assert any(p.parent == backup / "blobs" for p in stolen)
    assert any(p.parent == backup / "witness" for p in stolen)
    assert export in stolen
    assert (witness / "latest.checkpoint").exists()
    assert any(p.suffix == ".db" for p in stolen)
    assert any("blobs" in p.parts for p in stolen)
    assert any(p.name == "server.log" for p in stolen)
    leaks = []
    for path in stolen:
        content = path.read_bytes()
        for label, forms in _needles().items():
            for form in forms:
                if form in content:
                    leaks.append(f"{label} ({form[:20]!r}) in {path.relative_to(tmp_path)}")
    assert leaks == [], "plaintext reached the server:\n" + "\n".join(leaks)
