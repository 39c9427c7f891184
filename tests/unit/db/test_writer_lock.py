"""SQLite writers of one process take turns in arrival order, and a long wait is a clean 503."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from scelle.db import engine
from scelle.db.engine import Database, FairLock
from scelle.errors import ServiceUnavailable


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


def test_waiters_get_the_lock_in_arrival_order() -> None:
    lock = FairLock()
    assert lock.acquire(1)
    order: list[int] = []

    def writer(number: int) -> None:
        assert lock.acquire(10)
        order.append(number)
        lock.release()

    threads = []
    for number in range(8):
        thread = threading.Thread(target=writer, args=(number,))
        thread.start()
        threads.append(thread)
        _until(lambda n=number: lock.waiting == n + 1, "the writer never queued")
    lock.release()
    for thread in threads:
        thread.join()
    assert order == list(range(8))
    assert lock.acquire(0)  # free again


def test_a_bounded_wait_gives_up_and_leaves_the_queue() -> None:
    lock = FairLock()
    assert lock.acquire(1)
    assert not lock.acquire(0.05)
    assert lock.waiting == 0
    lock.release()
    assert lock.acquire(0)


def test_a_writer_that_waits_too_long_gets_service_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "SQLITE_WRITER_WAIT_SECONDS", 0.2)
    database = Database(f"sqlite:///{tmp_path / 'scelle.db'}")
    outcome: list[str] = []
    try:
        with database.transaction() as holder:
            holder.execute(text("CREATE TABLE t (x INTEGER)"))

            def other() -> None:
                try:
                    with database.transaction() as session:
                        session.execute(text("INSERT INTO t VALUES (1)"))
                except ServiceUnavailable as exc:
                    outcome.append(f"{exc.status} retry-after {exc.retry_after}")

            thread = threading.Thread(target=other)
            thread.start()
            thread.join()
        assert outcome == ["503 retry-after 1"]
        # The holder's commit handed the lock back: the next writer goes through.
        with database.transaction() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        with database.transaction() as session:
            assert session.execute(text("SELECT x FROM t")).scalars().all() == [2]
        assert database.writer_lock is not None
        assert database.writer_lock.waiting == 0
    finally:
        database.dispose()
