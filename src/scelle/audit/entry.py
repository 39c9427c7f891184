"""The bytes of one audit log entry: what the Merkle tree hashes (leaf = SHA-256(0x00 || entry)).

An entry is the canonical JSON (sorted keys, no spaces, UTF-8, no escaping of
non-ASCII) of the seven fields of an event::

    {"actor_id":..,"at":"2026-12-03T10:13:28.123456Z","data":{..},"object_id":..,
     "org_id":..,"seq":1,"tag":"account:login:success"}

``seq`` starts at 1 and is the leaf index plus one; ``at`` is UTC with
microseconds and a ``Z``; ``data`` is the event's extra fields (scalars only);
absent ids are ``null``. docs/protocol.md ("Audit log") is the reference.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

__all__ = ["canonical_json", "entry_bytes", "format_time", "parse_entry"]

ENTRY_FIELDS = ("actor_id", "at", "data", "object_id", "org_id", "seq", "tag")
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder()


def canonical_json(data: dict[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8: the same event always serialises to the same bytes."""
    return _ENCODER.encode(data)


def format_time(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (raises ValueError for a naive time)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime in an audit entry")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_bytes(
    *,
    seq: int,
    at: datetime,
    tag: str,
    actor_id: str | None,
    org_id: str | None,
    object_id: str | None,
    data: str,
) -> bytes:
    """The canonical entry of an event whose extra fields are the canonical JSON ``data``."""
    return canonical_json(
        {
            "actor_id": actor_id,
            "at": format_time(at),
            "data": json.loads(data),
            "object_id": object_id,
            "org_id": org_id,
            "seq": seq,
            "tag": tag,
        }
    ).encode()


def parse_entry(raw: bytes | str) -> dict[str, Any]:
    """Parse an entry and check it is canonical; raises ValueError with the reason."""
    try:
        text = raw.decode() if isinstance(raw, bytes) else raw
        value = _DECODER.decode(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not JSON") from None
    if not isinstance(value, dict) or tuple(sorted(value)) != ENTRY_FIELDS:
        raise ValueError("not an audit entry (wrong fields)")
    if _ENCODER.encode(value) != text:
        raise ValueError("not in canonical form")
    if not isinstance(value["seq"], int) or not isinstance(value["data"], dict):
        raise ValueError("seq must be an integer and data an object")
    return value
