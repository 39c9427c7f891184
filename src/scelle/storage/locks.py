"""Upload locks: one writer per staged upload, in one process or across many.

``ProcessLocks`` (the embedded default) holds them in memory; ``RedisLocks``
holds them in Redis so that several server processes, on one host or many,
never stream into the same upload at once. A Redis lease expires after
``ttl`` seconds unless renewed: a background thread renews every lease this
process holds, so a lock outlives a slow PATCH but not a dead process.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from typing import Protocol

__all__ = ["Lease", "ProcessLocks", "RedisLocks", "UploadLocks"]


class Lease(Protocol):
    """A held lock."""

    def held(self) -> bool:
        """True while the lock is still this lease's (Redis: not expired, not stolen)."""
        ...

    def release(self) -> None:
        """Give the lock back (idempotent)."""
        ...


class UploadLocks(Protocol):
    """Non-blocking named locks."""

    def try_acquire(self, name: str) -> Lease | None:
        """The lease of ``name``, or None when someone else holds it."""
        ...


class _ProcessLease:
    def __init__(self, owner: ProcessLocks, name: str) -> None:
        self._owner = owner
        self._name = name
        self._released = False

    def held(self) -> bool:
        return not self._released

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._owner._release(self._name)


class ProcessLocks:
    """Locks held in this process's memory (one server process)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held: set[str] = set()

    def try_acquire(self, name: str) -> Lease | None:
        """The lease of ``name``, or None when another request of this process holds it."""
        with self._mutex:
            if name in self._held:
                return None
            self._held.add(name)
        return _ProcessLease(self, name)

    def _release(self, name: str) -> None:
        with self._mutex:
            self._held.discard(name)


# Delete / extend the key only while it still holds our token (no stealing).
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class _RedisLease:
    def __init__(self, owner: RedisLocks, key: str, token: str) -> None:
        self._owner = owner
        self.key = key
        self.token = token
        self._released = False

    def held(self) -> bool:
        if self._released:
            return False
        value: bytes | None = self._owner.client.get(self.key)  # type: ignore[assignment]
        return value is not None and secrets.compare_digest(value, self.token.encode())

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._owner._forget(self)
        self._owner.client.eval(_RELEASE, 1, self.key, self.token)


class RedisLocks:
    """Locks in Redis (``SET NX PX`` with a random token, renewed while held)."""

    def __init__(self, url: str, *, ttl: float = 15.0, prefix: str = "scelle:lock:") -> None:
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._ttl_ms = int(ttl * 1000)
        self._prefix = prefix
        self._mutex = threading.Lock()
        self._leases: set[_RedisLease] = set()
        self._renewer: threading.Thread | None = None
        self._wake = threading.Event()

    def try_acquire(self, name: str) -> Lease | None:
        """The lease of ``name``, or None when any process holds it."""
        key = self._prefix + name
        token = secrets.token_hex(16)
        if not self.client.set(key, token, nx=True, px=self._ttl_ms):
            return None
        lease = _RedisLease(self, key, token)
        with self._mutex:
            self._leases.add(lease)
            if self._renewer is None or not self._renewer.is_alive():
                self._renewer = threading.Thread(
                    target=self._renew_forever, name="scelle-lock-renewer", daemon=True
                )
                self._renewer.start()
        return lease

    def _forget(self, lease: _RedisLease) -> None:
        with self._mutex:
            self._leases.discard(lease)

    def _renew_forever(self) -> None:
        while True:
            self._wake.wait(self._ttl_ms / 3000)
            with self._mutex:
                leases = list(self._leases)
                if not leases:
                    self._renewer = None
                    return
            for lease in leases:
                # Redis away: the lease may lapse; the writer checks held() before it commits.
                with contextlib.suppress(Exception):
                    self.client.eval(_RENEW, 1, lease.key, lease.token, self._ttl_ms)

    def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(self.client.ping())
        except Exception:  # noqa: BLE001
            return False
