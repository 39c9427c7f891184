"""Backup and restore of the embedded default: what a backup refuses, and what never comes back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests import factories

from scelle.audit.export import verify_export, write_export
from scelle.backups.service import GONE_REASON, back_up, restore
from scelle.client import Keyring, LocalState, ScelleClient, send
from scelle.config import Settings
from scelle.db.models import AuditEvent, Role, Transfer
from scelle.errors import BackupInvalid
from scelle.server.container import Services, build_services


def _two_transfers(services: Services, client: TestClient, tmp_path: Path) -> tuple[str, str]:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    ana = factories.member(services, "lab-x", Role.SENDER)
    factories.member(services, "cpam-75", Role.RECIPIENT)
    sdk = ScelleClient("http://testserver", ana.token, http=client)
    state, keyring = LocalState(tmp_path / "ana"), Keyring(ana.identity, ana.signing_key)
    source = tmp_path / "results.csv"
    source.write_bytes(b"nir;result\n" * 100)
    first = send(sdk, state, keyring, source, ["cpam-75"]).transfer_id
    second = send(sdk, state, keyring, source, ["cpam-75"], note="2").transfer_id
    return first, second


def test_a_blob_deleted_during_the_backup_never_comes_back(
    services: Services, client: TestClient, tmp_path: Path
) -> None:
    kept, deleted = _two_transfers(services, client, tmp_path)
    # As when the worker purges a transfer between the snapshot and the copy of its blob.
    services.blobs.delete(deleted)
    totals: list[int] = []
    copied: list[int] = []
    report = back_up(
        services,
        tmp_path / "backup",
        keys_out=tmp_path / "vault",
        on_total=totals.append,
        advance=copied.append,
    )
    assert (report.blobs, report.gone) == (1, [deleted])
    assert sum(copied) == report.bytes < totals[0]  # the total was announced up front
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["gone"] == [deleted]
    assert list(manifest["blobs"]) == [kept]

    restored = restore(
        tmp_path / "backup",
        tmp_path / "restored",
        keys=tmp_path / "vault",
        log_key=str(services.log_signer.verifier),
        settings=Settings(data=tmp_path / "unused"),
    )
    assert (restored.blobs, restored.gone) == (1, [deleted])
    again = build_services(Settings(data=tmp_path / "restored"))
    try:
        with again.database.transaction() as session:
            row = session.get(Transfer, deleted)
            assert row is not None
            assert (row.status, row.purge_reason, row.blob_key) == ("purged", GONE_REASON, None)
            purges = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.tag == "transfer:content:purge", AuditEvent.object_id == deleted
                )
            ).all()
            assert len(purges) == 1
            export = io.StringIO()
            write_export(session, again.log_signer.verifier, export)
        export.seek(0)
        assert verify_export(export, again.log_signer.verifier).ok
        assert list(again.blobs.list_blobs()) == [kept]
    finally:
        again.database.dispose()


def test_a_damaged_blob_stops_the_backup_and_leaves_nothing(
    services: Services, client: TestClient, tmp_path: Path
) -> None:
    damaged, _ = _two_transfers(services, client, tmp_path)
    path = services.settings.blob_dir / "blobs" / damaged
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x10
    path.write_bytes(bytes(content))
    with pytest.raises(BackupInvalid, match=damaged):
        back_up(services, tmp_path / "backup")
    assert not (tmp_path / "backup").exists()
    assert list(tmp_path.glob(".backup.partial-*")) == []


def test_a_backup_refuses_a_non_empty_folder_and_keys_inside_it(
    services: Services, tmp_path: Path
) -> None:
    target = tmp_path / "backup"
    target.mkdir()
    (target / "old").write_text("x")
    with pytest.raises(BackupInvalid, match="not empty"):
        back_up(services, target)
    with pytest.raises(BackupInvalid, match="keep the keys out"):
        back_up(services, tmp_path / "other", keys_out=tmp_path / "other" / "keys")
    assert (target / "old").read_text() == "x"


def test_a_folder_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    with pytest.raises(BackupInvalid, match=r"no manifest\.json"):
        restore(tmp_path / "nothing", tmp_path / "restored", settings=Settings(data=tmp_path))
    (tmp_path / "nothing" / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(BackupInvalid, match="not a backup in the"):
        restore(tmp_path / "nothing", tmp_path / "restored", settings=Settings(data=tmp_path))
    assert not (tmp_path / "restored").exists()
