"""More requests at once than database connections: they queue, none fails.

An operator who runs several processes on one PostgreSQL lowers
``SCELLE_DATABASE_POOL_SIZE`` so that processes x pool fits its
``max_connections``. A burst larger than the pool and than the request
threads (anyio's 40) must then wait its turn and succeed. Before the
connection gate, threads blocked in the pool's checkout could take every
request thread while the requests holding the connections waited for one,
and all waited out the pool's 30 s timeout: a burst of 503s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests import factories
from tests.integration.conftest import LiveServer, start_server, stop_server

from scelle.config import Settings
from scelle.db.models import Role
from scelle.server.container import build_services

pytestmark = [pytest.mark.integration, pytest.mark.slow]

POOL = 2
BURST = 120  # three times the request threads


@pytest.fixture
def small_pool_server(tmp_path: Path, store_env: dict[str, str]) -> Iterator[LiveServer]:
    server = start_server(
        tmp_path / "server-data",
        extra_env={**store_env, "SCELLE_DATABASE_POOL_SIZE": str(POOL)},
    )
    yield server
    stop_server(server)


async def burst(url: str, token: str) -> list[int]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        answers = await asyncio.gather(
            *(
                client.get(
                    url + "/api/v1/transfers",
                    params={"box": "inbox" if n % 2 else "sent"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                for n in range(BURST)
            )
        )
    return [answer.status_code for answer in answers]


def test_a_burst_larger_than_the_pool_waits_and_succeeds(
    small_pool_server: LiveServer, backend: str
) -> None:
    services = build_services(Settings(data=small_pool_server.data), migrate=False)
    try:
        factories.org(services, "lab-x")
        member = factories.member(services, "lab-x", Role.SENDER, Role.RECIPIENT)
    finally:
        services.database.dispose()
    statuses = asyncio.run(burst(small_pool_server.url, member.token))
    assert statuses == [200] * BURST
    assert "database unavailable" not in small_pool_server.log.read_text()
