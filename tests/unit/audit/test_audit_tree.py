"""The stored Merkle tree: one leaf per event, no gaps, roots and proofs from O(log n) nodes."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select

from scelle.audit import repository
from scelle.audit.entry import parse_entry
from scelle.audit.service import consistency_proof, entry_of, inclusion_proof, root
from scelle.crypto.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from scelle.db.engine import Database
from scelle.db.models import AuditEvent, AuditTreeNode
from scelle.errors import InvalidInput, NotFound
from scelle.server.container import Services


def _append(services: Services, n: int, prefix: str = "e") -> None:
    with services.database.transaction() as session:
        for i in range(n):
            services.audit.record(session, f"test:{prefix}:append", object_id=f"tr_{i}", n=i)


def _memory_tree(services: Services) -> MemoryTree:
    tree = MemoryTree()
    with services.database.transaction() as session:
        for event in repository.events(session):
            tree.append(leaf_hash(entry_of(event)))
    return tree


def test_events_become_consecutive_leaves(services: Services) -> None:
    _append(services, 5)
    with services.database.transaction() as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        assert seqs == [1, 2, 3, 4, 5]
        assert repository.tree_size(session) == 5
        leaves = repository.leaf_hashes(session, 0, 5)
    with services.database.transaction() as session:
        rows = list(repository.events(session))
    assert leaves == [leaf_hash(entry_of(row)) for row in rows]
    entry = parse_entry(entry_of(rows[0]))
    assert entry["seq"] == 1
    assert entry["tag"] == "test:e:append"
    assert entry["data"] == {"n": 0}


def test_a_rolled_back_event_leaves_no_gap(services: Services) -> None:
    _append(services, 2)

    def refused() -> None:
        with services.database.transaction() as session:
            services.audit.record(session, "test:e:rolled-back")
            raise NotFound

    with pytest.raises(NotFound):
        refused()
    _append(services, 1)
    with services.database.transaction() as session:
        assert list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq))) == [1, 2, 3]


def test_failure_events_get_leaves(services: Services) -> None:
    _append(services, 1)

    def refused() -> None:
        with services.database.transaction() as session:
            services.audit.record_failure(session, "test:e:failure")
            raise NotFound

    with pytest.raises(NotFound):
        refused()
    with services.database.transaction() as session:
        assert repository.tree_size(session) == 2
        event = session.get(AuditEvent, 2)
        assert event is not None
        assert event.tag == "test:e:failure"
        assert repository.leaf_hashes(session, 1, 2) == [leaf_hash(entry_of(event))]


def test_roots_and_proofs_match_an_in_memory_tree(services: Services) -> None:
    for batch in (1, 2, 5, 13, 21):  # several transactions, odd sizes
        _append(services, batch)
    tree = _memory_tree(services)
    n = tree.size
    assert n == 42
    with services.database.transaction() as session:
        for size in range(n + 1):
            assert root(session, size) == tree.root(size)
        for size in (1, 7, 8, 31, 42):
            for index in range(size):
                proof = inclusion_proof(session, index, size)
                assert proof.path == tree.inclusion_proof(index, size)
                verify_inclusion(proof.leaf_hash, index, size, proof.path, tree.root(size))
            for old in range(size + 1):
                path = consistency_proof(session, old, size)
                verify_consistency(old, size, tree.root(old), tree.root(size), path)


def test_stored_nodes_grow_linearly(services: Services) -> None:
    _append(services, 64)
    with services.database.transaction() as session:
        count = session.scalar(select(func.count()).select_from(AuditTreeNode))
    assert count == 127  # every perfect subtree of 64 leaves, written once


def test_sizes_past_the_tree_are_refused(services: Services) -> None:
    _append(services, 3)
    with services.database.transaction() as session:
        with pytest.raises(InvalidInput):
            root(session, 4)
        with pytest.raises(InvalidInput):
            inclusion_proof(session, 3, 3)
        with pytest.raises(InvalidInput):
            consistency_proof(session, 3, 2)


def test_the_migration_turns_existing_events_into_leaves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    database = Database(url)
    from importlib.resources import files

    cfg = Config()
    cfg.set_main_option("script_location", str(files("scelle.db") / "migrations"))
    with database.engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
        for seq in (1, 4, 9):  # gaps, as a PostgreSQL sequence leaves them
            connection.execute(
                sa.text(
                    "INSERT INTO audit_events (seq, at, tag, data) "
                    "VALUES (:seq, '2026-12-01 10:00:00.000001', 'old:event:kept', '{}')"
                ),
                {"seq": seq},
            )
    database.migrate()
    with database.transaction() as session:
        rows = list(repository.events(session))
        assert [row.seq for row in rows] == [1, 2, 3]
        assert repository.tree_size(session) == 3
        tree = MemoryTree()
        for row in rows:
            tree.append(leaf_hash(entry_of(row)))
        assert root(session, 3) == tree.root()
    database.dispose()
