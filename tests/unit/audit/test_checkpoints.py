"""Checkpoints: signed by the worker when the tree grew, never inconsistent with the last one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from scelle.audit import repository
from scelle.audit.checkpoints import load_log_signer, open_checkpoint, sign_checkpoint
from scelle.audit.service import root
from scelle.config import Settings
from scelle.crypto.note import Checkpoint, NoteSigner
from scelle.db.models import AuditEvent, AuditTreeNode, AuditTreeState
from scelle.errors import AuditLogInconsistent
from scelle.server.container import Services, build_services
from scelle.worker import run_once, sign_checkpoint_if_due


def _append(services: Services, n: int) -> None:
    with services.database.transaction() as session:
        for i in range(n):
            services.audit.record(session, "test:cp:append", n=i)


def test_the_log_key_is_created_once_with_its_name(tmp_path: Path) -> None:
    settings = Settings(data=tmp_path / "d", public_url="https://scelle.example.org/x")
    first = load_log_signer(settings)
    assert first.name == "scelle.example.org/scelle-audit"
    assert (tmp_path / "d" / "audit-log.key").stat().st_mode & 0o777 == 0o600
    assert load_log_signer(settings).private_text() == first.private_text()


def test_the_log_key_may_come_from_settings(tmp_path: Path) -> None:
    key = NoteSigner.generate("ops.example/log").private_text()
    settings = Settings(data=tmp_path / "d", audit_log_key=key)  # type: ignore[arg-type]
    assert load_log_signer(settings).name == "ops.example/log"
    assert "PRIVATE" not in repr(settings)


def test_checkpoints_are_signed_when_the_tree_grew(services: Services) -> None:
    with services.database.transaction() as session:
        assert sign_checkpoint(session, services.log_signer) is None  # empty tree
    _append(services, 3)
    with services.database.transaction() as session:
        row = sign_checkpoint(session, services.log_signer)
        assert row is not None
        assert row.tree_size == 3
        assert sign_checkpoint(session, services.log_signer) is None  # no growth
    checkpoint = Checkpoint.open(row.note, services.log_signer.verifier)
    assert checkpoint.size == 3
    assert checkpoint.extension("time") is not None
    _append(services, 4)
    with services.database.transaction() as session:
        second = sign_checkpoint(session, services.log_signer)
        assert second is not None
        assert second.tree_size == 7
        assert open_checkpoint(second, services.log_signer.verifier).root_hash == root(session, 7)


def test_a_rewritten_subtree_is_refused(services: Services) -> None:
    # Leaves 0-3 (node (2, 0)) are in the proof from 5 to 7: rewriting them shows.
    _append(services, 5)
    with services.database.transaction() as session:
        sign_checkpoint(session, services.log_signer)
    _append(services, 2)
    with services.database.transaction() as session:
        session.execute(
            update(AuditTreeNode)
            .where(AuditTreeNode.level == 2, AuditTreeNode.index == 0)
            .values(hash=b"\x00" * 32)
        )
    with services.database.transaction() as session, pytest.raises(AuditLogInconsistent):
        sign_checkpoint(session, services.log_signer)


def test_an_event_edited_since_the_last_checkpoint_is_refused(services: Services) -> None:
    _append(services, 2)
    with services.database.transaction() as session:
        sign_checkpoint(session, services.log_signer)
    _append(services, 2)
    with services.database.transaction() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(tag="x:y:z"))
    with services.database.transaction() as session, pytest.raises(AuditLogInconsistent):
        sign_checkpoint(session, services.log_signer)


def test_a_rolled_back_tree_is_refused(services: Services) -> None:
    _append(services, 4)
    with services.database.transaction() as session:
        sign_checkpoint(session, services.log_signer)
        session.execute(update(AuditTreeState).values(size=2))
    with services.database.transaction() as session, pytest.raises(AuditLogInconsistent):
        sign_checkpoint(session, services.log_signer)


def test_a_checkpoint_signed_by_another_key_is_refused(services: Services) -> None:
    _append(services, 2)
    with services.database.transaction() as session:
        sign_checkpoint(session, NoteSigner.generate(services.log_signer.name))
    _append(services, 1)
    with services.database.transaction() as session, pytest.raises(AuditLogInconsistent):
        sign_checkpoint(session, services.log_signer)


def test_two_workers_never_sign_two_heads_of_one_size(settings: Settings) -> None:
    one = build_services(settings)
    two = build_services(settings)
    _append(one, 3)
    with one.database.transaction() as a, two.database.transaction() as b:
        first = sign_checkpoint(a, one.log_signer)
        assert first is not None
    # b started before a committed but signs after: same size, already stored.
    with two.database.transaction() as b:
        assert sign_checkpoint(b, two.log_signer) is None
    with one.database.transaction() as session:
        assert [c.tree_size for c in repository.checkpoints(session)] == [3]
    one.database.dispose()
    two.database.dispose()


def test_the_worker_signs_and_writes_the_witness_copy(tmp_path: Path) -> None:
    settings = Settings(
        data=tmp_path / "d", witness_dir=tmp_path / "witness", checkpoint_interval_seconds=3600
    )
    services = build_services(settings)
    _append(services, 2)
    assert run_once(services).checkpoint == 2
    _append(services, 1)
    assert run_once(services).checkpoint is None  # the interval has not passed
    assert sign_checkpoint_if_due(services, force=True) == 3
    latest = (tmp_path / "witness" / "latest.checkpoint").read_text()
    assert Checkpoint.open(latest, services.log_signer.verifier).size == 3
    assert (tmp_path / "witness" / "000000000002.checkpoint").exists()
    services.database.dispose()


def test_the_worker_keeps_purging_when_the_log_is_inconsistent(services: Services) -> None:
    _append(services, 3)
    run_once(services)
    with services.database.transaction() as session:
        session.execute(update(AuditTreeState).values(size=1))
    services.settings.checkpoint_interval_seconds = 0
    report = run_once(services)
    assert report.errors == ["audit_inconsistent"]
