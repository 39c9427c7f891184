"""The audit tree on PostgreSQL: concurrent appends from many connections, no gap, one tree."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select

from scelle.audit import repository
from scelle.audit.checkpoints import sign_checkpoint
from scelle.audit.service import consistency_proof, entry_of, inclusion_proof, root
from scelle.config import Settings
from scelle.crypto.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from scelle.db.models import AuditEvent
from scelle.errors import NotFound
from scelle.server.container import Services, build_services

pytestmark = pytest.mark.integration

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_services(tmp_path: Path) -> Iterator[Services]:
    name = f"scelle_audit_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover
        pytest.fail(f"PostgreSQL is not reachable on 127.0.0.1:5432: {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    services = build_services(
        Settings(
            data=tmp_path / "data", database_url=f"postgresql://postgres@127.0.0.1:5432/{name}"
        )
    )
    try:
        yield services
    finally:
        services.database.dispose()
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_concurrent_appends_make_one_gapless_tree(pg_services: Services) -> None:
    services = pg_services
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                if i % 7 == 3:  # a refused request: its event rolls back, its failure stays
                    try:
                        with services.database.transaction() as session:
                            services.audit.record(session, "test:pg:rolled-back")
                            services.audit.record_failure(session, "test:pg:failure", n=n)
                            raise NotFound
                    except NotFound:
                        pass
                    continue
                with services.database.transaction() as session:
                    services.audit.record(session, "test:pg:append", n=n, i=i)
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with services.database.transaction() as session:
        seqs = list(session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
        tags = set(session.scalars(select(AuditEvent.tag)))
        size = repository.tree_size(session)
        tree = MemoryTree()
        for row in repository.events(session):
            tree.append(leaf_hash(entry_of(row)))
        assert size == len(seqs) == 6 * 25
        assert seqs == list(range(1, size + 1))
        assert "test:pg:rolled-back" not in tags
        assert root(session, size) == tree.root()
        for index in (0, 17, size - 1):
            proof = inclusion_proof(session, index, size)
            verify_inclusion(proof.leaf_hash, index, size, proof.path, tree.root())
        verify_consistency(
            40, size, tree.root(40), tree.root(), consistency_proof(session, 40, size)
        )
        assert sign_checkpoint(session, services.log_signer) is not None
    with services.database.transaction() as session:
        assert sign_checkpoint(session, services.log_signer) is None  # same size: not twice
