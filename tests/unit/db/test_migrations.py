"""The Alembic migrations build exactly the schema the models declare.

A model change without its migration (or the reverse) would pass every test
that creates tables from a migrated database and still break an upgrade in
production; this compares the two, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from tests.backends import PostgresDatabases, pg_url

import scelle.db.models  # noqa: F401  (registers every table on Base.metadata)
from scelle.db.base import Base
from scelle.db.engine import Database


def _differences(database: Database) -> list[object]:
    database.upgrade()  # every migration in turn, from an empty database
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


def _rows(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.engine.connect() as connection:
        return {
            table.name: [tuple(row) for row in connection.execute(select(table))]
            for table in Base.metadata.sorted_tables
        }


def test_a_new_database_is_built_in_one_step_like_the_migrations_build_it(
    tmp_path: Path,
) -> None:
    built = Database(f"sqlite:///{tmp_path / 'built.db'}")
    replayed = Database(f"sqlite:///{tmp_path / 'replayed.db'}")
    try:
        built.migrate()
        replayed.upgrade()
        with built.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert list(compare_metadata(context, Base.metadata)) == []
            assert set(context.get_current_heads()) == {database_head()}
        # The same rows too (the audit tree's empty state), not just the same tables.
        assert _rows(built) == _rows(replayed)
        # A second start upgrades from the stamped revision: nothing to replay.
        built.migrate()
        assert _rows(built) == _rows(replayed)
    finally:
        built.dispose()
        replayed.dispose()


def database_head() -> str:
    from importlib.resources import files

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(files("scelle.db") / "migrations"))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


@pytest.mark.scale
def test_processes_started_together_on_a_new_database_build_it_once(
    pg_databases: PostgresDatabases,
) -> None:
    """Four processes migrating one empty PostgreSQL database at once: one builds, all succeed."""
    name = pg_databases.create(migrated=False)
    url = pg_url(name)
    code = "import sys; from scelle.db.engine import Database; Database(sys.argv[1]).migrate()"
    try:
        children = [
            subprocess.Popen(
                [sys.executable, "-c", code, url], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            for _ in range(4)
        ]
        errors = [child.communicate(timeout=120)[1] for child in children]
        assert [child.returncode for child in children] == [0, 0, 0, 0], errors
        database = Database(url)
        try:
            with database.engine.connect() as connection:
                versions = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert len(versions.all()) == 1
            assert _differences(database) == []
        finally:
            database.dispose()
    finally:
        pg_databases.drop(name)
