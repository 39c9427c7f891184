"""Breach drill over the real app (HTTP, SQLite, local blobs): several organisations, synthetic
NIRs, one account compromised for a window -> the assessment lists exactly what it downloaded,
the subject counts match, the letters name exactly the people concerned, the server holds no NIR.
The key-scope assessment and the PDF letters go through the `scelle` commands in their own
processes; the transfers go through the HTTP API in this process.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from bench.gen_records import generate
from fastapi.testclient import TestClient
from pypdf import PdfReader
from tests import factories
from tests.factories import Member

from scelle.breach import service as breach_service
from scelle.breach.letters import exposed_people, write_letters
from scelle.client.minimisation import declare, enforce
from scelle.crypto.age.encrypt import encrypt_bytes
from scelle.crypto.age.recipients import X25519Recipient
from scelle.crypto.pseudonym import PseudonymKey
from scelle.crypto.signing import transfer_signature_message
from scelle.db.base import utcnow
from scelle.db.models import Role
from scelle.errors import PolicyViolation
from scelle.server.container import Services
from scelle.subjects import nir
from scelle.transfers import service as transfers_service

pytestmark = pytest.mark.integration

SCELLE = str(Path(sys.executable).parent / "scelle")


def auth(member: Member) -> dict[str, str]:
    return {"Authorization": f"Bearer {member.token}"}


def send_file(
    client: TestClient, sender: Member, recipients: list[Member], path: Path, key_file: Path
) -> str:
    declaration = declare(None, path, key_file=key_file, rules={})  # type: ignore[arg-type]
    plaintext = path.read_bytes()
    age_recipients = [X25519Recipient.parse(str(r.identity.recipient)) for r in recipients]
    payload = encrypt_bytes(plaintext, age_recipients)
    metadata = encrypt_bytes(json.dumps({"v": 1, "name": path.name}).encode(), age_recipients)
    body = {
        "recipients": [{"user_id": r.user_id, "key_id": r.key_id} for r in recipients],
        "payload_size": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": base64.b64encode(metadata).decode(),
        **declaration.body,
    }
    created = client.post("/api/v1/transfers", json=body, headers=auth(sender))
    assert created.status_code == 201, created.text
    transfer_id: str = created.json()["id"]
    meta = "transfer " + base64.b64encode(transfer_id.encode()).decode()
    up = client.post("/api/v1/uploads", headers={**auth(sender), "Tus-Resumable": "1.0.0",
                     "Upload-Length": str(len(payload)), "Upload-Metadata": meta})  # fmt: skip
    assert up.status_code == 201, up.text
    patched = client.patch(up.headers["Location"], content=payload, headers={**auth(sender),
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0",
        "Content-Type": "application/offset+octet-stream"})  # fmt: skip
    assert patched.status_code == 204, patched.text
    message = transfer_signature_message(
        transfer_id, hashlib.sha256(payload).digest(), hashlib.sha256(metadata).digest()
    )
    signature = base64.b64encode(sender.signing_key.sign(message)).decode()
    sealed = client.post(
        f"/api/v1/transfers/{transfer_id}/seal", headers=auth(sender), json={"signature": signature}
    )
    assert sealed.status_code == 200, sealed.text
    assert sealed.json()["subject_count"] == len(declaration.body.get("subjects", []))
    return transfer_id


def download(client: TestClient, member: Member, transfer_id: str) -> None:
    got = client.get(f"/api/v1/transfers/{transfer_id}/content", headers=auth(member))
    assert got.status_code == 200, got.text


def cli(*args: str) -> None:
    """Run a `scelle` command in its own process (the CLI users run); it must succeed.

    It inherits this process's SCELLE_* store settings (the backend's database URL).
    """
    done = subprocess.run([SCELLE, *args], capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr


def pdf_text(path: Path) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(path).pages)


def every_nir_of(files: dict[str, Path]) -> set[str]:
    return {p["nir"] for f in files.values() for p in people_of(f)}


def people_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_breach_drill(client: TestClient, services: Services, tmp_path: Path) -> None:
    for name in ("lab-x", "hop-y", "cpam-75"):
        factories.org(services, name)
    ana = factories.member(services, "lab-x", Role.SENDER)
    hal = factories.member(services, "hop-y", Role.SENDER)
    bob = factories.member(services, "cpam-75", Role.RECIPIENT)
    cat = factories.member(services, "cpam-75", Role.RECIPIENT)
    key_x, key_y = tmp_path / "lab-x.key", tmp_path / "hop-y.key"
    key_x.write_text(PseudonymKey.generate().to_text())
    key_y.write_text(PseudonymKey.generate().to_text())
    files = {}
    for name, seed in (("a", 1), ("b", 2), ("c", 3), ("d", 4)):
        files[name] = tmp_path / f"{name}.csv"
        generate(files[name], size=6000, seed=seed, invalid_rate=0.1)

    t_a = send_file(client, ana, [bob], files["a"], key_x)
    t_b = send_file(client, hal, [bob, cat], files["b"], key_y)
    t_c = send_file(client, ana, [cat], files["c"], key_x)
    start = utcnow()
    download(client, bob, t_a)
    download(client, bob, t_b)
    download(client, cat, t_c)
    end = utcnow()
    time.sleep(0.01)
    t_d = send_file(client, hal, [bob], files["d"], key_y)
    download(client, bob, t_d)  # after the window: not part of the breach

    with services.database.transaction() as session:
        report = breach_service.assess(
            session, services, start=start, end=end, scope="account", account=bob.email
        )
    assert {t["id"] for t in report["transfers"]} == {t_a, t_b}
    assert report["plaintext_exposed"] == "none"
    assert report["art_34_3_a"] is True
    valid = {
        k: {p["nir"] for p in people_of(f) if nir.is_valid(p["nir"])} for k, f in files.items()
    }
    assert report["totals"]["subjects"] == len(valid["a"]) + len(valid["b"])
    assert report["totals"]["records"] == len(people_of(files["a"])) + len(people_of(files["b"]))
    aware = report["aware_at"]
    assert report["notify_by"] > aware
    assert "art. 33(3)" in report["notice"]
    assert "Art. 34(3)(a) applies" in report["notice"]

    # The key scope: bob's device key compromised -> plaintext readable, letters required.
    # Through the host command, as an operator runs it (the server's store, another process).
    keyed_file = tmp_path / "keyed.json"
    cli("breach", "assess", "--from", start.isoformat(), "--to", end.isoformat(), "--scope",
        "key", "--account", bob.email, "--aware-at", (end + timedelta(hours=1)).isoformat(),
        "--format", "json", "-o", str(keyed_file),
        "--data", str(services.settings.data))  # fmt: skip
    keyed = json.loads(keyed_file.read_text())
    with services.database.transaction() as session:
        register = breach_service.register(session)
    assert {t["id"] for t in keyed["transfers"]} == {t_a, t_b}
    assert keyed["plaintext_exposed"] == "yes"
    assert "Art. 34(3)(a) does not apply" in keyed["notice"]
    assert [entry["id"] for entry in register] == [keyed["id"], report["id"]]

    # lab-x writes to its own patients (its list: files a and c), with its key.
    patients = tmp_path / "patients-lab-x.csv"
    with patients.open("w", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["nir", "nom", "adresse"])
        for source in (files["a"], files["c"]):
            for person in people_of(source):
                name = f"{person['prenom']} {person['nom']} #{person['id']}"
                writer.writerow([person["nir"], name, f"{person['id']} rue de la Paix"])
    lab_key = PseudonymKey.from_text(key_x.read_text())
    found = exposed_people(
        patients,
        json.loads(json.dumps(keyed)),
        lab_key,
        id_column="nir",
        name_column="nom",
        address_columns=["adresse"],
    )
    assert {p.identifier for p in found} == valid["a"]
    letters = write_letters(found, keyed, tmp_path / "letters", org="Lab X", contact="dpo@x.test")
    assert len(letters) == len(valid["a"])
    first = letters[0].read_text()
    assert "mot de passe" in first
    assert "coordonnées bancaires" in first
    english = write_letters(found[:1], keyed, tmp_path / "en", org="Lab X", contact="c", lang="en")
    assert "bank details" in english[0].read_text()
    # The same through `scelle breach letters --format pdf`, on lab-x's side, for the first
    # 40 people of each of its two files (a PDF takes ~0.1 s): one PDF per person, naming
    # exactly those of the exposed transfer, and not their NIR.
    short = tmp_path / "patients-short.csv"
    rows = patients.read_text().splitlines()
    chosen = rows[1:41] + rows[1 + len(people_of(files["a"])) :][:40]
    short.write_text("\n".join([rows[0], *chosen]) + "\n")
    cli("breach", "letters", "--assessment", str(keyed_file), "--patients", str(short),
        "--id-column", "nir", "--name-column", "nom", "--address-columns", "adresse",
        "--org", "Lab X", "--contact", "dpo@x.test", "--key-file", str(key_x),
        "--format", "pdf", "-o", str(tmp_path / "pdf"))  # fmt: skip
    texts = [pdf_text(path) for path in sorted((tmp_path / "pdf").glob("letter-*.pdf"))]
    in_list = {line.split(";")[1] for line in chosen}
    expected = {
        name
        for p in people_of(files["a"])
        if p["nir"] in valid["a"] and (name := f"{p['prenom']} {p['nom']} #{p['id']}") in in_list
    }
    assert 0 < len(expected) < len(in_list)
    assert len(texts) == len(expected)
    assert {name for name in in_list if any(f"{name} " in text for text in texts)} == expected
    assert all("coordonnées bancaires" in text for text in texts)
    every_nir = every_nir_of(files)
    assert not any(value in text.replace(" ", "") for value in every_nir for text in texts)

    # The server's data (database and blobs) holds no NIR, no name of the files.
    every_nir = set().union(*valid.values())
    for path in services.settings.data.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            leaked = [value for value in every_nir if value.encode() in data]
            assert not leaked, f"{path.name} holds a NIR"


def test_send_policy_client_and_server(
    client: TestClient, services: Services, tmp_path: Path
) -> None:
    factories.org(services, "lab-p")
    factories.org(services, "cpam-p")
    ana = factories.member(services, "lab-p", Role.SENDER)
    bob = factories.member(services, "cpam-p", Role.RECIPIENT)
    with services.database.transaction() as session:
        from scelle.accounts import repository as accounts_repository

        org = accounts_repository.org_by_name(session, "lab-p")
        assert org is not None
        transfers_service.set_policy(session, services, org.id, {"nir": "block", "email": "warn"})
    policy = client.get("/api/v1/transfers/policy", headers=auth(ana)).json()
    assert policy == {"org": "lab-p", "rules": {"email": "warn", "nir": "block"}}
    with pytest.raises(PolicyViolation):
        enforce(policy["rules"], {"nir": 3}, None)
    assert enforce(policy["rules"], {"email": 2}, None) == ["the file holds 2 values of kind email"]
    assert enforce({"nir": "purpose"}, {"nir": 1}, "étude") == []
    # A client that lies about enforcing still meets the server's check on its declared counts.
    path = tmp_path / "f.csv"
    generate(path, size=2000, seed=5)
    key = tmp_path / "k"
    key.write_text(PseudonymKey.generate().to_text())
    declaration = declare(None, path, key_file=key, rules={})  # type: ignore[arg-type]
    payload = encrypt_bytes(b"x", [X25519Recipient.parse(str(bob.identity.recipient))])
    body: dict[str, Any] = {
        "recipients": [{"user_id": bob.user_id, "key_id": bob.key_id}],
        "payload_size": len(payload),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "metadata": base64.b64encode(payload).decode(),
        **declaration.body,
    }
    refused = client.post("/api/v1/transfers", json=body, headers=auth(ana))
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "policy_violation"
    without_scan = {k: v for k, v in body.items() if k not in {"scan", "subjects"}}
    refused = client.post("/api/v1/transfers", json=without_scan, headers=auth(ana))
    assert refused.status_code == 400
