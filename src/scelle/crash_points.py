"""Named crash points for the fault suite (``tests/fault/``).

A crash point is a place where a power cut or a ``kill -9`` would be most
harmful: just after a blob's fsync, between a blob rename and the database
commit that points at it, just after a commit and before its response, in
the middle of a download. The fault suite starts ``scelle serve`` with

    SCELLE_TEST_CRASH_AT=<point>:<n>

and the process kills itself with SIGKILL (no cleanup, no flush, no
``finally``) the n-th time it reaches that point once it serves requests.
Without the variable, which is never set in production, a crash point is a
single comparison.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading

__all__ = ["POINTS", "arm_from_environment", "crash_point", "start_counting"]

POINTS = frozenset(
    {
        "staged.fsynced",  # an upload's bytes are durable, the offset not yet recorded
        "blob.renamed",  # the blob is in place, the database does not point at it yet
        "db.committed",  # a transaction is durable, its response not yet sent
        "download.streaming",  # part of a ciphertext has been sent
    }
)


def _armed() -> tuple[str, int] | None:
    spec = os.environ.get("SCELLE_TEST_CRASH_AT", "")
    if not spec:
        return None
    name, _, count = spec.partition(":")
    if name not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"SCELLE_TEST_CRASH_AT={spec!r}: expected one of {sorted(POINTS)}:N")
    return name, int(count)


_ARMED = _armed()
_hits = itertools.count(1)
_lock = threading.Lock()
_serving = threading.Event()


def arm_from_environment() -> None:
    """Read ``SCELLE_TEST_CRASH_AT`` again, with the count from zero.

    For a server process forked from one that had already imported this module
    (the fault suite's fork server), whose environment was set after the import.
    """
    global _ARMED, _hits  # noqa: PLW0603  (module state of a test-only switch)
    _ARMED = _armed()
    _hits = itertools.count(1)
    _serving.clear()


def start_counting() -> None:
    """Called once the server is up: start-up work (migrations, first commits) never crashes."""
    _serving.set()


def crash_point(name: str) -> None:
    """Kill this process (SIGKILL) if the fault suite armed ``name`` and its count is reached."""
    if _ARMED is None or _ARMED[0] != name or not _serving.is_set():
        return
    with _lock:
        if next(_hits) >= _ARMED[1]:
            os.kill(os.getpid(), signal.SIGKILL)
