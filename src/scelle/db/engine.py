"""Engine, sessions and migrations for the metadata store (SQLite or PostgreSQL).

One request is one transaction: the edge (an endpoint, a CLI command, a worker
pass) opens it with :meth:`Database.transaction`; services and repositories
never commit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import files
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from scelle.errors import ServiceUnavailable

__all__ = ["FAILURE_EVENTS", "Database"]

# Key in ``Session.info`` of audit events that must outlive a rollback.
FAILURE_EVENTS = "scelle.failure_events"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside one writer; synchronous=FULL makes a commit
    # durable before we acknowledge it (an acknowledged upload is never lost).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    """The metadata store: an engine, a session factory, and its migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        kwargs: dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        elif url.startswith("postgresql"):
            # Requests run in a 40-thread pool; a short wait for a connection beats a failure.
            kwargs.update(pool_size=10, max_overflow=30, pool_timeout=30)
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises.

        Events recorded with ``AuditLog.record_failure`` survive the rollback:
        they are written in a transaction of their own, so a refused action
        changes nothing but is still on the record.
        """
        session = self.sessions()
        try:
            yield session
            session.add_all(session.info.pop(FAILURE_EVENTS, []))
            session.commit()
        except (OperationalError, PoolTimeout) as exc:
            session.rollback()
            raise ServiceUnavailable("the database is unavailable") from exc
        except BaseException:
            session.rollback()
            self._write_failure_events(session.info.pop(FAILURE_EVENTS, []))
            raise
        finally:
            session.close()

    def lock_exclusive(self, session: Session, name: str) -> None:
        """Hold the cross-process lock ``name`` until ``session``'s transaction ends.

        PostgreSQL: a transaction-scoped advisory lock (waits for the holder).
        SQLite: the database's one write lock, taken now (``BEGIN IMMEDIATE``)
        instead of at the first write, so what the transaction reads cannot
        change under it. Call it first in the transaction.
        """
        if self.engine.dialect.name == "postgresql":
            digest = hashlib.sha256(b"scelle/v1/lock/" + name.encode()).digest()
            key = int.from_bytes(digest[:8], "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
        elif self.engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")

    def _write_failure_events(self, events: list[object]) -> None:
        if not events:
            return
        with self.sessions() as session:
            session.add_all(events)
            session.commit()

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(files("scelle.db") / "migrations"))
        cfg.attributes["connection_url"] = self.url
        with self.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError:
            return False
        return True

    def dispose(self) -> None:
        self.engine.dispose()
