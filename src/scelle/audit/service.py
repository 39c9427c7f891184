"""Appending audit events.

Events carry ids, sizes, digests and counts: never a name, an e-mail, a file
name, a secret or health data. Tags follow ``source:subject:action``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy.orm import Session

from scelle.db.base import utcnow
from scelle.db.engine import FAILURE_EVENTS
from scelle.db.models import AuditEvent

__all__ = ["AuditLog", "canonical_json"]

_TAG = re.compile(r"\A[a-z0-9_-]+(:[a-z0-9_-]+){1,3}\Z")
_SAFE_VALUE = (str, int, float, bool, type(None))


def canonical_json(data: dict[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8: the same event always serialises to the same bytes."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditLog:
    """Writes events in the caller's transaction: an event and its cause commit together."""

    def record(
        self,
        session: Session,
        tag: str,
        *,
        actor_id: str | None = None,
        org_id: str | None = None,
        object_id: str | None = None,
        **data: Any,
    ) -> AuditEvent:
        """Append one event. Raises ValueError for a malformed tag or a non-scalar value."""
        event = _event(tag, actor_id, org_id, object_id, data)
        session.add(event)
        session.flush()
        return event

    def record_failure(
        self,
        session: Session,
        tag: str,
        *,
        actor_id: str | None = None,
        org_id: str | None = None,
        object_id: str | None = None,
        **data: Any,
    ) -> None:
        """Record an event that must be kept even though the request fails and rolls back."""
        event = _event(tag, actor_id, org_id, object_id, data)
        session.info.setdefault(FAILURE_EVENTS, []).append(event)


def _event(
    tag: str, actor_id: str | None, org_id: str | None, object_id: str | None, data: dict[str, Any]
) -> AuditEvent:
    if not _TAG.match(tag):
        raise ValueError(f"malformed audit tag {tag!r}")
    for key, value in data.items():
        if not isinstance(value, _SAFE_VALUE):
            raise ValueError(f"audit field {key!r} must be a scalar")
    return AuditEvent(
        tag=tag,
        actor_id=actor_id,
        org_id=org_id,
        object_id=object_id,
        at=utcnow(),
        data=canonical_json(data),
    )
