"""Engine, sessions and migrations for the metadata store (SQLite or PostgreSQL).

One request is one transaction: the edge (an endpoint, a CLI command, a worker
pass) opens it with :meth:`Database.transaction`; services and repositories
never commit.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

from sqlalchemy import create_engine, event, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from scelle.crash_points import crash_point
from scelle.errors import ServiceUnavailable

__all__ = ["FAILURE_EVENTS", "Database", "FairLock"]

# Key in ``Session.info`` of writes that must outlive a rollback: a list of
# callables, each appending one audit event to the log (or spending one
# WebAuthn challenge) in the session it is given.
log = logging.getLogger("scelle.db")

FAILURE_EVENTS = "scelle.failure_events"


def _append_failure_events(session: Session, pending: list[Callable[[Session], None]]) -> None:
    for append in pending:
        append(session)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside one writer; synchronous=FULL makes a commit
    # durable before we acknowledge it (an acknowledged upload is never lost).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


# How long a transaction waits for its turn to write before it answers 503.
SQLITE_WRITER_WAIT_SECONDS = 30.0


class FairLock:
    """A FIFO lock with a bounded wait: waiters get it in arrival order.

    SQLite has one write lock and no queue: under many writers its busy
    handler (sleep and retry) lets newcomers overtake those that have waited
    longest, which starve past the busy timeout. In one process, taking this
    lock before ``BEGIN IMMEDIATE`` makes them wait their turn instead. It
    is released by whichever thread ends the transaction (a request may end
    it on another thread than the one that began it), so it has no owner.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        """Wait at most ``timeout`` seconds for the lock, behind earlier waiters."""
        with self._mutex:
            if not self._held and not self._waiters:
                self._held = True
                return True
            turn = threading.Event()
            self._waiters.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            self._waiters.remove(turn)
            return False

    @property
    def waiting(self) -> int:
        """How many are waiting for the lock now."""
        with self._mutex:
            return len(self._waiters)

    def release(self) -> None:
        """Hand the lock to the longest waiter, or free it."""
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().set()  # stays held: handed over, not raced for
            else:
                self._held = False


def _writer_connection_class(lock: FairLock, wait: float) -> type[sqlite3.Connection]:
    """A sqlite3 connection that holds ``lock`` from BEGIN IMMEDIATE until it really ends.

    The lock is given back after the COMMIT or ROLLBACK has run (SQLAlchemy's
    commit events fire before it), so the next writer finds SQLite's write
    lock free and never falls into its busy handler's sleeps.
    """

    class WriterConnection(sqlite3.Connection):
        holds_writer_lock = False

        def begin_immediate(self) -> None:
            if not lock.acquire(wait):
                raise PoolTimeout(f"waited {wait:.0f} s for a turn to write to SQLite")
            self.holds_writer_lock = True
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._release()
                raise

        def _release(self) -> None:
            if self.holds_writer_lock:
                self.holds_writer_lock = False
                lock.release()

        def commit(self) -> None:
            super().commit()  # on failure the transaction is still open: rollback releases
            self._release()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._release()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._release()

    return WriterConnection


def _sqlite_begin_immediate(connection: Connection) -> None:
    raw = connection.connection.dbapi_connection
    begin = getattr(raw, "begin_immediate", None)
    if begin is None:  # not one of ours (a connection made outside Database)
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        begin()


def _advisory_key(name: str) -> int:
    """The PostgreSQL advisory-lock key of the lock ``name``: 8 bytes of a SHA-256."""
    digest = hashlib.sha256(b"scelle/v1/lock/" + name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Database:
    """The metadata store: an engine, a session factory, and its migrations."""

    def __init__(self, url: str, *, pool_size: int = 50) -> None:
        self.url = url
        self.pool_size = pool_size
        self.writer_lock: FairLock | None = None
        # By default as many connections as the server has request threads
        # (anyio's 40) and some, so a burst waits on the database, not on the
        # pool; 10 are kept open, the rest opened on demand. Several processes
        # on one PostgreSQL need processes x pool_size <= its max_connections.
        kept = min(10, pool_size)
        kwargs: dict[str, Any] = {
            "pool_pre_ping": True,
            "pool_size": kept,
            "max_overflow": pool_size - kept,
            "pool_timeout": 30,
        }
        if url.startswith("sqlite"):
            # pysqlite's own transaction handling is turned off: we begin with
            # BEGIN IMMEDIATE so that a transaction takes the write lock up
            # front and waits for it (busy_timeout), instead of failing with
            # "database is locked" when a read turns into a write under load.
            # Writers in this process queue for SQLite's one write lock in
            # arrival order (FIFO) instead of racing its busy handler.
            self.writer_lock = FairLock()
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "isolation_level": None,
                "factory": _writer_connection_class(self.writer_lock, SQLITE_WRITER_WAIT_SECONDS),
            }
        self.engine: Engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
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
            _append_failure_events(session, session.info.pop(FAILURE_EVENTS, []))
            session.commit()
            crash_point("db.committed")
        except (OperationalError, PoolTimeout) as exc:
            session.rollback()
            # The driver's own words ("database is locked", "connection refused"):
            # no statement, no parameters.
            reason = getattr(exc, "orig", None) or exc
            log.warning("database unavailable: %s: %s", type(exc).__name__, str(reason)[:120])
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
        SQLite: the database's one write lock, which every transaction takes
        when it begins (``BEGIN IMMEDIATE``), so what it reads cannot change
        under it. Call it first in the transaction.
        """
        if self.engine.dialect.name == "postgresql":
            session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key(name)}
            )
        elif self.engine.dialect.name == "sqlite":
            # Every SQLite transaction begins with BEGIN IMMEDIATE (see
            # __init__): opening the connection takes the write lock.
            session.connection()

    def _write_failure_events(self, pending: list[Callable[[Session], None]]) -> None:
        if not pending:
            return
        with self.sessions() as session:
            _append_failure_events(session, pending)
            session.commit()

    def latest_recorded_time(self) -> datetime | None:
        """The time of the newest audit event: a moment known to be past (see scelle.clock)."""
        from scelle.db.models import AuditEvent

        with self.sessions() as session:
            latest: datetime | None = session.scalar(select(func.max(AuditEvent.at)))
        if latest is not None and latest.tzinfo is None:
            latest = latest.replace(tzinfo=UTC)
        return latest

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (idempotent).

        A new, empty database gets the schema the models declare in one step and
        is stamped with the newest revision (Alembic's recipe for building a
        database from scratch): a tenth of the time of replaying every migration.
        ``tests/unit/db/test_migrations.py`` proves that replaying them
        (:meth:`upgrade`) builds exactly that schema.
        """
        from alembic import command

        from scelle.db import models  # noqa: F401  (registers every table)
        from scelle.db.base import Base
        from scelle.db.models.audit_tree_state import create_empty_tree

        with self.engine.begin() as connection:
            self._hold_migration_lock(connection)
            cfg = self._alembic_config(connection)
            if inspect(connection).get_table_names():
                command.upgrade(cfg, "head")
            else:
                Base.metadata.create_all(connection)
                create_empty_tree(connection)
                command.stamp(cfg, "head")

    def upgrade(self) -> None:
        """Replay every migration not yet applied, even on an empty database."""
        from alembic import command

        with self.engine.begin() as connection:
            self._hold_migration_lock(connection)
            command.upgrade(self._alembic_config(connection), "head")

    def _hold_migration_lock(self, connection: Connection) -> None:
        """One process at a time migrates: the others wait, then find the schema built.

        Several processes started together on a new PostgreSQL database would
        otherwise all find it empty and all build it (duplicate tables). The
        advisory lock lasts until the migration's transaction ends (PostgreSQL
        DDL is transactional). SQLite: ``BEGIN IMMEDIATE`` already serialises.
        """
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _advisory_key("migrate")}
            )

    def _alembic_config(self, connection: Connection) -> Any:
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(files("scelle.db") / "migrations"))
        cfg.attributes["connection_url"] = self.url
        cfg.attributes["connection"] = connection
        return cfg

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
