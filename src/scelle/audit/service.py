"""Appending audit events to the Merkle log, and reading roots and proofs.

Events carry ids, sizes, digests and counts: never a name, an e-mail, a file
name, a secret or health data. Tags follow ``source:subject:action``.

Every event becomes one leaf of an RFC 9162 Merkle tree, in the caller's
transaction: ``seq`` is the new tree size (leaf index ``seq - 1``), assigned
under the lock that a row-locking ``UPDATE`` of ``audit_tree_state`` takes,
so appends are serialised across processes and ``seq`` has no gaps (a rolled
back append takes its leaf with it). That same row holds the frontier (the
at most log2(n) perfect subtrees of the current size), so an append reads one
row, then writes the leaf hash and the perfect subtrees it completes
(amortised two rows) and the new frontier; roots and proofs of any size read
O(log n) nodes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from scelle import ids
from scelle.audit import repository
from scelle.audit.entry import canonical_json, entry_bytes
from scelle.crypto.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    TreeBuilder,
    consistency_ranges,
    inclusion_ranges,
    leaf_hash,
    range_hash,
    range_nodes,
)
from scelle.db.base import utcnow
from scelle.db.engine import FAILURE_EVENTS
from scelle.db.models import AuditCheckpoint, AuditEvent
from scelle.errors import AuditLogInconsistent, Conflict, InvalidInput, NotFound
from scelle.transfers import repository as transfers_repository

if TYPE_CHECKING:
    from scelle.accounts.service import Principal

__all__ = [
    "MAX_EVENTS_PAGE",
    "AuditLog",
    "EventPage",
    "InclusionProof",
    "OrgEvent",
    "canonical_json",
    "checkpoint_of_size",
    "consistency_proof",
    "entry_of",
    "inclusion_proof",
    "latest_checkpoint",
    "latest_leaf",
    "may_read",
    "org_events",
    "parse_moment",
    "readable_proof",
    "root",
    "transfer_events",
]

_TAG = re.compile(r"\A[a-z0-9_-]+(:[a-z0-9_-]+){1,3}\Z")
_SAFE_VALUE = (str, int, float, bool, type(None))


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
        """Append one event (a new leaf); its ``seq`` is set on return.

        Raises ValueError for a malformed tag or a non-scalar value.
        """
        event = _event(tag, actor_id, org_id, object_id, data)
        append(session, event)
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
        """Record an event that must be kept even though the request fails and rolls back.

        It is appended when the transaction ends: in it if it commits, in a
        transaction of its own after the rollback otherwise.
        """
        event = _event(tag, actor_id, org_id, object_id, data)
        session.info.setdefault(FAILURE_EVENTS, []).append(lambda s: append(s, event))


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


def entry_of(event: Any) -> bytes:
    """The canonical entry bytes of an event (an ``AuditEvent`` or a row with its columns)."""
    return entry_bytes(
        seq=event.seq,
        at=event.at,
        tag=event.tag,
        actor_id=event.actor_id,
        org_id=event.org_id,
        object_id=event.object_id,
        data=event.data,
    )


def append(session: Session, event: AuditEvent) -> None:
    """Make ``event`` the next leaf: lock and grow the tree, store its new nodes, add it."""
    size, packed = repository.advance_size(session)
    index = size - 1
    event.seq = size
    event.at = utcnow()  # taken under the lock, so times follow the order of the leaves
    frontier = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
    try:
        builder = TreeBuilder(index, frontier)
    except ValueError:
        raise AuditLogInconsistent("the audit tree state is damaged") from None
    repository.insert_nodes(session, builder.append(leaf_hash(entry_of(event))))
    repository.set_frontier(session, b"".join(builder.frontier))
    session.add(event)
    session.flush()


def _check_size(session: Session, size: int) -> None:
    current = repository.tree_size(session)
    if not 0 <= size <= current:
        raise InvalidInput(f"the tree size must be between 0 and {current}")


def _resolve(session: Session, ranges: list[tuple[int, int]]) -> list[bytes]:
    wanted = [node for start, end in ranges for node in range_nodes(start, end)]
    found = repository.nodes(session, wanted)
    return [range_hash(start, end, found) for start, end in ranges]


def root(session: Session, size: int) -> bytes:
    """The root hash of the first ``size`` leaves. Raises InvalidInput past the tree."""
    _check_size(session, size)
    if size == 0:
        return EMPTY_ROOT
    return _resolve(session, [(0, size)])[0]


@dataclass(frozen=True)
class InclusionProof:
    """Leaf ``index`` (the event of ``seq = index + 1``) in the tree of ``tree_size``."""

    index: int
    tree_size: int
    entry: bytes
    leaf_hash: bytes
    path: list[bytes]


def inclusion_proof(session: Session, index: int, size: int) -> InclusionProof:
    """The entry of leaf ``index`` and its inclusion proof in the tree of ``size``.

    Raises InvalidInput when the size is past the tree or the leaf is not in it.
    """
    _check_size(session, size)
    if not 0 <= index < size:
        raise InvalidInput(f"leaf {index} is not in a tree of size {size}")
    event = repository.event_by_seq(session, index + 1)
    if event is None:
        raise NotFound("no such audit event")
    entry = entry_of(event)
    path = _resolve(session, inclusion_ranges(index, size))
    return InclusionProof(
        index=index, tree_size=size, entry=entry, leaf_hash=leaf_hash(entry), path=path
    )


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The consistency proof from ``old_size`` to ``new_size``. Raises InvalidInput."""
    _check_size(session, new_size)
    if not 0 <= old_size <= new_size:
        raise InvalidInput("the old size must be between 0 and the new size")
    return _resolve(session, consistency_ranges(old_size, new_size))


def may_read(session: Session, principal: Principal, event: AuditEvent) -> bool:
    """Whether ``principal`` may see ``event``: docs/protocol.md ("Who reads the audit log").

    Its actor; the sender and recipients of the transfer it is about; an
    admin of the organisation it belongs to.
    """
    user = principal.user
    if event.actor_id == user.id:
        return True
    if "admin" in principal.scopes and event.org_id == user.org_id:
        return True
    if event.object_id and ids.is_valid(event.object_id, "tr"):
        transfer = transfers_repository.get(session, event.object_id)
        if transfer is not None and (
            transfer.sender_id == user.id
            or transfers_repository.recipient_link(session, transfer.id, user.id) is not None
        ):
            return True
    return False


def readable_proof(
    session: Session, principal: Principal, index: int, size: int | None
) -> tuple[InclusionProof, AuditCheckpoint | None]:
    """The inclusion proof of a leaf the caller may read, with the checkpoint of its size.

    Without ``size``, the proof is against the latest checkpoint. Raises
    NotFound (no such leaf, or one the caller may not read: the same answer),
    Conflict when no checkpoint covers the leaf yet, InvalidInput for a size
    past the tree.
    """
    event = repository.event_by_seq(session, index + 1) if index >= 0 else None
    if event is None or not may_read(session, principal, event):
        raise NotFound("no such audit event")
    checkpoint = None
    if size is None:
        checkpoint = repository.latest_checkpoint(session)
        if checkpoint is None or checkpoint.tree_size <= index:
            raise Conflict("no checkpoint covers this event yet; ask again after the next one")
        size = checkpoint.tree_size
    else:
        checkpoint = repository.checkpoint_by_size(session, size)
    return inclusion_proof(session, index, size), checkpoint


def transfer_events(session: Session, transfer_id: str) -> list[AuditEvent]:
    """The life of one transfer: every event about it, in order (the caller checks access)."""
    return repository.events_for_object(session, transfer_id)


def latest_leaf(session: Session, *, tag: str, object_id: str, actor_id: str | None) -> int | None:
    """The leaf index of the newest event with this tag, object and actor (a receipt's leaf)."""
    seq = repository.latest_seq(session, tag=tag, object_id=object_id, actor_id=actor_id)
    return None if seq is None else seq - 1


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The newest signed checkpoint, if any."""
    return repository.latest_checkpoint(session)


def checkpoint_of_size(session: Session, size: int) -> AuditCheckpoint | None:
    """The checkpoint signed at tree size ``size``, if one was."""
    return repository.checkpoint_by_size(session, size)


MAX_EVENTS_PAGE = 200
# An action prefix: whole or partial ``source:subject:action`` (``account:login``, ``admin:``).
_ACTION_PREFIX = re.compile(r"\A[a-z0-9_-]+(:[a-z0-9_-]*){0,3}\Z")
_CURSOR = re.compile(r"\Aseq:([1-9][0-9]{0,18})\Z")
# The last part of a tag that says the step was refused or went wrong.
_FAILED = frozenset({"failure", "throttled", "mismatch", "corrupt", "passkey_required"})


@dataclass(frozen=True)
class OrgEvent:
    """One audit event as an organisation's admin reads it (ids and an e-mail, no content)."""

    leaf_index: int
    at: datetime
    action: str
    actor_email: str | None
    outcome: str
    transfer_id: str | None


@dataclass(frozen=True)
class EventPage:
    """A page of events, newest first, and the cursor of the next (older) page, if any."""

    events: list[OrgEvent]
    next_cursor: str | None


def _encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = _CURSOR.match(text) if len(cursor) <= 40 else None
    if match is None:
        raise InvalidInput("the cursor is not one this server gave (use next_cursor as is)")
    return int(match.group(1))


def outcome_of(tag: str) -> str:
    """``failure`` for a refused or failed step (``account:login:failure``), else ``success``."""
    return "failure" if tag.rsplit(":", 1)[-1] in _FAILED else "success"


def org_events(
    session: Session,
    org_id: str,
    *,
    action: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> EventPage:
    """The events of one organisation, newest first, ``limit`` at a time (the caller checks access).

    ``action`` keeps the tags that start with it; ``start``/``end`` bound the
    time (inclusive); ``cursor`` is a ``next_cursor`` from an earlier page.
    Raises InvalidInput for a malformed prefix, cursor, range or limit.
    """
    if not 1 <= limit <= MAX_EVENTS_PAGE:
        raise InvalidInput(f"the limit is between 1 and {MAX_EVENTS_PAGE}")
    if action is not None and not _ACTION_PREFIX.match(action):
        raise InvalidInput("the action is a tag or its start, e.g. account:login or admin")
    if start is not None and end is not None and end < start:
        raise InvalidInput("the end of the period is before its start")
    before = _decode_cursor(cursor) if cursor else None
    rows = repository.org_events(
        session,
        org_id,
        tag_prefix=action,
        start=start,
        end=end,
        before_seq=before,
        limit=limit + 1,
    )
    events = [
        OrgEvent(
            leaf_index=row.seq - 1,
            at=row.at,
            action=row.tag,
            actor_email=row.actor_email,
            outcome=outcome_of(row.tag),
            transfer_id=row.object_id
            if row.object_id and ids.is_valid(row.object_id, "tr")
            else None,
        )
        for row in rows[:limit]
    ]
    more = len(rows) > limit
    return EventPage(
        events=events, next_cursor=_encode_cursor(rows[limit - 1].seq) if more else None
    )


def parse_moment(text: str | None, what: str) -> datetime | None:
    """An ISO 8601 time from a query (UTC when it names no zone); None for an empty one.

    Raises InvalidInput that names ``what`` for anything else.
    """
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) > 40:
            raise ValueError(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{what} is not an ISO 8601 time (e.g. 2026-12-01T08:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
