"""The service clock never runs backwards, so an expired transfer cannot come back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from scelle.clock import ServiceClock

START = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


class FakeHost:
    """A host whose wall clock an operator (or an intruder) can set."""

    def __init__(self) -> None:
        self.wall = START
        self.monotonic = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.monotonic += seconds


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
def service_clock(host: FakeHost) -> ServiceClock:
    return ServiceClock(wall=lambda: host.wall, monotonic=lambda: host.monotonic)


def test_it_follows_the_wall_clock_while_it_is_sane(
    host: FakeHost, service_clock: ServiceClock
) -> None:
    assert service_clock.now() == START
    host.advance(90)
    assert service_clock.now() == START + timedelta(seconds=90)


def test_a_clock_set_back_keeps_time_flowing_from_the_last_trusted_reading(
    host: FakeHost, service_clock: ServiceClock, caplog: pytest.LogCaptureFixture
) -> None:
    service_clock.now()
    host.wall -= timedelta(days=1)
    with caplog.at_level(logging.WARNING, logger="scelle.clock"):
        assert service_clock.now() == START
        host.advance(30)
        assert service_clock.now() == START + timedelta(seconds=30)
    assert len([r for r in caplog.records if "behind" in r.getMessage()]) == 1


def test_a_clock_set_forward_is_followed(host: FakeHost, service_clock: ServiceClock) -> None:
    service_clock.now()
    host.wall += timedelta(days=1)
    assert service_clock.now() == START + timedelta(days=1)
    host.wall -= timedelta(days=1)  # and set back again: the later reading stays the floor
    assert service_clock.now() == START + timedelta(days=1)


def test_a_recorded_time_from_before_a_restart_is_a_floor(
    host: FakeHost, service_clock: ServiceClock
) -> None:
    recorded = START + timedelta(hours=5)  # the database saw this time before a restart
    service_clock.raise_floor(recorded)
    assert service_clock.now() == recorded
    host.advance(10)
    assert service_clock.now() == recorded + timedelta(seconds=10)


def test_a_floor_in_the_past_changes_nothing(host: FakeHost, service_clock: ServiceClock) -> None:
    service_clock.raise_floor(START - timedelta(days=3))
    service_clock.raise_floor(None)
    service_clock.raise_floor((START - timedelta(hours=1)).replace(tzinfo=None))
    assert service_clock.now() == START


def test_a_drift_of_microseconds_is_absorbed_without_a_warning(
    host: FakeHost, service_clock: ServiceClock, caplog: pytest.LogCaptureFixture
) -> None:
    first = service_clock.now()
    host.wall -= timedelta(microseconds=300)
    with caplog.at_level(logging.WARNING, logger="scelle.clock"):
        assert service_clock.now() >= first
    assert caplog.records == []
