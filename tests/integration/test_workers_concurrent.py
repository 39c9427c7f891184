"""Two ``scelle worker --once`` processes at once purge each due transfer exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests import factories
from tests.integration.test_transfers_api import send

from scelle.db.base import utcnow
from scelle.db.models import AuditEvent, Role, Transfer
from scelle.server.container import Services

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
DUE = 12


def test_two_workers_at_once_never_purge_twice(
    client: TestClient, services: Services, store_env: dict[str, str]
) -> None:
    factories.org(services, "lab-x")
    factories.org(services, "cpam-75")
    ana = factories.member(services, "lab-x", Role.SENDER)
    bob = factories.member(services, "cpam-75", Role.RECIPIENT)
    transfer_ids = [send(client, ana, [bob], b"due %d" % n, expires_in=3600) for n in range(DUE)]
    with services.database.transaction() as session:
        for transfer_id in transfer_ids:
            transfer = session.get(Transfer, transfer_id)
            assert transfer is not None
            transfer.expires_at = utcnow() - timedelta(seconds=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCELLE_")}
    env.update(store_env)
    env["SCELLE_DATA"] = str(services.settings.data)
    workers = [
        subprocess.Popen(
            [str(BIN / "scelle"), "worker", "--once", "--json"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(2)
    ]
    reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        reports.append(json.loads(out))
    assert sum(r["purged"] for r in reports) == DUE
    with services.database.transaction() as session:
        purges = session.scalar(
            select(func.count()).where(AuditEvent.tag == "transfer:content:purge")
        )
    assert purges == DUE
    assert list(services.blobs.list_blobs()) == []


def test_the_purge_lock_makes_a_second_worker_wait(services: Services) -> None:
    """The mechanism itself: while one pass holds the lock, another one waits for its commit."""
    database = services.database
    order: list[str] = []

    def second_pass() -> None:
        with database.transaction() as session:
            database.lock_exclusive(session, "worker:purge")
            order.append("second got the lock")

    with database.transaction() as session:
        database.lock_exclusive(session, "worker:purge")
        other = threading.Thread(target=second_pass)
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()  # still waiting
        order.append("first commits")
    other.join(timeout=30)
    assert order == ["first commits", "second got the lock"]
