"""The service clock: UTC wall time that never runs backwards.

Expiry is how Scellé keeps its promise that every file disappears when its
job is done. If the host's clock is set back (a wrong NTP source, a restored
VM snapshot, an intruder with root), a transfer that has already expired
must not come back to life. So this clock never answers a time earlier than
one it has already vouched for:

* within a process, once the wall clock falls behind, time goes on from the
  latest trusted reading at the pace of the monotonic clock;
* across restarts, the services raise the floor to the latest time the
  database recorded (its newest audit event) before serving anything.

A clock set forward only makes transfers expire early, which is safe; the
audit log shows the jump. A clock set back is logged once, as a warning.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

__all__ = ["ServiceClock", "clock"]

log = logging.getLogger("scelle.clock")
# Wall and monotonic clocks drift apart by microseconds under NTP slewing:
# only a real step back is worth an operator's attention.
WARN_AFTER = timedelta(seconds=2)


class ServiceClock:
    """Wall time, never earlier than a time it already gave or was told is past."""

    def __init__(
        self,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._wall, self._monotonic = wall, monotonic
        self._lock = threading.Lock()
        self._anchor: tuple[datetime, float] | None = None  # (trusted wall time, monotonic)
        self._warned = False

    def _projected(self, monotonic: float) -> datetime | None:
        if self._anchor is None:
            return None
        wall, at = self._anchor
        return wall + timedelta(seconds=max(0.0, monotonic - at))

    def now(self) -> datetime:
        """The current time, timezone-aware UTC; monotonic non-decreasing."""
        wall, monotonic = self._wall(), self._monotonic()
        with self._lock:
            projected = self._projected(monotonic)
            if projected is None or wall >= projected:
                self._anchor = (wall, monotonic)
                return wall
            if not self._warned and projected - wall > WARN_AFTER:
                self._warned = True
                log.warning(
                    "the system clock is %.0f s behind the last trusted time; "
                    "Scellé keeps time from that point (fix the host's clock)",
                    (projected - wall).total_seconds(),
                )
            return projected

    def raise_floor(self, moment: datetime | None) -> None:
        """Never answer a time before ``moment`` (a time already recorded as past)."""
        if moment is None:
            return
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        monotonic = self._monotonic()
        with self._lock:
            projected = self._projected(monotonic)
            if (projected is None or moment > projected) and moment > self._wall():
                self._anchor = (moment, monotonic)


clock = ServiceClock()
