"""The Alembic migrations build exactly the schema the models declare.

A model change without its migration (or the reverse) would pass every test
that creates tables from a migrated database and still break an upgrade in
production; this compares the two, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from tests.backends import PostgresDatabases, pg_url

import scelle.db.models  # noqa: F401  (registers every table on Base.metadata)
from scelle.db.base import Base
from scelle.db.engine import Database


def _differences(database: Database) -> list[object]:
    database.migrate()
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_migrations_match_the_models(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'scelle.db'}")
    try:
        assert _differences(database) == []
    finally:
        database.dispose()


@pytest.mark.scale
def test_postgresql_migrations_match_the_models(pg_databases: PostgresDatabases) -> None:
    name = pg_databases.create(migrated=False)
    database = Database(pg_url(name))
    try:
        assert _differences(database) == []
    finally:
        database.dispose()
        pg_databases.drop(name)
