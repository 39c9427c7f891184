"""The worker reaps what no live transfer or upload needs, and only that."""

from __future__ import annotations

import os
import time
from datetime import timedelta

from sqlalchemy import func, select

from scelle import ids
from scelle.db.base import utcnow
from scelle.db.models import OIDCLogin
from scelle.server.container import Services
from scelle.worker import run_once


def _age(path: os.PathLike[str], seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_old_orphan_blobs_and_staged_uploads_are_reaped(services: Services) -> None:
    store = services.blobs
    orphan_upload = ids.new_id("up")
    store.create_staged(orphan_upload)
    store.append(orphan_upload, 0, [b"ciphertext"], 100)
    orphan_blob = ids.new_id("tr")
    committed = ids.new_id("up")
    store.create_staged(committed)
    store.append(committed, 0, [b"ciphertext"], 100)
    store.commit(committed, orphan_blob)
    root = services.settings.blob_dir
    _age(root / "staging" / orphan_upload, 3600)
    _age(root / "blobs" / orphan_blob, 3600)

    report = run_once(services)

    assert (report.orphan_blobs, report.orphan_staging) == (1, 1)
    assert list(store.list_blobs()) == []
    assert list(store.list_staged()) == []


def test_recent_orphans_are_left_alone(services: Services) -> None:
    # A blob renamed into place a moment ago may belong to a commit in flight.
    store = services.blobs
    upload = ids.new_id("up")
    store.create_staged(upload)
    report = run_once(services)
    assert report.orphan_staging == 0
    assert list(store.list_staged()) == [upload]


def test_unrelated_files_in_the_store_are_never_touched(services: Services) -> None:
    stray = services.settings.blob_dir / "blobs" / "README"
    stray.write_text("operator's note")
    _age(stray, 3600)
    run_once(services)
    assert stray.read_text() == "operator's note"


def test_expired_sso_logins_are_forgotten(services: Services) -> None:
    # Anyone can start an SSO login: the worker keeps the table from growing.
    now = utcnow()
    lifetimes = {"old": timedelta(minutes=-1), "new": timedelta(minutes=9)}
    with services.database.transaction() as session:
        for name, lifetime in lifetimes.items():
            session.add(
                OIDCLogin(
                    state_hash=name.ljust(64, "0"),
                    nonce_hash="n" * 64,
                    verifier_sealed=b"v",
                    created_at=now - timedelta(minutes=10),
                    expires_at=now + lifetime,
                )
            )
    assert run_once(services).ceremonies == 1
    with services.database.transaction() as session:
        left = session.scalars(select(OIDCLogin.state_hash)).all()
        assert left == ["new".ljust(64, "0")]
        assert session.scalar(select(func.count()).select_from(OIDCLogin)) == 1
    assert run_once(services).ceremonies == 0
