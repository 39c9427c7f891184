"""More concurrent requests than request threads, all waiting to write: every one completes.

A request's transaction spans several thread hops (dependencies, then the
endpoint). If the requests waiting for SQLite's write lock held all of
anyio's 40 request threads, the one holding the lock could never get a
thread to finish, and all would wait out the 30 s bound and answer 503
(what the soak saw from 50 clients on). The waiting happens on threads of
their own, so here 45 requests queue behind a held lock and all answer 200.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from tests import factories

from scelle.db.models import Role
from scelle.server.container import Services

# More than anyio's 40 request threads, fewer than the 50 pooled connections
# (a waiting request holds one: past 50, the pool's own 30 s bound applies).
REQUESTS = 45


def test_requests_waiting_to_write_never_starve_the_lock_holder(
    client: TestClient, services: Services
) -> None:
    factories.org(services, "lab-x")
    member = factories.member(services, "lab-x", Role.SENDER)
    lock = services.database.writer_lock
    assert lock is not None
    headers = {"Authorization": f"Bearer {member.token}"}
    assert lock.acquire(5)
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        try:
            futures = [
                pool.submit(client.get, "/api/v1/me", headers=headers) for _ in range(REQUESTS)
            ]
            deadline = time.monotonic() + 60
            while lock.waiting < REQUESTS:
                assert time.monotonic() < deadline, f"only {lock.waiting} requests queued"
                time.sleep(0.01)
        finally:
            lock.release()
        statuses = [future.result(timeout=120).status_code for future in futures]
    assert statuses == [200] * REQUESTS
    assert lock.waiting == 0
