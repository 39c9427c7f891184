"""The audit view's pieces that need no database: times, cursors, outcomes, the paging itself."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from scelle.audit import service
from scelle.errors import InvalidInput


def test_times_are_iso_8601_and_utc_when_they_name_no_zone() -> None:
    assert service.parse_moment("2026-12-01T08:00", "from") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    paris = service.parse_moment("2026-12-01T09:00+01:00", "from")
    assert paris is not None
    assert paris.astimezone(UTC) == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert service.parse_moment("2026-12-01T08:00Z", "to") == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert service.parse_moment("", "from") is None
    assert service.parse_moment(None, "from") is None
    for bad in ("hier", "2026-13-01", "1" * 41, "2026-12-01T25:00"):
        with pytest.raises(InvalidInput, match=r"^to is not an ISO 8601 time"):
            service.parse_moment(bad, "to")


def test_a_cursor_is_only_one_the_server_gave() -> None:
    given = service._encode_cursor(12345)
    assert service._decode_cursor(given) == 12345
    forged = [
        "",
        "12345",
        base64.urlsafe_b64encode(b"seq:0").decode(),
        base64.urlsafe_b64encode(b"seq:-4").decode(),
        base64.urlsafe_b64encode(b"seq:1 OR 1=1").decode(),
        base64.urlsafe_b64encode(b"seq:" + b"9" * 30).decode(),
        "\x00\x01",
        "A" * 200,
    ]
    for cursor in forged:
        with pytest.raises(InvalidInput, match="cursor"):
            service._decode_cursor(cursor)


def test_the_outcome_is_read_from_the_tag() -> None:
    assert service.outcome_of("account:login:failure") == "failure"
    assert service.outcome_of("account:login:throttled") == "failure"
    assert service.outcome_of("upload:content:mismatch") == "failure"
    assert service.outcome_of("account:login:success") == "success"
    assert service.outcome_of("transfer:content:purge") == "success"


def test_bad_paging_is_refused_before_any_query() -> None:
    now = datetime.now(UTC)
    refusals = [
        {"limit": 0},
        {"limit": service.MAX_EVENTS_PAGE + 1},
        {"action": "account:%"},
        {"action": "Account"},
        {"action": "a:b:c:d:e"},
        {"start": now, "end": now - timedelta(seconds=1)},
    ]
    for kwargs in refusals:
        with pytest.raises(InvalidInput):
            service.org_events(None, "org_x", **kwargs)  # type: ignore[arg-type]
