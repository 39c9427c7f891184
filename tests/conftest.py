"""Shared fixtures: the stores of a backend, services, and the app over HTTP.

``backend`` is ``"sqlite"`` here (the embedded default); the integration
suite parametrises it over SQLite, PostgreSQL and the full scale stack (see
``tests/backends.py`` and ``tests/integration/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scelle.config import Settings
from scelle.server.app import create_app
from scelle.server.container import Services, build_services
from tests.backends import PostgresDatabases, SeaweedFS, backend_env

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases]:
    """This run's PostgreSQL databases, all dropped at the end of the session."""
    databases = PostgresDatabases()
    try:
        yield databases
    finally:
        databases.drop_all()


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedFS]:
    """A real SeaweedFS S3 server for the session, stopped by PID at the end."""
    server = SeaweedFS(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def store_env(
    backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """``SCELLE_*`` variables of fresh stores for ``backend``, also set in this process."""
    databases = request.getfixturevalue("pg_databases") if backend != "sqlite" else None
    seaweed = request.getfixturevalue("seaweedfs") if backend == "scale" else None
    env = backend_env(backend, databases, seaweed)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    if databases is not None:
        databases.drop(env["SCELLE_DATABASE_URL"].rsplit("/", 1)[1])


@pytest.fixture
def settings(tmp_path: Path, store_env: dict[str, str]) -> Settings:
    return Settings(data=tmp_path / "data")


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    built = build_services(settings)
    yield built
    built.database.dispose()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        yield test_client
