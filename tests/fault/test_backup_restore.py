"""Backup while serving, restore onto a fresh data folder, and serve the restored data.

Through a real ``scelle serve`` and the real CLI: transfers are sent, one is
expired and purged, checkpoints are signed into a witness folder, and
``scelle admin backup`` runs while a sender keeps sending. The backup is
restored with ``scelle admin restore`` onto a new folder and a server is
started on it. Checked: the restored audit log verifies against the log key
pinned before the backup and the witness copy; live transfers decrypt with
the CLI and the SDK; the purged one stays gone (410); one that expired between the backup
and the restore is purged by the restored server's first worker pass and
never served; and the restore refuses a non-empty target, wrong keys, a
damaged blob and a different pinned log key, leaving nothing behind.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from scelle.backups.service import restore
from scelle.client import Keyring, LocalState, ScelleClient, receive, send
from scelle.client.state import Session
from scelle.config import Settings
from scelle.crypto.note import NoteSigner
from scelle.db.models import Role
from scelle.errors import BackupInvalid
from scelle.server.container import build_services
from tests import factories
from tests.integration.conftest import (
    DEVICE_PASSPHRASE,
    LiveServer,
    error_line,
    start_server,
    stop_server,
)

pytestmark = [pytest.mark.integration, pytest.mark.fault]

PASS = {"SCELLE_PASSPHRASE": DEVICE_PASSPHRASE}


def _set_expiry(database: Path, transfer_id: str, when: datetime) -> None:
    with sqlite3.connect(database, timeout=30) as db:
        db.execute(
            "UPDATE transfers SET expires_at = ? WHERE id = ?",
            (when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"), transfer_id),
        )


def _status(database: Path, transfer_id: str) -> str:
    with sqlite3.connect(database) as db:
        row = db.execute("SELECT status FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
    assert row is not None
    return str(row[0])


def test_backup_while_serving_then_restore_and_serve(tmp_path: Path) -> None:
    data, witness = tmp_path / "server-data", tmp_path / "witness"
    services = build_services(Settings(data=data))
    try:
        factories.org(services, "lab-x")
        factories.org(services, "cpam-75")
        ana = factories.member(services, "lab-x", Role.SENDER)
        bob = factories.member(services, "cpam-75", Role.RECIPIENT, publish_key=False)
        carl = factories.member(services, "cpam-75", Role.RECIPIENT)  # receives with the SDK
    finally:
        services.database.dispose()
    audit_env = {"SCELLE_WITNESS_DIR": str(witness), "SCELLE_CHECKPOINT_INTERVAL_SECONDS": "0"}
    server = start_server(data, extra_env=audit_env)
    try:
        # Bob uses the real CLI: a logged-in session, keys made and published by keygen.
        bob_home = tmp_path / "bob"
        LocalState(bob_home).save_session(
            Session(server=server.url, token=bob.token, user_id=bob.user_id, email=bob.email)
        )
        server.scelle("keygen", "--passphrase-stdin", home=bob_home, stdin=DEVICE_PASSPHRASE + "\n")
        sdk = ScelleClient(server.url, ana.token)
        state, keyring = LocalState(tmp_path / "ana"), Keyring(ana.identity, ana.signing_key)
        files = []
        for name in ("live-1", "live-2", "purged", "expires-soon"):
            path = tmp_path / f"{name}.csv"
            path.write_bytes(f"nir;result\n{name};{'x' * 3000}\n".encode())
            files.append(path)
        live_1, live_2, purged, soon = (
            send(sdk, state, keyring, path, ["cpam-75"]).transfer_id for path in files
        )

        # One transfer expires and is purged before the backup.
        _set_expiry(data / "scelle.db", purged, datetime.now(UTC) - timedelta(seconds=1))
        report = json.loads(server.scelle("worker", "--once", "--json").stdout)
        assert report["purged"] == 1
        assert report["checkpoint"] is not None
        assert (witness / "latest.checkpoint").is_file()
        pinned = httpx.get(server.url + "/api/v1/audit/log-key").json()["verifier_key"]

        # One expires a few seconds after the backup (before the restore).
        soon_expiry = datetime.now(UTC) + timedelta(seconds=10)
        _set_expiry(data / "scelle.db", soon, soon_expiry)

        # Back up while the sender keeps sending through the running server.
        extra = tmp_path / "during.csv"
        extra.write_bytes(b"sent while the backup runs\n" * 200)
        stop = threading.Event()
        during: list[str] = []

        def keep_sending() -> None:
            while not stop.is_set():
                during.append(send(sdk, state, keyring, extra, ["cpam-75"]).transfer_id)

        sender = threading.Thread(target=keep_sending)
        sender.start()
        try:
            backup, keys = tmp_path / "backup", tmp_path / "vault"
            made = server.scelle(
                "admin", "backup", "-o", str(backup), "--keys-out", str(keys), "--json"
            )
        finally:
            stop.set()
            sender.join(timeout=120)
            sdk.close()
        summary = json.loads(made.stdout)
        assert summary["blobs"] >= 3  # live-1, live-2, expires-soon (+ those sent meanwhile)
        assert summary["witness_files"] >= 2
        assert sorted(summary["keys_written"]) == ["audit-log.key", "server-secret.key"]
        assert not any(p.name.endswith(".key") for p in backup.rglob("*"))
        assert not (backup / "blobs" / purged).exists()
        assert (backup / "blobs" / soon).exists()
    finally:
        stop_server(server)

    # Refusals first (in process, quick): each leaves no folder behind.
    restored_data = tmp_path / "restored"
    settings = Settings(data=tmp_path / "unused")
    with pytest.raises(BackupInvalid, match="no server secret"):
        restore(backup, restored_data, settings=settings)
    other = NoteSigner.generate("other/scelle-audit").verifier
    with pytest.raises(BackupInvalid, match="not the log key you pinned"):
        restore(backup, restored_data, keys=keys, log_key=str(other), settings=settings)
    damaged = tmp_path / "damaged"
    shutil.copytree(backup, damaged)
    blob = damaged / "blobs" / live_2
    content = blob.read_bytes()
    blob.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))
    with pytest.raises(BackupInvalid, match=f"{live_2} \\(digest\\)"):
        restore(damaged, restored_data, keys=keys, settings=settings)
    assert not restored_data.exists()
    assert list(tmp_path.glob(".restored.restoring-*")) == []

    # The one expiring soon has expired by now: the restore happens after it.
    while datetime.now(UTC) <= soon_expiry:
        time.sleep(0.2)
    host = LiveServer(url="", data=restored_data, process=server.process, log=server.log)
    done = host.scelle(
        "admin", "restore", str(backup), "--data", str(restored_data), "--keys", str(keys),
        "--log-key", pinned, "--json",
    )  # fmt: skip
    restore_report = json.loads(done.stdout)
    assert restore_report["blobs"] == summary["blobs"]
    assert restore_report["tree_heads"] >= 2
    not_empty = host.scelle(
        "admin", "restore", str(backup), "--data", str(restored_data), check=False
    )
    assert "not empty" in error_line(not_empty)

    # Same address as before (the clients' sessions are per server URL).
    restored = start_server(restored_data, port=int(server.url.rsplit(":", 1)[1]))
    try:
        # The audit log verifies against the key pinned before the backup.
        export = tmp_path / "restored-audit.jsonl"
        restored.scelle("audit", "export", "-o", str(export))
        verified = restored.scelle(
            "audit", "verify", "--export", str(export), "--log-key", pinned,
            "--tree-head", str(backup / "witness" / "latest.checkpoint"), "--json",
        )  # fmt: skip
        assert json.loads(verified.stdout)["ok"]

        # Never served: refused whether or not the first worker pass ran yet.
        bearer = {"Authorization": f"Bearer {bob.token}"}
        late = httpx.get(f"{restored.url}/api/v1/transfers/{soon}/content", headers=bearer)
        assert late.status_code == 410, late.text
        deadline = time.monotonic() + 30
        while _status(restored_data / "scelle.db", soon) != "purged":
            assert time.monotonic() < deadline, "the restored worker did not purge it"
            time.sleep(0.2)
        assert not (restored_data / "blobs" / "blobs" / soon).exists()

        gone = httpx.get(f"{restored.url}/api/v1/transfers/{purged}/content", headers=bearer)
        assert gone.status_code == 410, gone.text
        again = httpx.get(f"{restored.url}/api/v1/transfers/{soon}/content", headers=bearer)
        assert again.status_code == 410

        # Live transfers decrypt: with the CLI (bob), and with the SDK (carl).
        out = tmp_path / f"restored-{live_1}.csv"
        restored.scelle("receive", live_1, "-o", str(out), home=bob_home, env=PASS)
        assert out.read_bytes() == files[0].read_bytes()
        backed_up = [t for t in during if (backup / "blobs" / t).exists()]
        with ScelleClient(restored.url, carl.token) as carl_sdk:
            carl_state = LocalState(tmp_path / "carl")
            carl_keys = Keyring(carl.identity, carl.signing_key)
            for transfer_id, source in [(live_2, files[1])] + [(t, extra) for t in backed_up]:
                target = tmp_path / f"carl-{transfer_id}.csv"
                receive(carl_sdk, carl_state, carl_keys, transfer_id, target)
                assert target.read_bytes() == source.read_bytes()
    finally:
        stop_server(restored)
